package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
	"github.com/tari-payment/tps/test/dbcheck"
)

const forbiddenClaim = "Cannot complete this request. The requested order change is forbidden."

func (h *harness) invariantsHold() {
	h.t.Helper()
	bad, err := dbcheck.Invariants(context.Background(), h.db)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, b := range bad {
		h.t.Error(b)
	}
}

func (h *harness) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.db.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// orderIDsOf lists the order ids of an /api/orders, /api/history or
// /api/unfulfilled_orders answer.
func orderIDsOf(t *testing.T, r apitest.Response) []string {
	t.Helper()
	var v struct {
		Orders []core.Order `json:"orders"`
	}
	r.JSON(t, &v)
	var ids []string
	for _, o := range v.Orders {
		ids = append(ids, o.OrderID)
	}
	return ids
}

// D26: knowing an order number, with any key, reveals nothing and takes
// nothing over.
func TestClaimsRevealNothing(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		victim, victimT := h.user("user")
		h.order("2001", "vic", "10", nil)
		h.order("2002", "vic", "20", nil)
		h.order("2003", "vic", "30", nil)
		if r := h.c.Do("POST", "/order/claim", tari.SignMemo(victim.Key, victim.Addr, "2001"), nil); r.Status != 200 {
			t.Fatalf("victim claim: %d %s", r.Status, r.Body)
		}
		h.payIn(victim.Addr, 10_000_000, "v1", nil, nil)
		h.confirm("v1") // 2001 Paid
		if r := h.c.Do("POST", "/order/claim", tari.SignMemo(victim.Key, victim.Addr, "2002"), nil); r.Status != 200 {
			t.Fatalf("victim claim: %d %s", r.Status, r.Body)
		}

		// A key made a second ago: the victim's New order, its Paid order
		// and unknown orders all get one answer.
		attacker, attackerT := h.user("user")
		for _, id := range []string{"2001", "2002", "no-such-order", "99999"} {
			r := h.c.Do("POST", "/order/claim", tari.SignMemo(attacker.Key, attacker.Addr, id), nil)
			if r.Status != 400 || r.Error() != forbiddenClaim {
				t.Fatalf("claim %s: %d %s", id, r.Status, r.Body)
			}
		}
		// Its claimant may claim it again (nothing changes).
		if r := h.c.Do("POST", "/order/claim", tari.SignMemo(victim.Key, victim.Addr, "2002"), nil); r.Status != 200 {
			t.Fatalf("second claim by its claimant: %d %s", r.Status, r.Body)
		}
		// A payment of 0 µT naming the victim's order is refused and links nothing (D27).
		if r := h.payIn(attacker.Addr, 0, "zero", nil, apitest.Str("2002")); !strings.Contains(string(r.Body), `"success":false`) {
			t.Fatalf("0 µT payment: %s", r.Body)
		}
		// The attacker can still claim an Unclaimed order (the seed guide's
		// rule), which links it to the customer; it still sees only that order.
		if r := h.c.Do("POST", "/order/claim", tari.SignMemo(attacker.Key, attacker.Addr, "2003"), nil); r.Status != 200 {
			t.Fatalf("claim of an Unclaimed order: %d %s", r.Status, r.Body)
		}
		for _, p := range []string{"/api/orders", "/api/history", "/api/unfulfilled_orders"} {
			if ids := orderIDsOf(t, h.do("GET", p, nil, attackerT)); len(ids) != 1 || ids[0] != "2003" {
				t.Fatalf("attacker %s: %v", p, ids)
			}
		}
		for _, id := range []string{"2001", "2002"} {
			if r := h.do("GET", "/api/order/id/"+id, nil, attackerT); string(r.Body) != "null" {
				t.Fatalf("attacker reads %s: %s", id, r.Body)
			}
		}
		// Settling pays what it paid before, but answers only about the
		// caller's own orders.
		if r := h.do("POST", "/api/settle", nil, attackerT); r.Status != 200 || strings.Contains(string(r.Body), `"2002"`) {
			t.Fatalf("settle: %d %s", r.Status, r.Body)
		}
		// The victim sees what it claimed and paid, not the attacker's claim.
		if ids := orderIDsOf(t, h.do("GET", "/api/orders", nil, victimT)); strings.Join(ids, ",") != "2001,2002" {
			t.Fatalf("victim orders: %v", ids)
		}
		// A real payment naming an order shows that order to its sender,
		// and no other order of the customer.
		payer, payerT := h.user("user")
		h.payIn(payer.Addr, 1_000_000, "named", nil, apitest.Str("2002"))
		if ids := orderIDsOf(t, h.do("GET", "/api/orders", nil, payerT)); strings.Join(ids, ",") != "2002" {
			t.Fatalf("payer orders: %v", ids)
		}
		if r := h.do("GET", "/api/order/id/2002", nil, payerT); !strings.Contains(string(r.Body), `"order_id":"2002"`) {
			t.Fatalf("payer reads the order it named: %s", r.Body)
		}
		// Admin views are unchanged: the attacker's address is linked to vic.
		_, ro := h.user("read_all")
		if ids := orderIDsOf(t, h.do("GET", "/api/orders/"+attacker.Addr.Base58(), nil, ro)); len(ids) != 3 {
			t.Fatalf("admin view: %v", ids)
		}
		h.invariantsHold()
	})
}

