package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
)

const secret = "shpss_e2e_secret"

// server is a tari-payment-server started through run() on a loopback port.
type server struct {
	t     *testing.T
	c     *apitest.Client
	admin apitest.Wallet
	tok   string // super_admin access token
	hot   apitest.Wallet
	pay   apitest.Wallet
	nonce int64
	out   *lockedBuf
	stop  func() error
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

var runMu sync.Mutex // onListen is package state: one server starts at a time

// dbURLs are the databases every flow runs on.
func dbURLs(t *testing.T) map[string]func(t testing.TB) string {
	m := map[string]func(t testing.TB) string{"sqlite": storetest.SQLiteURL}
	if os.Getenv(storetest.PostgresEnv) != "" {
		m["postgres"] = storetest.PostgresURL
	}
	return m
}

// eachDB runs fn with a fresh server per database.
func eachDB(t *testing.T, env map[string]string, fn func(t *testing.T, s *server)) {
	for name, url := range dbURLs(t) {
		t.Run(name, func(t *testing.T) { fn(t, start(t, url(t), env)) })
	}
}

func start(t *testing.T, dbURL string, env map[string]string) *server {
	t.Helper()
	s := &server{t: t, admin: apitest.NewWallet(), hot: apitest.NewWallet(), pay: apitest.NewWallet(), out: &lockedBuf{}}
	key := tari.GenerateSecretKey()
	vars := map[string]string{
		"TPG_HOST": "127.0.0.1", "TPG_PORT": "0", "TPG_DATABASE_URL": dbURL,
		"TPG_JWT_SIGNING_KEY": key.Hex(), "TPG_JWT_VERIFICATION_KEY": key.PublicKey().Hex(),
		"TPG_PAYMENT_WALLET_ADDRESS": s.pay.Addr.Base58(), "TPG_SHOPIFY_HMAC_SECRET": secret,
		"TPG_SHOPIFY_API_URL": "http://127.0.0.1:1/admin/api/2026-10", // unreachable: no Shopify in these flows
	}
	for k, v := range env {
		vars[k] = v
	}
	// Bootstrap as a merchant does with taritools setup add-user: roles and
	// the hot wallet straight into the database.
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(db, engine.DefaultConfig())
	if err := eng.AssignRoles(context.Background(), s.admin.Addr, []core.Role{core.RoleSuperAdmin}, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()

	runMu.Lock()
	addrCh := make(chan string, 1)
	onListen = func(a string) { addrCh <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return vars[k] }, s.out, s.out) }()
	var addr string
	select {
	case addr = <-addrCh:
	case err := <-done:
		runMu.Unlock()
		t.Fatalf("run: %v\n%s", err, s.out.String())
	case <-time.After(3 * time.Minute): // building default plugins on a cold cache takes a while
		t.Fatal("server did not start")
	}
	onListen = nil
	runMu.Unlock()
	s.stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(40 * time.Second):
			return fmt.Errorf("server did not stop")
		}
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	s.c = apitest.New(t, "http://"+addr)
	s.tok = s.c.Login(s.admin, "super_admin")
	r := s.c.Do("POST", "/api/wallets", map[string]any{"address": s.hot.Addr.Base58(), "ip_address": "127.0.0.1"}, apitest.Auth(s.tok))
	if r.Status != 200 {
		t.Fatalf("register wallet: %d %s", r.Status, r.Body)
	}
	return s
}

func (s *server) adm(method, path string, body any) apitest.Response {
	s.t.Helper()
	return s.c.Do(method, path, body, apitest.Auth(s.tok))
}

func (s *server) webhook(topic string, body []byte) apitest.Response {
	s.t.Helper()
	return s.c.Do("POST", "/shopify/webhook/"+topic, body, apitest.ShopifyHeaders(secret, body))
}

func (s *server) order(id, customer, price string, note *string) {
	s.t.Helper()
	b, _ := json.Marshal(map[string]any{"id": id, "name": "#" + id, "currency": "XTR", "created_at": "2024-03-01T10:00:00Z",
		"total_price": price, "customer": map[string]any{"id": customer}, "note": note})
	if r := s.webhook("checkout_create", b); !strings.Contains(string(r.Body), `"success":true`) {
		s.t.Fatalf("order %s: %d %s", id, r.Status, r.Body)
	}
}

