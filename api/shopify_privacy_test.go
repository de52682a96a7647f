package api

import (
	"context"
	"strings"
	"testing"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/core"
)

// orders/cancelled from Shopify cancels an open order here; a Paid order
// stays Paid, with the mismatch noted on it for an admin and logged.
func TestShopifyOrderCancelledWebhook(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		h.order("8001", "c1", "5.00", nil)
		h.order("8002", "c2", "7.00", nil)
		if _, err := h.eng.FulfilOrder(context.Background(), "8002", "paid by bank transfer"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"8001", "8002", "9999"} {
			body := mustJSON(t, map[string]any{"id": id, "name": "#" + id, "cancel_reason": "customer", "cancelled_at": "2026-12-01T10:00:00Z"})
			if r := h.webhook("order_cancelled", body); r.Status != 200 {
				t.Fatalf("order_cancelled %s: %d %s", id, r.Status, r.Body)
			}
		}
		if o := h.getOrder("8001"); o.Status != core.OrderCancelled || o.CancelReason == nil || !strings.Contains(*o.CancelReason, "cancelled in Shopify") {
			t.Fatalf("open order after Shopify cancelled it: %+v", o)
		}
		o := h.getOrder("8002")
		if o.Status != core.OrderPaid || o.CancelReason == nil || !strings.Contains(*o.CancelReason, "paid here") {
			t.Fatalf("paid order after Shopify cancelled it: %+v", o)
		}
		if !strings.Contains(h.logs.String(), "stays Paid") {
			t.Fatal("mismatch not logged")
		}
		// An admin sees the note on the order.
		r := h.do("GET", "/api/order/id/8002", nil, h.adminT)
		if r.Status != 200 || !strings.Contains(string(r.Body), "Shopify cancelled this order") {
			t.Fatalf("admin view: %d %s", r.Status, r.Body)
		}
		// Bad HMAC: refused, nothing changes.
		body := mustJSON(t, map[string]any{"id": "8003"})
		if r := h.c.Do("POST", "/shopify/webhook/order_cancelled", body, apitest.ShopifyHeaders("wrong", body)); r.Status != 403 {
			t.Fatalf("bad hmac: %d", r.Status)
		}
	})
}

