package api

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// TestWireShapes: field order, timestamp form, enum spellings and no HTML
// escaping, as serde_json writes them.
func TestWireShapes(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		memo := "a<b & c>d"
		h.order("8001", "kim", "1.5", &memo)
		_, ro := h.user("user", "read_all")
		r := h.do("GET", "/api/order/id/8001", nil, ro)
		order := regexp.MustCompile(`^\{"id":\d+,"order_id":"8001","alt_id":"#8001","customer_id":"kim","memo":"a<b & c>d","total_price":1500000,` +
			`"original_price":"1.5","currency":"XTR","created_at":"2024-03-01T10:00:00Z","updated_at":"[^"]+","status":"Unclaimed",` +
			`"amount_outstanding":null,"cancel_reason":null\}$`)
		if !order.Match(r.Body) || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("order shape: %s", r.Body)
		}
		sender := apitest.NewWallet()
		r = h.payIn(sender.Addr, 7, "tx<1>", apitest.Str("m&m"), nil)
		payment := regexp.MustCompile(`^\{"success":true,"message":"\{\\"txid\\":\\"tx<1>\\",\\"created_at\\":\\"[^"\\]+\\",\\"updated_at\\":\\"[^"\\]+\\",` +
			`\\"sender\\":\\"` + sender.Addr.Base58() + `\\",\\"amount\\":7,\\"memo\\":\\"m&m\\",\\"payment_type\\":\\"on_chain\\",\\"status\\":\\"received\\",\\"order_id\\":null\}"\}$`)
		if !payment.Match(r.Body) {
			t.Fatalf("payment shape: %s", r.Body)
		}
		r = h.do("GET", "/api/balance/"+sender.Addr.Base58(), nil, ro)
		if !regexp.MustCompile(`^\{"address":"` + sender.Addr.Base58() + `","total_confirmed":0,"total_paid":0,"current_balance":0,"last_update":"[^"]+"\}$`).Match(r.Body) {
			t.Fatalf("balance shape: %s", r.Body)
		}
		// Errors are JSON objects with one "error" field.
		r = h.do("POST", "/api/cancel", map[string]any{"order_id": "nope", "reason": "x"}, h.adminT)
		if string(r.Body) != `{"error":"The data was not found. The requested order nope does not exist"}` || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("error shape: %s", r.Body)
		}
	})
}

// TestDuplicateEventID: a redelivered webhook is acknowledged and changes
// nothing (D20). Deliveries are keyed on X-Shopify-Webhook-Id when present,
// else on the topic plus X-Shopify-Event-Id, and always on the order id of
// the signed body: a reused (unsigned) id on another order's webhook is
// processed, where the reference dropped it.
func TestDuplicateEventID(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		send := func(id string, headers map[string]string) apitest.Response {
			b := mustJSON(t, map[string]any{"id": id, "currency": "XTR", "created_at": "2024-03-01T10:00:00Z", "total_price": "1", "customer": map[string]any{"id": 1}})
			hdr := apitest.ShopifyHeaders(hmacSecret, b)
			for k, v := range headers {
				hdr[k] = v
			}
			return h.c.Do("POST", "/shopify/webhook/checkout_create", b, hdr)
		}
		exists := func(id string) bool {
			var got []core.Order
			h.do("GET", "/api/search/orders?order_id="+id, nil, h.adminT).JSON(t, &got)
			return len(got) == 1
		}
		processed := `{"success":true,"message":"Order processed successfully."}`
		duplicate := `{"success":true,"message":"Order already exists."}`
		evt := map[string]string{"X-Shopify-Event-Id": "evt-42"}
		if r := send("8101", evt); string(r.Body) != processed {
			t.Fatalf("%s", r.Body)
		}
		// The same delivery again: acknowledged as a duplicate.
		if r := send("8101", evt); string(r.Body) != duplicate {
			t.Fatalf("%s", r.Body)
		}
		// The same event id on another order: processed, not dropped.
		if r := send("8102", evt); string(r.Body) != processed || !exists("8102") {
			t.Fatalf("another order with a reused event id: %s", r.Body)
		}
		// The event id on another topic is another delivery.
		tx := mustJSON(t, map[string]any{"id": 55, "order_id": 8101, "amount": "1.00", "currency": "XTR", "kind": "authorization", "status": "success"})
		hdr := apitest.ShopifyHeaders(hmacSecret, tx)
		hdr["X-Shopify-Event-Id"] = "evt-42"
		if r := h.c.Do("POST", "/shopify/webhook/transaction_create", tx, hdr); r.Status != 200 {
			t.Fatalf("transaction: %d %s", r.Status, r.Body)
		}
		var n int
		if err := h.db.NewRaw("SELECT COUNT(*) FROM shopify_transactions WHERE id = 55").Scan(context.Background(), &n); err != nil || n != 1 {
			t.Fatalf("transaction with an event id seen on another topic was dropped: %d %v", n, err)
		}
		// X-Shopify-Webhook-Id wins when present: a new webhook id with the
		// old event id is a new delivery, and a repeated one is a duplicate.
		wh := map[string]string{"X-Shopify-Event-Id": "evt-42", "X-Shopify-Webhook-Id": "wh-1"}
		if r := send("8103", wh); string(r.Body) != processed {
			t.Fatalf("%s", r.Body)
		}
		if r := send("8103", wh); string(r.Body) != duplicate {
			t.Fatalf("%s", r.Body)
		}
		if r := send("8104", wh); string(r.Body) != processed || !exists("8104") {
			t.Fatalf("another order with a reused webhook id: %s", r.Body)
		}
	})
}