func (s *server) payIn(sender tari.Address, amount int64, txid string, memo, orderID *string) {
	s.t.Helper()
	s.nonce++
	r := s.c.Do("POST", "/wallet/incoming_payment", apitest.WalletPaymentBody(s.hot, s.nonce, apitest.NewPayment{Sender: sender, Amount: amount, TxID: txid, Memo: memo, OrderID: orderID}), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"success":true`) {
		s.t.Fatalf("payment %s: %d %s", txid, r.Status, r.Body)
	}
}

func (s *server) confirm(txid string) {
	s.t.Helper()
	s.nonce++
	r := s.c.Do("POST", "/wallet/tx_confirmation", apitest.WalletConfirmationBody(s.hot, s.nonce, txid), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"success":true`) {
		s.t.Fatalf("confirm %s: %d %s", txid, r.Status, r.Body)
	}
}

func (s *server) status(id string) core.OrderStatus {
	s.t.Helper()
	var o *core.Order
	s.adm("GET", "/api/order/id/"+id, nil).JSON(s.t, &o)
	if o == nil {
		s.t.Fatalf("order %s not found", id)
	}
	return o.Status
}

func (s *server) balance(a tari.Address) core.AddressBalance {
	s.t.Helper()
	var b core.AddressBalance
	s.adm("GET", "/api/balance/"+a.Base58(), nil).JSON(s.t, &b)
	return b
}

// TestWalkthrough is the seed's walkthrough: the storefront's order webhook
// (a real Shopify payload, converted at an exchange rate set through the
// API), a claim by the customer's wallet, the payment and its confirmation
// reported by the hot wallet, and the order is Paid.
func TestWalkthrough(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, s *server) {
		if r := s.adm("POST", "/api/exchange_rate", map[string]any{"currency": "QAR", "rate": 2_500_000}); r.Status != 200 {
			t.Fatalf("rate: %d %s", r.Status, r.Body)
		}
		body, _ := os.ReadFile("testdata/new_order.json")
		if r := s.webhook("checkout_create", body); string(r.Body) != `{"success":true,"message":"Order processed successfully."}` {
			t.Fatalf("webhook: %d %s", r.Status, r.Body)
		}
		if st := s.status("5714720719169"); st != core.OrderUnclaimed {
			t.Fatal(st)
		}
		cust := apitest.NewWallet()
		r := s.c.Do("POST", "/order/claim", tari.SignMemo(cust.Key, cust.Addr, "5714720719169"), nil)
		var claimed map[string]any
		r.JSON(t, &claimed)
		if r.Status != 200 || claimed["status"] != "New" || claimed["total_price"] != float64(475_000_000) {
			t.Fatalf("claim: %d %s", r.Status, r.Body)
		}
		s.payIn(cust.Addr, 475_000_000, "tx-walk", nil, nil)
		if st := s.status("5714720719169"); st != core.OrderNew {
			t.Fatalf("paid before confirmation: %s", st)
		}
		s.confirm("tx-walk")
		if st := s.status("5714720719169"); st != core.OrderPaid {
			t.Fatalf("after confirmation: %s", st)
		}
		// The customer sees it with their own token.
		tok := s.c.Login(cust, "user")
		r = s.c.Do("GET", "/api/orders", nil, apitest.Auth(tok))
		if !strings.Contains(string(r.Body), `"status":"Paid"`) {
			t.Fatalf("%s", r.Body)
		}
		if b := s.balance(cust.Addr); b.CurrentBalance != 0 || b.TotalPaid != 475_000_000 {
			t.Fatalf("%+v", b)
		}
		// The access log has the webhook line.
		if !strings.Contains(s.out.String(), `"POST /shopify/webhook/checkout_create HTTP/1.1" 200 ua:"Go-http-client/1.1"`) {
			t.Fatal("no access log line")
		}
	})
}

// TestPayFirstOrderLater: a wallet pays with a signed memo before the order
// exists; when the order arrives it is claimed and paid at once.
func TestPayFirstOrderLater(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, s *server) {
		cust := apitest.NewWallet()
		memo := tari.SignMemo(cust.Key, cust.Addr, "2001").JSON()
		s.payIn(cust.Addr, 10_000_000, "tx-early", &memo, nil)
		s.confirm("tx-early")
		s.order("2001", "zoe", "10", nil)
		if st := s.status("2001"); st != core.OrderPaid {
			t.Fatal(st)
		}
	})
}