// The compliance webhooks answer 401 to a bad HMAC; customers/redact erases
// the customer's email-bearing id, memo and customer mapping and keeps the
// amounts, ids and times; the data request's data is served to an admin.
func TestShopifyPrivacyWebhooks(t *testing.T) {
	eachDB(t, map[string]string{"TPG_SHOPIFY_HMAC_CHECKS": "false"}, func(t *testing.T, h *harness) {
		for _, topic := range []string{"customers_data_request", "customers_redact", "shop_redact"} {
			body := []byte(`{"shop_id":1,"shop_domain":"x.myshopify.com"}`)
			if r := h.c.Do("POST", "/shopify/webhook/"+topic, body, apitest.ShopifyHeaders("wrong", body)); r.Status != 401 {
				t.Fatalf("%s with a bad HMAC: %d (checks off must not matter)", topic, r.Status)
			}
			if r := h.c.Do("POST", "/shopify/webhook/"+topic, body, nil); r.Status != 401 {
				t.Fatalf("%s without HMAC: %d", topic, r.Status)
			}
		}
		memo := "please gift wrap, Jane Doe, 1 Main St"
		h.order("8101", "191167", "4.00", &memo)
		h.order("8102", "191167", "6.00", nil)
		h.order("8103", "other", "1.00", &memo)
		// A guest order, stored under the email.
		b := mustJSON(t, map[string]any{"id": "8104", "currency": "XTR", "created_at": "2024-03-01T10:00:00Z", "total_price": "2.00", "email": "jane@example.com", "note": memo})
		if r := h.webhook("checkout_create", b); r.Status != 200 {
			t.Fatal(r.Status)
		}
		if _, err := h.eng.FulfilOrder(context.Background(), "8101", "paid"); err != nil {
			t.Fatal(err)
		}

		// Data request: acknowledged; the admin gets the customer's data.
		req := mustJSON(t, map[string]any{"shop_id": 1, "shop_domain": "x.myshopify.com", "orders_requested": []int{8101},
			"customer": map[string]any{"id": 191167, "email": "jane@example.com"}, "data_request": map[string]any{"id": 9999}})
		if r := h.webhook("customers_data_request", req); r.Status != 200 {
			t.Fatalf("data request: %d %s", r.Status, r.Body)
		}
		var data struct {
			CustomerID string       `json:"customer_id"`
			Orders     []core.Order `json:"orders"`
		}
		r := h.do("GET", "/api/customer_data/191167", nil, h.adminT)
		r.JSON(t, &data)
		if r.Status != 200 || data.CustomerID != "191167" || len(data.Orders) != 2 || data.Orders[0].Memo == nil || *data.Orders[0].Memo != memo {
			t.Fatalf("customer data: %d %s", r.Status, r.Body)
		}
		if _, tok := h.user("user"); h.do("GET", "/api/customer_data/191167", nil, tok).Status != 403 {
			t.Fatal("a plain user read another customer's data")
		}

		// Redaction.
		red := mustJSON(t, map[string]any{"shop_id": 1, "shop_domain": "x.myshopify.com",
			"customer": map[string]any{"id": 191167, "email": "jane@example.com", "phone": "555-625-1199"}, "orders_to_redact": []int{8101, 8102, 8104}})
		if r := h.webhook("customers_redact", red); r.Status != 200 {
			t.Fatalf("redact: %d %s", r.Status, r.Body)
		}
		for _, id := range []string{"8101", "8102", "8104"} {
			o := h.getOrder(id)
			if o.Memo != nil || !strings.HasPrefix(o.CustomerID, "redacted:") {
				t.Fatalf("order %s after redaction: %+v", id, o)
			}
		}
		// Financial records kept: the paid order's amount, status and ids.
		if o := h.getOrder("8101"); o.Status != core.OrderPaid || o.TotalPrice != core.Tari(4) || o.OrderID != "8101" {
			t.Fatalf("paid order lost its financial record: %+v", o)
		}
		if h.getOrder("8101").CustomerID != h.getOrder("8102").CustomerID {
			t.Fatal("one customer's orders got different pseudonyms: their balance no longer adds up")
		}
		// Another customer's data is untouched.
		if o := h.getOrder("8103"); o.CustomerID != "other" || o.Memo == nil {
			t.Fatalf("other customer's order redacted: %+v", o)
		}
		// Nothing personal is left in the orders, their audit snapshots or the
		// event payloads. (A credit note's payment id keeps the customer
		// number it was issued under: payment ids are kept for the auditor,
		// see docs/operations.md.)
		for _, q := range []string{"SELECT COUNT(*) FROM audit_log WHERE entity = 'order' AND (snapshot LIKE ? OR snapshot LIKE ?)", "SELECT COUNT(*) FROM events WHERE payload LIKE ? OR payload LIKE ?", "SELECT COUNT(*) FROM orders WHERE customer_id LIKE ? OR memo LIKE ?"} {
			var n int
			if err := h.db.NewRaw(q, "%jane@example.com%", `%"customer_id":"191167"%`).Scan(context.Background(), &n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				var rows []string
				_ = h.db.NewRaw("SELECT entity || ' ' || snapshot FROM audit_log WHERE snapshot LIKE ? OR snapshot LIKE ?", "%jane@example.com%", "%191167%").Scan(context.Background(), &rows)
				t.Fatalf("%s: %d rows still hold the customer's data: %v", q, n, rows)
			}
		}
		var n int
		if err := h.db.NewRaw(`SELECT COUNT(*) FROM audit_log WHERE snapshot LIKE '%gift wrap%' AND snapshot NOT LIKE '%"order_id":"8103"%'`).Scan(context.Background(), &n); err != nil || n != 0 {
			t.Fatalf("memo left in %d audit rows of redacted orders, %v", n, err)
		}
		// The data request now finds nothing under the old id.
		r = h.do("GET", "/api/customer_data/191167", nil, h.adminT)
		r.JSON(t, &data)
		if len(data.Orders) != 0 {
			t.Fatalf("redacted customer still has data: %s", r.Body)
		}
		// shop/redact erases everyone.
		if r := h.webhook("shop_redact", []byte(`{"shop_id":1,"shop_domain":"x.myshopify.com"}`)); r.Status != 200 {
			t.Fatal(r.Status)
		}
		if o := h.getOrder("8103"); o.Memo != nil || !strings.HasPrefix(o.CustomerID, "redacted:") {
			t.Fatalf("shop redact left %+v", o)
		}
		for _, q := range []string{`SELECT COUNT(*) FROM audit_log WHERE entity = 'order' AND (snapshot LIKE '%gift wrap%' OR snapshot LIKE '%"customer_id":"other"%')`,
			`SELECT COUNT(*) FROM events WHERE payload LIKE '%gift wrap%' OR payload LIKE '%"customer_id":"other"%'`} {
			if err := h.db.NewRaw(q).Scan(context.Background(), &n); err != nil || n != 0 {
				t.Fatalf("after shop redact, %s: %d, %v", q, n, err)
			}
		}
		// Redacting again changes nothing (Shopify may redeliver).
		if r := h.webhook("customers_redact", red); r.Status != 200 {
			t.Fatal(r.Status)
		}
	})
}