// D27: amounts that are not money are refused at every door and store nothing.
func TestAmountsAreMoneyThroughTheServer(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		// Shopify orders: negative, zero and absurd totals.
		for i, price := range []string{"-5.00", "0.00", "0", "99999999999999"} {
			id := fmt.Sprint(3000 + i)
			b := mustJSON(t, map[string]any{"id": id, "currency": "XTR", "created_at": "2024-03-01T10:00:00Z", "total_price": price, "customer": map[string]any{"id": 9}})
			r := h.webhook("checkout_create", b)
			if r.Status != 200 || !strings.Contains(string(r.Body), `"success":false`) {
				t.Fatalf("total %s: %d %s", price, r.Status, r.Body)
			}
		}
		if n := h.count("SELECT COUNT(*) FROM orders"); n != 0 {
			t.Fatalf("%d orders stored", n)
		}
		// Wallet payments: 0, above the supply, 2^63-1.
		w := apitest.NewWallet()
		for i, a := range []int64{0, int64(core.MaxSupply) + 1, math.MaxInt64} {
			r := h.payIn(w.Addr, a, fmt.Sprint("big", i), nil, nil)
			if r.Status != 200 || !strings.Contains(string(r.Body), `"success":false`) {
				t.Fatalf("payment %d: %d %s", a, r.Status, r.Body)
			}
		}
		if n := h.count("SELECT COUNT(*) FROM payments"); n != 0 {
			t.Fatalf("%d payments stored", n)
		}
		// Two payments of the whole supply are fine, and the account stays readable.
		for _, tx := range []string{"s1", "s2"} {
			h.payIn(w.Addr, int64(core.MaxSupply), tx, nil, nil)
			h.confirm(tx)
		}
		_, wt := h.user("write")
		_, ro := h.user("read_all")
		for _, p := range []string{"/api/balance/", "/api/history/address/"} {
			if r := h.do("GET", p+w.Addr.Base58(), nil, ro); r.Status != 200 {
				t.Fatalf("%s: %d %s", p, r.Status, r.Body)
			}
		}
		// Credits, rates and prices.
		h.order("3100", "cus", "5", nil)
		for _, c := range []struct {
			method, path string
			body         map[string]any
		}{
			{"POST", "/api/credit", map[string]any{"customer_id": "cus", "amount": 0}},
			{"POST", "/api/credit", map[string]any{"customer_id": "cus", "amount": -150_000_000}},
			{"POST", "/api/credit", map[string]any{"customer_id": "cus", "amount": int64(math.MaxInt64)}},
			{"POST", "/api/exchange_rate", map[string]any{"currency": "EUR", "rate": 0}},
			{"POST", "/api/exchange_rate", map[string]any{"currency": "EUR", "rate": int64(core.MaxSupply) + 1}},
			{"PATCH", "/api/order_price", map[string]any{"order_id": "3100", "new_price": 0}},
			{"PATCH", "/api/order_price", map[string]any{"order_id": "3100", "new_price": -1}},
		} {
			if r := h.do(c.method, c.path, c.body, wt); r.Status != 400 {
				t.Fatalf("%s %s %v: %d %s", c.method, c.path, c.body, r.Status, r.Body)
			}
		}
		if n := h.count("SELECT COUNT(*) FROM exchange_rates"); n != 0 {
			t.Fatalf("%d rates stored", n)
		}
		if n := h.count("SELECT COUNT(*) FROM payments WHERE payment_type = 'manual'"); n != 0 {
			t.Fatalf("%d credit notes stored", n)
		}
		// Login nonces above 2^63-1 are refused (the reference stored
		// 2^64-1 as -1, so nonce 0 logged in again).
		u := apitest.NewWallet()
		for _, n := range []uint64{math.MaxUint64, math.MaxInt64 + 1} {
			r := h.c.Do("POST", "/auth", nil, map[string]string{"tpg_auth_token": apitest.LoginToken(t, u, n)})
			if r.Status != 401 {
				t.Fatalf("nonce %d: %d %s", n, r.Status, r.Body)
			}
		}
		if r := h.c.Do("POST", "/auth", nil, map[string]string{"tpg_auth_token": apitest.LoginToken(t, u, 0)}); r.Status != 200 {
			t.Fatalf("nonce 0 after refused ones: %d %s", r.Status, r.Body)
		}
		// A wallet nonce above 2^63-1 is refused before anything else.
		body := apitest.WalletPaymentBody(h.hot, 1, apitest.NewPayment{Sender: w.Addr, Amount: 5, TxID: "wrap"})
		raw := strings.Replace(string(mustJSON(t, body)), `"nonce":1,`, `"nonce":18446744073709551615,`, 1)
		if r := h.c.Do("POST", "/wallet/incoming_payment", []byte(raw), nil); r.Status != 400 || h.count("SELECT COUNT(*) FROM payments WHERE txid = 'wrap'") != 0 {
			t.Fatalf("wallet nonce 2^64-1: %d %s", r.Status, r.Body)
		}
		h.invariantsHold()
	})
}