// TestOverpaymentAndPartialPayments: an overpayment stays as credit and pays
// the customer's next order; two partial payments pay an order together.
func TestOverpaymentAndPartialPayments(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, s *server) {
		cust := apitest.NewWallet()
		s.order("3001", "yan", "10", nil)
		if r := s.c.Do("POST", "/order/claim", tari.SignMemo(cust.Key, cust.Addr, "3001"), nil); r.Status != 200 {
			t.Fatal(r.Status)
		}
		s.payIn(cust.Addr, 25_000_000, "tx-over", nil, nil)
		s.confirm("tx-over")
		if st := s.status("3001"); st != core.OrderPaid {
			t.Fatal(st)
		}
		if b := s.balance(cust.Addr); b.CurrentBalance != 15_000_000 {
			t.Fatalf("credit %+v", b)
		}
		s.order("3002", "yan", "15", nil) // auto-claimed and paid from the credit
		if st := s.status("3002"); st != core.OrderPaid {
			t.Fatal(st)
		}
		// Partial payments.
		s.order("3003", "yan", "8", nil)
		if r := s.c.Do("POST", "/order/claim", tari.SignMemo(cust.Key, cust.Addr, "3003"), nil); r.Status != 200 {
			t.Fatal(r.Status)
		}
		s.payIn(cust.Addr, 3_000_000, "tx-part1", nil, nil)
		s.confirm("tx-part1")
		if st := s.status("3003"); st != core.OrderNew {
			t.Fatalf("paid by a partial payment: %s", st)
		}
		s.payIn(cust.Addr, 5_000_000, "tx-part2", nil, nil)
		s.confirm("tx-part2")
		if st := s.status("3003"); st != core.OrderPaid {
			t.Fatal(st)
		}
		if b := s.balance(cust.Addr); b.CurrentBalance != 0 {
			t.Fatalf("%+v", b)
		}
	})
}

