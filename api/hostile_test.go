package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/api/shopify/shopifytest"
	"github.com/tari-payment/tps/core/store"
)

// dbSnapshot is the row count of every table plus the contents that an
// update in place would change (orders and balances), so "no state change"
// covers inserts, deletes and updates.
type dbSnapshot struct {
	Counts   map[string]int
	Orders   []string
	Balances []string
}

func snapshot(t *testing.T, db *store.DB) dbSnapshot {
	t.Helper()
	ctx := context.Background()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if db.Kind == store.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	}
	var tables []string
	if err := db.NewRaw(q).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	s := dbSnapshot{Counts: map[string]int{}}
	for _, tb := range tables {
		var n int
		if err := db.NewRaw("SELECT count(*) FROM "+tb).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		s.Counts[tb] = n
	}
	if err := db.NewRaw(`SELECT order_id || '|' || status || '|' || CAST(total_price AS TEXT) || '|' || customer_id || '|' || COALESCE(memo, '')
		FROM orders ORDER BY order_id`).Scan(ctx, &s.Orders); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw(`SELECT account || '|' || CAST(total_confirmed AS TEXT) || '|' || CAST(total_paid AS TEXT) || '|' || CAST(pending AS TEXT)
		FROM account_balances ORDER BY account`).Scan(ctx, &s.Balances); err != nil {
		t.Fatal(err)
	}
	return s
}

func (h *harness) assertUnchanged(before dbSnapshot, what string) {
	h.t.Helper()
	after := snapshot(h.t, h.db)
	if !reflect.DeepEqual(before, after) {
		h.t.Fatalf("%s changed the database:\nbefore %+v\nafter  %+v", what, before, after)
	}
}

// assertRejected: a 4xx, with a JSON {"error"} body (the reference's empty
// 401 of the wallet routes and empty 404 of unknown paths excepted), never 5xx.
func assertRejected(t *testing.T, what string, r apitest.Response) {
	t.Helper()
	if r.Status < 400 || r.Status >= 500 {
		t.Errorf("%s: %d %.200s, want a 4xx", what, r.Status, r.Body)
		return
	}
	if len(r.Body) == 0 && (r.Status == http.StatusUnauthorized || r.Status == http.StatusNotFound) {
		return
	}
	var e map[string]any
	if json.Unmarshal(r.Body, &e) != nil || e["error"] == nil || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s: %d %q (%s) is not a JSON error", what, r.Status, r.Body, r.Header.Get("Content-Type"))
	}
}

// wrongTypes yields, for every leaf of a valid JSON body, copies of the body
// with that leaf replaced by values of the wrong JSON type.
func wrongTypes(valid any) map[string]any {
	out := map[string]any{}
	var walk func(path string, v any, set func(any) any)
	walk = func(path string, v any, set func(any) any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(path+"."+k, x[k], func(nv any) any {
					c := map[string]any{}
					for kk, vv := range x {
						c[kk] = vv
					}
					c[k] = nv
					return set(c)
				})
			}
		case []any:
			for i := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), x[i], func(nv any) any {
					c := append([]any(nil), x...)
					c[i] = nv
					return set(c)
				})
			}
			out[path+"=object"] = set(map[string]any{"x": 1})
		case string:
			out[path+"=number"] = set(12345)
			out[path+"=array"] = set([]any{x})
			out[path+"=object"] = set(map[string]any{"v": x})
			out[path+"=bool"] = set(true)
			out[path+"=nul"] = set(x + "\x00")
		case float64:
			out[path+"=string"] = set(fmt.Sprint(x))
			out[path+"=fraction"] = set(x + 0.5)
			out[path+"=huge"] = set(json.Number("1e400"))
			out[path+"=bool"] = set(false)
		case bool:
			out[path+"=string"] = set("true")
		}
	}
	walk("", valid, func(v any) any { return v })
	return out
}