// D28: revoking a role takes effect at once, for tokens already issued.
func TestRevocationIsImmediate(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		reader, readerT := h.user("user", "read_all")
		if r := h.do("GET", "/api/wallets", nil, readerT); r.Status != 200 {
			t.Fatalf("before: %d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/api/roles", []map[string]any{{"address": reader.Addr.Base58(), "apply": []string{}, "revoke": []string{"read_all"}}}, h.adminT); r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if r := h.do("GET", "/api/wallets", nil, readerT); r.Status != 403 || r.Error() != msgACL {
			t.Fatalf("after: %d %s", r.Status, r.Body)
		}
		// The token still works for what every address may do, and its
		// admin branch of /api/order/id is gone too.
		h.order("4001", "c", "1", nil)
		if r := h.do("GET", "/api/check_token", nil, readerT); r.Status != 200 {
			t.Fatalf("check_token: %d", r.Status)
		}
		if r := h.do("GET", "/api/order/id/4001", nil, readerT); string(r.Body) != "null" {
			t.Fatalf("order by id after revocation: %s", r.Body)
		}
		// Assigning it again restores the same token.
		if r := h.do("POST", "/api/roles", []map[string]any{{"address": reader.Addr.Base58(), "apply": []string{"read_all"}, "revoke": []string{}}}, h.adminT); r.Status != 200 {
			t.Fatalf("re-apply: %d %s", r.Status, r.Body)
		}
		if r := h.do("GET", "/api/wallets", nil, readerT); r.Status != 200 {
			t.Fatalf("re-applied: %d %s", r.Status, r.Body)
		}
	})
}

// An order in a currency without a rate is refused as the reference does,
// but logged at WARN with its id and counted; a rescan after the rate is set
// recovers it.
func TestOrderWithoutRateIsLoggedAndRecovered(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		b := mustJSON(t, map[string]any{"id": "5001", "name": "#5001", "currency": "EUR", "created_at": "2024-03-01T10:00:00Z", "total_price": "12.00", "customer": map[string]any{"id": 3}})
		if r := h.webhook("checkout_create", b); r.Status != 200 || !strings.Contains(string(r.Body), `"success":false`) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if !regexp.MustCompile(`level=WARN msg="shopify order not stored: no exchange rate.*order_id=5001 currency=EUR`).MatchString(h.logs.String()) {
			t.Fatalf("no WARN with the order id:\n%s", h.logs.String())
		}
		wantMetric(t, h.scrape(), "tps_shopify_orders_without_rate_total", `{currency="EUR"}`, 1)
		h.setRate("EUR", 2_000_000)
		h.shop.SetOpenOrders([]map[string]any{{"id": "gid://shopify/Order/5001", "name": "#5001", "createdAt": "2024-03-01T10:00:00Z",
			"currencyCode": "EUR", "totalPrice": "12.00", "customer": map[string]any{"id": "gid://shopify/Customer/3"}}})
		_, w := h.user("write")
		if r := h.do("POST", "/api/rescan_open_orders", nil, w); r.Status != 200 || !strings.Contains(string(r.Body), "Order processed successfully.") {
			t.Fatalf("rescan: %d %s", r.Status, r.Body)
		}
		if o := h.getOrder("5001"); o.TotalPrice != 24_000_000 {
			t.Fatalf("%+v", o)
		}
	})
}