// TestExpiry: the expiry worker expires unclaimed and unpaid orders on its
// interval, each after its own timeout.
func TestExpiry(t *testing.T) {
	env := map[string]string{"TPG_UNCLAIMED_ORDER_TIMEOUT": "1s", "TPG_UNPAID_ORDER_TIMEOUT": "2s", "TPG_EXPIRY_CHECK_INTERVAL": "100ms"}
	eachDB(t, env, func(t *testing.T, s *server) {
		s.order("4001", "xia", "10", nil)
		s.order("4002", "xia", "10", nil)
		early := apitest.NewWallet()
		if r := s.c.Do("POST", "/order/claim", tari.SignMemo(early.Key, early.Addr, "4002"), nil); r.Status != 200 {
			t.Fatal(r.Status)
		}
		waitFor := func(id string) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for s.status(id) != core.OrderExpired {
				if time.Now().After(deadline) {
					t.Fatalf("order %s did not expire", id)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		waitFor("4001")
		if st := s.status("4002"); st != core.OrderNew {
			t.Fatalf("claimed order expired with the unclaimed timeout: %s", st)
		}
		waitFor("4002")
		// An expired order cannot be claimed (D2).
		cust := apitest.NewWallet()
		if r := s.c.Do("POST", "/order/claim", tari.SignMemo(cust.Key, cust.Addr, "4001"), nil); r.Status != 400 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

// TestAdminFixes: credit, fulfil, cancel, reassign, price, memo and settle
// through the API, with a write (not super_admin) token.
func TestAdminFixes(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, s *server) {
		clerk := apitest.NewWallet()
		if r := s.adm("POST", "/api/roles", []map[string]any{{"address": clerk.Addr.Base58(), "apply": []string{"write", "read_all"}}}); r.Status != 200 {
			t.Fatal(r.Status)
		}
		ct := apitest.Auth(s.c.Login(clerk, "write", "read_all", "user"))
		do := func(method, path string, body any, want int) apitest.Response {
			t.Helper()
			r := s.c.Do(method, path, body, ct)
			if r.Status != want {
				t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
			}
			return r
		}
		for _, id := range []string{"5001", "5002", "5003", "5004", "5005"} {
			s.order(id, "vic", "10", nil)
		}
		do("POST", "/api/fulfill", map[string]any{"order_id": "5001", "reason": "Redeem voucher"}, 200)
		do("POST", "/api/cancel", map[string]any{"order_id": "5002", "reason": "Out of stock"}, 200)
		do("PATCH", "/api/order_memo", map[string]any{"order_id": "5003", "new_memo": "fragile"}, 200)
		do("PATCH", "/api/reassign_order", map[string]any{"order_id": "5003", "new_customer_id": "wes", "reason": "moved"}, 200)
		// A credit note for vic pays vic's oldest open order that it covers.
		r := do("POST", "/api/credit", map[string]any{"customer_id": "vic", "amount": 10_000_000, "reason": "sorry"}, 200)
		if !strings.Contains(string(r.Body), `"order_id":"5004"`) {
			t.Fatalf("credit paid %s", r.Body)
		}
		// Price: claim 5005 for a wallet with 4 T, drop the price to 4 T: paid.
		cust := apitest.NewWallet()
		if r := s.c.Do("POST", "/order/claim", tari.SignMemo(cust.Key, cust.Addr, "5005"), nil); r.Status != 200 {
			t.Fatal(r.Status)
		}
		s.payIn(cust.Addr, 4_000_000, "tx-4", nil, nil)
		s.confirm("tx-4")
		if st := s.status("5005"); st != core.OrderNew {
			t.Fatal(st)
		}
		do("PATCH", "/api/order_price", map[string]any{"order_id": "5005", "new_price": 4_000_000, "reason": "discount"}, 200)
		if st := s.status("5005"); st != core.OrderPaid {
			t.Fatal(st)
		}
		// Settle: wes's order 5003 gets paid once wes has funds.
		w2 := apitest.NewWallet()
		s.order("5006", "wes", "1", nil)
		if r := s.c.Do("POST", "/order/claim", tari.SignMemo(w2.Key, w2.Addr, "5006"), nil); r.Status != 200 {
			t.Fatal(r.Status)
		}
		s.payIn(w2.Addr, 11_000_000, "tx-wes", nil, nil)
		s.confirm("tx-wes")
		r = do("POST", "/api/settle/customer/wes", nil, 200)
		if st := s.status("5003"); st != core.OrderPaid {
			t.Fatalf("settle: %s %s", st, r.Body)
		}
		want := map[string]core.OrderStatus{"5001": core.OrderPaid, "5002": core.OrderCancelled, "5004": core.OrderPaid}
		for id, st := range want {
			if got := s.status(id); got != st {
				t.Errorf("%s: %s, want %s", id, got, st)
			}
		}
	})
}

// TestStrictMode: a payment naming the Shopify order name (#alt id) matches
// only when strict mode is off (D5).
func TestStrictMode(t *testing.T) {
	for _, strict := range []string{"true", "false"} {
		t.Run("strict="+strict, func(t *testing.T) {
			eachDB(t, map[string]string{"TPG_STRICT_MODE": strict}, func(t *testing.T, s *server) {
				cust := apitest.NewWallet()
				s.order("6001", "uma", "10", nil) // alt id "#6001"
				s.payIn(cust.Addr, 10_000_000, "tx-alt", nil, apitest.Str("#6001"))
				s.confirm("tx-alt")
				got := s.status("6001")
				if strict == "true" && got != core.OrderUnclaimed || strict == "false" && got != core.OrderPaid {
					t.Fatalf("strict=%s: %s", strict, got)
				}
			})
		})
	}
}

// TestHMACOff: with checks explicitly off, unsigned webhooks create orders.
func TestHMACOff(t *testing.T) {
	eachDB(t, map[string]string{"TPG_SHOPIFY_HMAC_CHECKS": "false", "TPG_SHOPIFY_HMAC_SECRET": ""}, func(t *testing.T, s *server) {
		b := []byte(`{"id":7001,"currency":"XTR","created_at":"2024-03-01T10:00:00Z","total_price":"1.5","customer":{"id":1}}`)
		if r := s.c.Do("POST", "/shopify/webhook/checkout_create", b, nil); !strings.Contains(string(r.Body), `"success":true`) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	eachDB(t, map[string]string{"TPG_SHOPIFY_HMAC_SECRET": ""}, func(t *testing.T, s *server) {
		b := []byte(`{"id":7001}`)
		if r := s.c.Do("POST", "/shopify/webhook/checkout_create", b, nil); r.Status != 503 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

// TestForwardedHeadersAndNonceReplay: behind a proxy the wallet's IP comes
// from X-Forwarded-For; a replayed notification is refused.
func TestForwardedHeadersAndNonceReplay(t *testing.T) {
	eachDB(t, map[string]string{"TPG_USE_X_FORWARDED_FOR": "on"}, func(t *testing.T, s *server) {
		proxied := apitest.NewWallet()
		if r := s.adm("POST", "/api/wallets", map[string]any{"address": proxied.Addr.Emoji(), "ip_address": "203.0.113.7", "initial_nonce": 10}); r.Status != 200 {
			t.Fatal(r.Status)
		}
		sender := apitest.NewWallet()
		body := apitest.WalletPaymentBody(proxied, 11, apitest.NewPayment{Sender: sender.Addr, Amount: 1_000_000, TxID: "tx-fwd"})
		if r := s.c.Do("POST", "/wallet/incoming_payment", body, nil); r.Status != 401 {
			t.Fatalf("direct: %d", r.Status)
		}
		xff := map[string]string{"X-Forwarded-For": "203.0.113.7"}
		if r := s.c.Do("POST", "/wallet/incoming_payment", body, xff); r.Status != 200 {
			t.Fatalf("proxied: %d %s", r.Status, r.Body)
		}
		if r := s.c.Do("POST", "/wallet/incoming_payment", body, xff); r.Status != 401 || len(r.Body) != 0 {
			t.Fatalf("replay: %d %s", r.Status, r.Body)
		}
		conf := apitest.WalletConfirmationBody(proxied, 12, "tx-fwd")
		if r := s.c.Do("POST", "/wallet/tx_confirmation", conf, xff); !strings.Contains(string(r.Body), "confirmed successfully") {
			t.Fatalf("%s", r.Body)
		}
		if r := s.c.Do("POST", "/wallet/tx_confirmation", conf, xff); r.Status != 401 {
			t.Fatalf("confirmation replay: %d", r.Status)
		}
	})
}

// TestStartupWithoutConfiguration: no keys → development keys in an
// owner-only file, reused on restart; bad configuration fails with a message.
func TestStartupWithoutConfiguration(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dir, "data", "tari_store.db")
	env := map[string]string{"TPG_PORT": "0", "TPG_DATABASE_URL": dbURL}
	runOnce := func() string {
		runMu.Lock()
		defer runMu.Unlock()
		var out lockedBuf
		ctx, cancel := context.WithCancel(context.Background())
		onListen = func(string) { cancel() }
		defer func() { onListen = nil }()
		if err := run(ctx, nil, func(k string) string { return env[k] }, &out, &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		return out.String()
	}
	log1 := runOnce()
	keyFile := filepath.Join(dir, "data", "dev-jwt-keys.json")
	st, err := os.Stat(keyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	b1, _ := os.ReadFile(keyFile)
	if !strings.Contains(log1, "The JWT signing key has not been set") || strings.Contains(log1, strings.Split(string(b1), `"`)[3]) {
		t.Fatalf("warnings missing or key logged:\n%s", log1)
	}
	runOnce()
	if b2, _ := os.ReadFile(keyFile); !bytes.Equal(b1, b2) {
		t.Fatal("development keys changed on restart")
	}
	k := tari.GenerateSecretKey()
	bad := []map[string]string{
		{"TPG_JWT_SIGNING_KEY": k.Hex(), "TPG_JWT_VERIFICATION_KEY": tari.GenerateSecretKey().PublicKey().Hex()},
		{"TPG_JWT_SIGNING_KEY": k.Hex()},
		{"TPG_PAYMENT_WALLET_ADDRESS": "not-an-address"},
		{"TPG_STRICT_MODE": "maybe"},
	}
	for _, extra := range bad {
		vars := map[string]string{"TPG_PORT": "0", "TPG_DATABASE_URL": dbURL}
		for k, v := range extra {
			vars[k] = v
		}
		var out bytes.Buffer
		err := run(context.Background(), nil, func(k string) string { return vars[k] }, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "preflight") {
			t.Errorf("%v: %v", extra, err)
		}
	}
	// --help prints the help and exits cleanly.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out, &out); err != nil || !strings.Contains(out.String(), "TPG_DATABASE_URL") {
		t.Fatalf("%v %s", err, out.String())
	}
}

// TestGracefulShutdown: on cancellation (SIGINT/SIGTERM in main) the server
// stops accepting, lets an in-flight request finish, and run returns cleanly.
func TestGracefulShutdown(t *testing.T) {
	arrived := make(chan struct{}, 1)
	slowShop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		time.Sleep(700 * time.Millisecond)
		io.WriteString(w, `{"data":{"orders":{"pageInfo":{"hasNextPage":false},"nodes":[]}}}`)
	}))
	defer slowShop.Close()
	s := start(t, storetest.SQLiteURL(t), map[string]string{"TPG_SHOPIFY_API_URL": slowShop.URL, "TPG_SHOPIFY_ADMIN_ACCESS_TOKEN": "shpat_x"})
	done := make(chan apitest.Response, 1)
	go func() { done <- s.adm("POST", "/api/rescan_open_orders", nil) }()
	<-arrived
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()
	r := <-done
	if r.Status != 200 || string(r.Body) != "[]" {
		t.Fatalf("in-flight request: %d %s", r.Status, r.Body)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	s.stop = func() error { return nil }
	if _, err := http.Get(s.c.BaseURL + "/health"); err == nil {
		t.Fatal("still accepting after shutdown")
	}
	if !strings.Contains(s.out.String(), "level=INFO msg=stopped") {
		t.Fatalf("%s", s.out.String())
	}
}