func asJSONValue(t *testing.T, v any) any {
	t.Helper()
	var out any
	if err := json.Unmarshal(mustJSON(t, v), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHostileInput sends every route malformed, oversized, wrongly typed and
// duplicate input: each is refused with a 4xx JSON error (never a 5xx) and
// leaves the database exactly as it was.
func TestHostileInput(t *testing.T) {
	eachDB(t, map[string]string{"TPG_RATE_LIMIT_PER_SECOND": "0", "TPG_RATE_LIMIT_WALLET_FAILURES_PER_SECOND": "0"}, func(t *testing.T, h *harness) {
		// Some state for the requests to (not) change.
		h.setRate("USD", 250_000)
		customer := apitest.NewWallet()
		h.order("h1", "cust", "10", apitest.Str(signMemo(customer, "h1")))
		h.order("h2", "cust", "20", nil)
		h.payIn(customer.Addr, 1_000_000, "tx-h1", nil, apitest.Str("h1"))
		admin := apitest.Auth(h.adminT)
		newAddr := apitest.NewWallet().Addr.Base58()

		valid := map[string]any{
			"POST /order/claim":                        map[string]any{"address": customer.Addr.Base58(), "order_id": "h2", "signature": tariSig(t, customer, "h2")},
			"POST /wallet/incoming_payment":            apitest.WalletPaymentBody(h.hot, 1_000_000, apitest.NewPayment{Sender: customer.Addr, Amount: 5, TxID: "tx-new", OrderID: apitest.Str("h2")}),
			"POST /wallet/tx_confirmation":             apitest.WalletConfirmationBody(h.hot, 1_000_001, "tx-h1"),
			"POST /api/credit":                         map[string]any{"customer_id": "cust", "amount": 1000, "reason": "r"},
			"POST /api/fulfill":                        map[string]any{"order_id": "h2", "reason": "r"},
			"POST /api/cancel":                         map[string]any{"order_id": "h2", "reason": "r"},
			"PATCH /api/order_memo":                    map[string]any{"order_id": "h2", "new_memo": "m", "reason": "r"},
			"PATCH /api/order_price":                   map[string]any{"order_id": "h2", "new_price": 7, "reason": "r"},
			"PATCH /api/reassign_order":                map[string]any{"order_id": "h2", "new_customer_id": "c9", "reason": "r"},
			"POST /api/roles":                          []any{map[string]any{"address": newAddr, "apply": []any{"write"}, "revoke": []any{"read_all"}}},
			"POST /api/wallets":                        map[string]any{"address": newAddr, "ip_address": "10.0.0.1", "initial_nonce": 3},
			"POST /api/exchange_rate":                  map[string]any{"currency": "EUR", "rate": 300000},
			"POST /shopify/webhook/no_op":              nil,
			"POST /shopify/webhook/checkout_create":    nil,
			"POST /shopify/webhook/product_updated":    nil,
			"POST /shopify/webhook/transaction_create": nil,
		}
		malformed := []string{"", "{", "[", "nul", "{\"order_id\":\"h2\",}", "\x00\xff", "{\"a\":" + strings.Repeat("[", 5000), `{"order_id":"h2"} {"order_id":"h1"}`,
			`{"id":"a\u0000","order_id":"h\u0000","currency":"XTR","created_at":"2024-03-01T10:00:00Z","total_price":"1","reason":"r"}`}
		oversized := `{"order_id":"` + strings.Repeat("x", maxBodyBytes) + `"}`

		base := snapshot(t, h.db)
		sent := 0
		for _, rt := range h.srv.routes() {
			key := rt.method + " " + rt.path
			v, hasBody := valid[key]
			if !hasBody {
				continue
			}
			hdr := map[string]string{}
			if rt.guard == guardJWT {
				hdr = admin
			}
			send := func(what string, body []byte) apitest.Response {
				t.Helper()
				h2 := map[string]string{}
				for k, x := range hdr {
					h2[k] = x
				}
				if rt.guard == guardShopify {
					h2["X-Shopify-Hmac-Sha256"] = ShopifyHMAC(hmacSecret, body)
				}
				sent++
				return h.c.Do(rt.method, rt.path, body, h2)
			}
			for _, b := range malformed {
				r := send("malformed", []byte(b))
				if rt.path == "/shopify/webhook/no_op" && (b == `{"order_id":"h2"} {"order_id":"h1"}` || strings.HasPrefix(b, `{"id"`)) {
					continue // no_op takes any JSON value (stream) and stores nothing
				}
				assertRejected(t, fmt.Sprintf("%s malformed %.20q", key, b), r)
			}
			r := send("oversized", []byte(oversized))
			if r.Status != http.StatusRequestEntityTooLarge {
				t.Errorf("%s oversized: %d", key, r.Status)
			}
			assertRejected(t, key+" oversized", r)
			if v != nil {
				cases := wrongTypes(asJSONValue(t, v))
				names := make([]string, 0, len(cases))
				for n := range cases {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					b := mustJSON(t, cases[n])
					assertRejected(t, key+" "+n, send(n, b))
				}
			}
			h.assertUnchanged(base, key)
		}
		if sent < 250 {
			t.Fatalf("only %d hostile requests", sent)
		}

		// Path parameters and query strings of the body-less routes.
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/order/id/%00"}, {"GET", "/api/balance/not-an-address"}, {"GET", "/api/history/address/x"},
			{"GET", "/api/orders/%F0%9F"}, {"GET", "/api/payments/" + strings.Repeat("1", 5000)},
			{"GET", "/api/search/orders?count=-1"}, {"GET", "/api/search/orders?since=yesterday"},
			{"GET", "/api/search/orders?until=2024-13-45T99:99:99Z"}, {"GET", "/api/search/orders?nope=1"},
			{"GET", "/api/search/orders?count=1&count=x"}, {"GET", "/api/search/orders?memo=%00"}, {"GET", "/api/search/orders?order_id=a%00b"},
			{"GET", "/api/history/customer/%00"}, {"POST", "/api/settle/customer/x%00"}, {"PATCH", "/api/reset_order/%00"}, {"GET", "/api/customer_ids?offset=1e3"},
			{"GET", "/api/addresses?count=99999999999999999999"}, {"GET", "/api/exchange_rate/NOPE"},
			{"GET", "/api/payments-for-order/%2F..%2F"}, {"GET", "/api/history/customer/nobody"},
			{"POST", "/api/settle/address/not-an-address"}, {"POST", "/api/settle/customer/nobody"},
			{"PATCH", "/api/reset_order/nope"}, {"DELETE", "/api/wallets/not-an-address"}, {"DELETE", "/api/wallets/" + newAddr},
			{"POST", "/api/plugins/deliveries/abc/redeliver"}, {"POST", "/api/plugins/deliveries/-1/redeliver"},
			{"POST", "/api/plugins/deliveries/99999999999999999999/redeliver"}, {"POST", "/api/plugins/deliveries/8/redeliver"},
			{"POST", "/api/plugins/%00/enable"}, {"POST", "/api/plugins/Webhook/enable"}, {"POST", "/api/plugins/nope/enable"},
			{"POST", "/api/plugins/" + strings.Repeat("a", 5000) + "/enable"}, {"POST", "/api/plugins/..%2Fwebhook/enable"},
		} {
			r := h.c.Do(c.method, c.path, nil, admin)
			if r.Status == 200 && (strings.HasPrefix(c.path, "/api/history/customer/") || strings.HasPrefix(c.path, "/api/payments-for-order/") ||
				strings.HasPrefix(c.path, "/api/settle/customer/")) {
				continue // unknown ids: empty results, as the reference (checked unchanged below)
			}
			assertRejected(t, c.method+" "+c.path, r)
		}
		// Malformed tokens on /auth and on a guarded route.
		for _, tok := range []string{"garbage", "a.b.c", "eyJ9.eyJ9.AA", strings.Repeat("x", 8000), h.adminT + "x"} {
			assertRejected(t, "/auth "+tok[:5], h.c.Do("POST", "/auth", nil, map[string]string{headerLoginToken: tok}))
			assertRejected(t, "/api/credit token "+tok[:5], h.c.Do("POST", "/api/credit", valid["POST /api/credit"], apitest.Auth(tok)))
		}
		h.assertUnchanged(base, "path parameters, query strings and tokens")

		// Duplicates: the first delivery may change state, the same input again
		// must not.
		payment := apitest.WalletPaymentBody(h.hot, h.nextNonce(), apitest.NewPayment{Sender: customer.Addr, Amount: 2_000_000, TxID: "tx-dup", OrderID: apitest.Str("h2")})
		if r := h.do("POST", "/wallet/incoming_payment", payment, ""); r.Status != 200 || !strings.Contains(string(r.Body), `"success":true`) {
			t.Fatalf("first payment: %d %s", r.Status, r.Body)
		}
		order := mustJSON(t, map[string]any{"id": "h3", "currency": "XTR", "created_at": "2024-03-01T10:00:00Z", "total_price": "3", "customer": map[string]any{"id": "cust"}})
		wh := apitest.ShopifyHeaders(hmacSecret, order)
		wh["X-Shopify-Event-Id"] = "evt-dup"
		if r := h.c.Do("POST", "/shopify/webhook/checkout_create", order, wh); r.Status != 200 {
			t.Fatalf("first webhook: %d", r.Status)
		}
		login := apitest.LoginToken(t, customer, 77)
		if r := h.c.Do("POST", "/auth", nil, map[string]string{headerLoginToken: login}); r.Status != 200 {
			t.Fatalf("first login: %d %s", r.Status, r.Body)
		}
		base = snapshot(t, h.db)
		assertRejected(t, "replayed payment", h.do("POST", "/wallet/incoming_payment", payment, ""))
		assertRejected(t, "replayed login", h.c.Do("POST", "/auth", nil, map[string]string{headerLoginToken: login}))
		// Same payment with a fresh nonce and the same order again: acknowledged, not stored twice.
		again := apitest.WalletPaymentBody(h.hot, h.nextNonce(), apitest.NewPayment{Sender: customer.Addr, Amount: 2_000_000, TxID: "tx-dup", OrderID: apitest.Str("h2")})
		if r := h.do("POST", "/wallet/incoming_payment", again, ""); r.Status != 200 || !strings.Contains(string(r.Body), "already exists") {
			t.Fatalf("duplicate txid: %d %s", r.Status, r.Body)
		}
		if r := h.c.Do("POST", "/shopify/webhook/checkout_create", order, wh); r.Status != 200 {
			t.Fatalf("duplicate webhook: %d", r.Status)
		}
		delete(wh, "X-Shopify-Event-Id")
		if r := h.c.Do("POST", "/shopify/webhook/checkout_create", order, wh); r.Status != 200 || !strings.Contains(string(r.Body), "already exists") {
			t.Fatalf("same order, new delivery: %d %s", r.Status, r.Body)
		}
		h.assertUnchanged(base, "duplicates")
	})
}

func tariSig(t *testing.T, w apitest.Wallet, orderID string) string {
	t.Helper()
	var m struct {
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal([]byte(signMemo(w, orderID)), &m); err != nil {
		t.Fatal(err)
	}
	return m.Signature
}

// TestProductWebhookWorkIsBounded: a product body listing a variant many
// times, or more variants than Shopify allows, costs at most one Admin API
// call per distinct variant, up to Shopify's limit (found by fuzzing: a body
// with tens of thousands of variants held a request for a minute).
func TestProductWebhookWorkIsBounded(t *testing.T) {
	defer func(n int) { maxProductVariants = n }(maxProductVariants)
	maxProductVariants = 100 // the real 2048 costs 2048 loopback calls per run
	eachDB(t, nil, func(t *testing.T, h *harness) {
		h.setRate("USD", 40_000_000)
		h.shop.AddVariant(11, shopifytest.Variant{ProductID: 1, Price: "1.00"})
		h.shop.AddVariant(int64(70000+maxProductVariants+5), shopifytest.Variant{ProductID: 1, Price: "1.00"})
		var b strings.Builder
		b.WriteString(`{"id":1,"variants":[`)
		for i := 0; i < 20000; i++ {
			fmt.Fprintf(&b, `{"id":11},`)
		}
		for i := 0; i < maxProductVariants+10; i++ {
			fmt.Fprintf(&b, `{"id":%d},`, 70000+i) // the last ones are past the cap
		}
		b.WriteString(`{"id":11}]}`)
		start := time.Now()
		if r := h.webhook("product_updated", []byte(b.String())); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if u := h.shop.Updates(); len(u) != 1 || u[0] != "gid://shopify/ProductVariant/11=40000000" {
			t.Fatalf("updates %v", u)
		}
		t.Logf("%d variant entries handled in %v", 20000+maxProductVariants+11, time.Since(start))
	})
}

// TestServerTimeouts: a slow or idle client cannot hold a connection for
// ever, and headers are bounded.
func TestServerTimeouts(t *testing.T) {
	s := NewHTTPServer("127.0.0.1:0", http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.ReadHeaderTimeout > 30*time.Second || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 ||
		s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes > 1<<20 {
		t.Fatalf("%+v", s)
	}
}