// TestPaymentMemos: a signed memo claims its order only for its own address
// (D3); plain memos name orders only when the memo check is disabled.
func TestPaymentMemos(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		h.order("8201", "lou", "1", nil)
		owner, thief := apitest.NewWallet(), apitest.NewWallet()
		memo := tari.SignMemo(owner.Key, owner.Addr, "8201").JSON()
		h.payIn(thief.Addr, 1_000_000, "t1", &memo, nil)
		h.confirm("t1")
		if o := h.getOrder("8201"); o.Status != core.OrderUnclaimed {
			t.Fatalf("D3: %s", o.Status)
		}
		h.payIn(owner.Addr, 1_000_000, "t2", &memo, nil)
		h.confirm("t2")
		if o := h.getOrder("8201"); o.Status != core.OrderPaid {
			t.Fatalf("own memo: %s", o.Status)
		}
		h.order("8202", "lou2", "1", nil)
		h.payIn(thief.Addr, 1_000_000, "t3", apitest.Str("for order #8202 thanks"), nil)
		h.confirm("t3")
		if o := h.getOrder("8202"); o.Status != core.OrderUnclaimed {
			t.Fatalf("plain memo with checks on: %s", o.Status)
		}
	})
	eachDB(t, map[string]string{"TPG_DISABLE_MEMO_SIGNATURE_CHECK": "true"}, func(t *testing.T, h *harness) {
		h.order("8301", "max", "1", nil)
		w := apitest.NewWallet()
		h.payIn(w.Addr, 1_000_000, "t1", apitest.Str("order 8301 please"), nil)
		h.confirm("t1")
		if o := h.getOrder("8301"); o.Status != core.OrderPaid {
			t.Fatalf("plain memo with checks off: %s", o.Status)
		}
	})
}

// TestMySettle: POST /api/settle pays the caller's open orders from its balance.
func TestMySettle(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		w, tok := h.user()
		if r := h.do("POST", "/api/settle", nil, tok); r.Status != 200 || string(r.Body) != "null" {
			t.Fatalf("nothing to settle: %d %s", r.Status, r.Body)
		}
		h.order("8401", "ned", "5", nil)
		if r := h.c.Do("POST", "/order/claim", tari.SignMemo(w.Key, w.Addr, "8401"), nil); r.Status != 200 {
			t.Fatal(r.Status)
		}
		h.payIn(w.Addr, 3_000_000, "a", nil, nil)
		h.confirm("a")
		// A credit note to the customer tops the pool up; settling pays.
		if r := h.do("POST", "/api/credit", map[string]any{"customer_id": "ned", "amount": 1_000_000}, h.adminT); r.Status != 200 {
			t.Fatal(r.Status)
		}
		h.payIn(w.Addr, 2_000_000, "b", nil, nil)
		if r := h.do("POST", "/api/settle", nil, tok); r.Status != 200 || string(r.Body) != "null" {
			t.Fatalf("unconfirmed funds settled: %s", r.Body)
		}
		h.confirm("b")
		if o := h.getOrder("8401"); o.Status != core.OrderPaid {
			t.Fatalf("%s", o.Status)
		}
		if r := h.do("POST", "/api/settle", nil, tok); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
	})
}

// TestFailedDeliveryIsNotADuplicate: a webhook whose order could not be made
// (no exchange rate yet) does not consume its X-Shopify-Event-Id, so Shopify's
// redelivery of the same event is processed once the merchant fixed the cause.
func TestFailedDeliveryIsNotADuplicate(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		b := mustJSON(t, map[string]any{"id": "8301", "currency": "EUR", "created_at": "2024-03-01T10:00:00Z", "total_price": "2.00", "customer": map[string]any{"id": 1}})
		hdr := apitest.ShopifyHeaders(hmacSecret, b)
		hdr["X-Shopify-Event-Id"] = "evt-retry"
		if r := h.c.Do("POST", "/shopify/webhook/checkout_create", b, hdr); !strings.Contains(string(r.Body), `"success":false`) {
			t.Fatalf("first delivery should fail without a EUR rate: %s", r.Body)
		}
		h.setRate("EUR", 5_000_000)
		if r := h.c.Do("POST", "/shopify/webhook/checkout_create", b, hdr); !strings.Contains(string(r.Body), "processed successfully") {
			t.Fatalf("redelivery after the fix: %s", r.Body)
		}
		if o := h.getOrder("8301"); o.TotalPrice != 10_000_000 {
			t.Fatalf("order %+v", o)
		}
		// Now the id is consumed: a third delivery is a duplicate.
		if r := h.c.Do("POST", "/shopify/webhook/checkout_create", b, hdr); string(r.Body) != `{"success":true,"message":"Order already exists."}` {
			t.Fatalf("third delivery: %s", r.Body)
		}
	})
}
