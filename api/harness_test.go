package api

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/api/shopify"
	"github.com/tari-payment/tps/api/shopify/shopifytest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/config"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
)

const hmacSecret = "my_secret"

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	t      *testing.T
	db     *store.DB
	eng    *engine.Engine
	srv    *Server
	ts     *httptest.Server
	c      *apitest.Client
	shop   *shopifytest.Fake
	cfg    config.Config
	admin  apitest.Wallet
	adminT string
	hot    apitest.Wallet // registered hot wallet at 127.0.0.1
	pay    apitest.Wallet // TPG_PAYMENT_WALLET_ADDRESS
	access *syncBuffer
	logs   *syncBuffer
	plug   *fakePlugins
	nonce  int64
}

// newHarness starts a server on db with env overrides on top of test defaults.
func newHarness(t *testing.T, db *store.DB, env map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, db: db, shop: newFakeShop(), admin: apitest.NewWallet(), hot: apitest.NewWallet(),
		pay: apitest.NewWallet(), access: &syncBuffer{}, logs: &syncBuffer{}, plug: &fakePlugins{}}
	t.Cleanup(h.shop.Close)
	vars := map[string]string{
		"TPG_SHOPIFY_HMAC_SECRET":        hmacSecret,
		"TPG_SHOPIFY_API_URL":            h.shop.APIURL(),
		"TPG_SHOPIFY_ADMIN_ACCESS_TOKEN": "shpat_test",
		"TPG_PAYMENT_WALLET_ADDRESS":     h.pay.Addr.Base58(),
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	h.cfg = cfg
	ecfg := engine.DefaultConfig()
	ecfg.StrictMode = cfg.StrictMode
	ecfg.DisableMemoSignatureCheck = cfg.DisableMemoSignatureCheck
	ecfg.OrderIDField = cfg.ShopifyOrderIDField
	ecfg.UnclaimedTimeout, ecfg.UnpaidTimeout = cfg.UnclaimedOrderTimeout, cfg.UnpaidOrderTimeout
	h.eng = engine.New(db, ecfg)
	h.srv = New(Options{Config: cfg, Engine: h.eng, ServerKey: tari.GenerateSecretKey(), Plugins: h.plug, Shopify: fastShopifyClient(cfg),
		Logger: slog.New(slog.NewTextHandler(h.logs, nil)), AccessLog: h.access})
	h.ts = httptest.NewServer(h.srv.Handler())
	t.Cleanup(h.ts.Close)
	h.c = apitest.New(t, h.ts.URL)
	ctx := context.Background()
	if err := h.eng.AssignRoles(ctx, h.admin.Addr, []core.Role{core.RoleSuperAdmin}, nil); err != nil {
		t.Fatal(err)
	}
	h.adminT = h.c.Login(h.admin, "super_admin")
	if err := h.eng.RegisterWallet(ctx, h.hot.Addr, "127.0.0.1", 0); err != nil {
		t.Fatal(err)
	}
	return h
}

// eachDB runs fn on SQLite and, when configured, PostgreSQL, with a harness.
func eachDB(t *testing.T, env map[string]string, fn func(t *testing.T, h *harness)) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) { fn(t, newHarness(t, db, env)) })
}

// user returns an access token for a fresh wallet holding roles (assigned in
// the DB first) and asking for them.
func (h *harness) user(roles ...string) (apitest.Wallet, string) {
	h.t.Helper()
	w := apitest.NewWallet()
	var rs []core.Role
	for _, r := range roles {
		if r != "user" {
			rs = append(rs, core.Role(r))
		}
	}
	if len(rs) > 0 {
		if err := h.eng.AssignRoles(context.Background(), w.Addr, rs, nil); err != nil {
			h.t.Fatal(err)
		}
	}
	return w, h.c.Login(w, roles...)
}

func (h *harness) do(method, path string, body any, token string) apitest.Response {
	h.t.Helper()
	var hdr map[string]string
	if token != "" {
		hdr = apitest.Auth(token)
	}
	return h.c.Do(method, path, body, hdr)
}