// With forwarding headers trusted, a forwarded loopback address is limited
// like any other; a loopback peer without one stays exempt.
func TestForwardedLoopbackIsNotExempt(t *testing.T) {
	eachDB(t, map[string]string{"TPG_USE_X_FORWARDED_FOR": "true", "TPG_RATE_LIMIT_BURST": "3", "TPG_RATE_LIMIT_PER_SECOND": "0.01"}, func(t *testing.T, h *harness) {
		limited := false
		for i := 0; i < 10 && !limited; i++ {
			r := h.c.Do("GET", "/wallet/send_to", nil, map[string]string{"X-Forwarded-For": "127.0.0.1"})
			limited = r.Status == http.StatusTooManyRequests
		}
		if !limited {
			t.Fatal("a forwarded 127.0.0.1 was never limited")
		}
		for i := 0; i < 10; i++ {
			if r := h.c.Do("GET", "/wallet/send_to", nil, nil); r.Status != 200 {
				t.Fatalf("loopback peer without a forwarded header: %d", r.Status)
			}
		}
	})
}

// Every answer carries X-Request-Id; a 500 says only the reference's prefix
// and the id, and the log line with the details carries the same id.
func TestInternalErrorsAreOpaque(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		_, userT := h.user("user")
		for _, r := range []apitest.Response{h.c.Do("GET", "/health", nil, nil), h.c.Do("GET", "/nope", nil, nil), h.do("GET", "/api/balance", nil, userT)} {
			if len(r.Header.Get("X-Request-Id")) != 16 {
				t.Fatalf("no request id: %v", r.Header)
			}
		}
		// Break the database under the running server.
		if _, err := h.db.ExecContext(context.Background(), "ALTER TABLE account_balances RENAME TO account_balances_gone"); err != nil {
			t.Fatal(err)
		}
		r := h.do("GET", "/api/balance", nil, userT)
		id := r.Header.Get("X-Request-Id")
		if r.Status != 500 || r.Error() != "An error occurred on the backend of the server. The details are logged under request id "+id+"." {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		logs := h.logs.String()
		line := ""
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, "request_id="+id) {
				line = l
			}
		}
		if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "account_balances") {
			t.Fatalf("no log line with the details and id %s:\n%s", id, logs)
		}
		if _, err := h.db.ExecContext(context.Background(), "ALTER TABLE account_balances_gone RENAME TO account_balances"); err != nil {
			t.Fatal(err)
		}
	})
}

// D5: in strict mode an admin's /api/order/id/{id} matches order_id only.
func TestAdminOrderByIDIsStrict(t *testing.T) {
	eachDB(t, map[string]string{"TPG_STRICT_MODE": "true"}, func(t *testing.T, h *harness) {
		h.order("1", "c", "1", nil) // alt_id "#1"
		if r := h.do("GET", "/api/order/id/%231", nil, h.adminT); string(r.Body) != "null" {
			t.Fatalf("alt id matched in strict mode: %s", r.Body)
		}
		if r := h.do("GET", "/api/order/id/1", nil, h.adminT); !strings.Contains(string(r.Body), `"order_id":"1"`) {
			t.Fatalf("%s", r.Body)
		}
	})
}

// Decode errors name the first offending field in document order: a claim
// with a malformed signature and a misspelt order_id is told about the
// signature, as the reference does.
func TestClaimDecodeErrorsInDocumentOrder(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		w := apitest.NewWallet()
		good := tari.SignMemo(w.Key, w.Addr, "1").Signature
		cases := []struct{ body, want string }{
			{`{"address":"` + w.Addr.Base58() + `","orderId":"1","signature":"abc"}`, "Json deserialize error: Invalid signature length: expected 128 hex characters, got 3"},
			{`{"signature":"` + good + `","orderId":"1","address":"nope"}`, "Json deserialize error: Invalid Tari address: "},
			{`{"address":"` + w.Addr.Base58() + `","orderId":"1","signature":"` + good + `"}`, "Json deserialize error: missing field `order_id`"},
		}
		for _, c := range cases {
			r := h.c.Do("POST", "/order/claim", []byte(c.body), nil)
			if r.Status != 400 || !strings.HasPrefix(r.Error(), c.want) {
				t.Fatalf("%s: %d %s", c.body, r.Status, r.Body)
			}
		}
	})
}