// webhook posts a signed Shopify webhook body.
func (h *harness) webhook(topic string, body []byte) apitest.Response {
	h.t.Helper()
	return h.c.Do(http.MethodPost, "/shopify/webhook/"+topic, body, apitest.ShopifyHeaders(hmacSecret, body))
}

func (h *harness) nextNonce() int64 { h.nonce++; return h.nonce }

// pay notifies a payment from sender through the registered hot wallet.
func (h *harness) payIn(sender tari.Address, amount int64, txid string, memo, orderID *string) apitest.Response {
	h.t.Helper()
	return h.c.Do(http.MethodPost, "/wallet/incoming_payment",
		apitest.WalletPaymentBody(h.hot, h.nextNonce(), apitest.NewPayment{Sender: sender, Amount: amount, TxID: txid, Memo: memo, OrderID: orderID}), nil)
}

func (h *harness) confirm(txid string) apitest.Response {
	h.t.Helper()
	return h.c.Do(http.MethodPost, "/wallet/tx_confirmation", apitest.WalletConfirmationBody(h.hot, h.nextNonce(), txid), nil)
}

// order creates an order through the checkout_create webhook, in XTR.
func (h *harness) order(id, customer, price string, note *string) {
	h.t.Helper()
	body := map[string]any{"id": id, "name": "#" + id, "currency": "XTR", "created_at": "2024-03-01T10:00:00Z",
		"total_price": price, "customer": map[string]any{"id": customer}, "note": note}
	b := mustJSON(h.t, body)
	r := h.webhook("checkout_create", b)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"success":true`) {
		h.t.Fatalf("order %s: %d %s", id, r.Status, r.Body)
	}
}

func (h *harness) setRate(cur string, rate int64) {
	h.t.Helper()
	if _, err := h.eng.SetExchangeRate(context.Background(), cur, core.MicroTari(rate)); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) getOrder(id string) core.Order {
	h.t.Helper()
	o, err := h.eng.OrderByID(context.Background(), id)
	if err != nil || o == nil {
		h.t.Fatalf("order %s: %v", id, err)
	}
	return *o
}

// fakePlugins is an in-test PluginAdmin.
type fakePlugins struct {
	mu          sync.Mutex
	redelivered []int64
}

func (f *fakePlugins) Plugins(context.Context) (any, error) {
	return []map[string]any{{"id": "webhook", "events": []string{"OrderPaid"}}}, nil
}
func (f *fakePlugins) FailedDeliveries(context.Context) (any, error) {
	return []map[string]any{{"id": 7, "plugin": "webhook", "attempts": 5}}, nil
}
func (f *fakePlugins) Redeliver(_ context.Context, id int64) error {
	if id != 7 {
		return ErrDeliveryNotFound
	}
	f.mu.Lock()
	f.redelivered = append(f.redelivered, id)
	f.mu.Unlock()
	return nil
}
func (f *fakePlugins) RedeliverAll(context.Context) (int, error)      { return 1, nil }
func (f *fakePlugins) ReloadPlugins(ctx context.Context) (any, error) { return f.Plugins(ctx) }

// RemovePlugin knows "gone" (removed) and "webhook" (still installed).
func (f *fakePlugins) RemovePlugin(_ context.Context, id string) error {
	switch id {
	case "gone":
		return nil
	case "webhook":
		return ErrPluginInstalled
	}
	return ErrPluginNotFound
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signMemo is the MemoSignature JSON a customer wallet puts in a note or memo.
func signMemo(w apitest.Wallet, orderID string) string {
	return tari.SignMemo(w.Key, w.Addr, orderID).JSON()
}

// newFakeShop starts the fake Shopify with the harness's fixed token.
func newFakeShop() *shopifytest.Fake {
	f := shopifytest.New("cid", "csecret")
	f.AddStaticToken("shpat_test")
	return f
}

// fastShopifyClient is the server's Admin client without the waits between
// retries, so a Shopify outage fails a test request at once.
func fastShopifyClient(cfg config.Config) *shopify.Client {
	c := shopify.NewFromConfig(cfg, nil)
	c.Sleep = func(context.Context, time.Duration) error { return nil }
	return c
}
