package api

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/api/shopify/shopifytest"
	"github.com/tari-payment/tps/core"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestShopifyGuards(t *testing.T) {
	body := fixture(t, "checkout_create.json")
	// D16: checks on and no secret → 503 naming the variable, on every route.
	eachDB(t, map[string]string{"TPG_SHOPIFY_HMAC_SECRET": ""}, func(t *testing.T, h *harness) {
		for _, p := range []string{"/shopify/webhook/checkout_create", "/shopify/webhook/no_op"} {
			r := h.c.Do("POST", p, body, apitest.ShopifyHeaders("", body))
			if r.Status != 503 || !strings.Contains(r.Error(), "TPG_SHOPIFY_HMAC_SECRET") {
				t.Fatalf("%s: %d %s", p, r.Status, r.Body)
			}
		}
		if r := h.c.Do("GET", "/shopify/health", nil, nil); r.Status != 503 {
			t.Fatalf("health: %d", r.Status)
		}
	})
	eachDB(t, nil, func(t *testing.T, h *harness) {
		if r := h.c.Do("POST", "/shopify/webhook/no_op", body, nil); r.Status != 403 || r.Error() != "No HMAC signature found." {
			t.Fatalf("no hmac: %d %s", r.Status, r.Body)
		}
		if r := h.c.Do("POST", "/shopify/webhook/no_op", body, apitest.ShopifyHeaders("wrong", body)); r.Status != 403 || r.Error() != "Invalid HMAC signature." {
			t.Fatalf("bad hmac: %d %s", r.Status, r.Body)
		}
		// The HMAC covers the raw bytes: re-formatted JSON does not verify.
		reformatted := append([]byte(" "), body...)
		if r := h.c.Do("POST", "/shopify/webhook/no_op", reformatted, apitest.ShopifyHeaders(hmacSecret, body)); r.Status != 403 {
			t.Fatalf("raw bytes: %d", r.Status)
		}
		if r := h.webhook("no_op", body); r.Status != 200 || len(r.Body) != 0 {
			t.Fatalf("good: %d %s", r.Status, r.Body)
		}
		if r := h.webhook("no_op", []byte("not json")); r.Status != 400 {
			t.Fatalf("no_op non-JSON: %d", r.Status)
		}
	})
	// Checks explicitly off: unsigned webhooks are accepted.
	eachDB(t, map[string]string{"TPG_SHOPIFY_HMAC_CHECKS": "Off", "TPG_SHOPIFY_HMAC_SECRET": ""}, func(t *testing.T, h *harness) {
		if r := h.c.Do("POST", "/shopify/webhook/no_op", body, nil); r.Status != 200 {
			t.Fatalf("checks off: %d %s", r.Status, r.Body)
		}
	})
	// IP whitelist (D17, D24), with forwarded headers.
	eachDB(t, map[string]string{"TPG_SHOPIFY_IP_WHITELIST": " 10.0.0.1 , 10.0.0.2"}, func(t *testing.T, h *harness) {
		r := h.webhook("no_op", body)
		if r.Status != 403 || r.Error() != "Authentication Error. Request was made from a forbidden peer" {
			t.Fatalf("peer not listed: %d %s", r.Status, r.Body)
		}
	})
	eachDB(t, map[string]string{"TPG_SHOPIFY_IP_WHITELIST": "10.0.0.1, 127.0.0.1"}, func(t *testing.T, h *harness) {
		if r := h.webhook("no_op", body); r.Status != 200 {
			t.Fatalf("listed peer: %d %s", r.Status, r.Body)
		}
	})
	eachDB(t, map[string]string{"TPG_SHOPIFY_IP_WHITELIST": "", "TPG_USE_X_FORWARDED_FOR": "1"}, func(t *testing.T, h *harness) {
		if r := h.webhook("no_op", body); r.Status != 200 {
			t.Fatalf("empty whitelist means no restriction: %d", r.Status)
		}
	})
	eachDB(t, map[string]string{"TPG_SHOPIFY_IP_WHITELIST": "10.0.0.1", "TPG_USE_X_FORWARDED_FOR": "1"}, func(t *testing.T, h *harness) {
		hdr := apitest.ShopifyHeaders(hmacSecret, body)
		hdr["X-Forwarded-For"] = "10.0.0.1"
		if r := h.c.Do("POST", "/shopify/webhook/no_op", body, hdr); r.Status != 200 {
			t.Fatalf("forwarded listed IP: %d", r.Status)
		}
	})
}

func TestCheckoutCreateFixtures(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		// No USD rate yet: acknowledged, not stored.
		r := h.webhook("checkout_create", fixture(t, "checkout_create.json"))
		if r.Status != 200 || string(r.Body) != `{"success":false,"message":"Unsupported currency: The requested exchange rate does not exist: USD"}` {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		h.setRate("usd", 30_000_000) // D9: case-insensitive
		h.setRate("QAR", 2_500_000)
		for _, f := range []string{"checkout_create.json", "new_order.json", "actual_order.json", "actual_order2.json"} {
			r := h.webhook("checkout_create", fixture(t, f))
			if r.Status != 200 || string(r.Body) != `{"success":true,"message":"Order processed successfully."}` {
				t.Fatalf("%s: %d %s", f, r.Status, r.Body)
			}
		}
		o := h.getOrder("5796499259604")
		if o.TotalPrice != 207_000_000 || *o.AltID != "#1140" || o.CustomerID != "7390049927380" || o.Status != core.OrderUnclaimed ||
			*o.OriginalPrice != "6.90" || o.Currency != "USD" || *o.AmountOutstanding != "0.00" {
			t.Fatalf("%+v", o)
		}
		if o := h.getOrder("5714720719169"); o.TotalPrice != 475_000_000 || o.Currency != "QAR" {
			t.Fatalf("QAR %+v", o)
		}
		if o := h.getOrder("820982911946154508"); o.CustomerID != "115310627314723954" || o.TotalPrice != 45_000_000 {
			t.Fatalf("big ids %+v", o)
		}
		// Re-delivery of a known order (D20), with and without an event id.
		r = h.webhook("checkout_create", fixture(t, "checkout_create.json"))
		if string(r.Body) != `{"success":true,"message":"Order already exists."}` {
			t.Fatalf("dup: %s", r.Body)
		}
		body := fixture(t, "orders_updated.json")
		hdr := apitest.ShopifyHeaders(hmacSecret, body)
		hdr["X-Shopify-Event-Id"] = "evt-1"
		for i := 0; i < 2; i++ {
			if r := h.c.Do("POST", "/shopify/webhook/no_op", body, hdr); r.Status != 200 {
				t.Fatal(r.Status)
			}
		}
	})
}

func TestCheckoutCreateLenientAndExact(t *testing.T) {
	eachDB(t, map[string]string{"TPG_SHOPIFY_PRICE_FIELD": "subtotal"}, func(t *testing.T, h *harness) {
		h.setRate("USD", 30_000_000)
		// D22: guest checkout, nulls, extra fields, string id; D8: "15.9" is 15.90.
		guest := `{"id":"9001","name":null,"currency":"usd","created_at":"2024-03-01T10:00:00+01:00","subtotal_price":"15.9",
			"total_price":null,"customer":null,"email":"ann@example.com","note":null,"line_items":[{"x":null}],"confirmed":null}`
		r := h.webhook("checkout_create", []byte(guest))
		if string(r.Body) != `{"success":true,"message":"Order processed successfully."}` {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		o := h.getOrder("9001")
		if o.CustomerID != "guest:ann@example.com" || o.TotalPrice != 477_000_000 || o.AltID != nil {
			t.Fatalf("%+v", o)
		}
		r = h.webhook("checkout_create", []byte(`{"id":9002,"currency":"USD","created_at":"2024-03-01T10:00:00Z","subtotal_price":"1.00"}`))
		if r.Status != 200 || h.getOrder("9002").CustomerID != "guest:9002" {
			t.Fatalf("%s", r.Body)
		}
		// The configured price field is required; everything else may be missing.
		for _, b := range []string{`{"id":1,"currency":"USD","created_at":"2024-03-01T10:00:00Z","total_price":"1"}`,
			`{"currency":"USD","created_at":"2024-03-01T10:00:00Z","subtotal_price":"1"}`, `{"id":1,"created_at":"2024-03-01T10:00:00Z","subtotal_price":"1"}`} {
			if r := h.webhook("checkout_create", []byte(b)); r.Status != 400 || !strings.Contains(r.Error(), "missing field") {
				t.Fatalf("%s: %d %s", b, r.Status, r.Body)
			}
		}
		// Bad formats are acknowledged (no Shopify retry storm) with success false.
		for _, b := range []string{`{"id":3,"currency":"USD","created_at":"yesterday","subtotal_price":"1"}`,
			`{"id":4,"currency":"USD","created_at":"2024-03-01T10:00:00Z","subtotal_price":"1,50"}`} {
			if r := h.webhook("checkout_create", []byte(b)); r.Status != 200 || !strings.Contains(string(r.Body), `"success":false`) {
				t.Fatalf("%s: %d %s", b, r.Status, r.Body)
			}
		}
	})
}

// TestCheckoutCreateSignedMemo: a MemoSignature note claims the order at once.
func TestCheckoutCreateSignedMemo(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		cust := apitest.NewWallet()
		memo := signMemo(cust, "7001")
		h.order("7001", "c1", "2.5", &memo)
		if o := h.getOrder("7001"); o.Status != core.OrderNew {
			t.Fatalf("%+v", o)
		}
		wrong := signMemo(cust, "other")
		h.order("7002", "c1", "2.5", &wrong)
		if o := h.getOrder("7002"); o.Status == core.OrderPaid {
			t.Fatalf("%+v", o)
		}
	})
}

func TestTransactionCreate(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		for _, f := range []string{"order_transactions_create.json", "transaction1.json", "order_transactions_create.json"} {
			if r := h.webhook("transaction_create", fixture(t, f)); r.Status != 200 || len(r.Body) != 0 {
				t.Fatalf("%s: %d %s", f, r.Status, r.Body)
			}
		}
		txs, err := h.eng.ShopifyTransactionsForOrder(context.Background(), 5796499259604)
		if err != nil || len(txs) != 1 || txs[0].ID != 6887976009940 || txs[0].Amount != "6.90" || txs[0].Currency != "USD" {
			t.Fatalf("%+v %v", txs, err)
		}
		if txs, _ := h.eng.ShopifyTransactionsForOrder(context.Background(), 5628558835924); len(txs) != 0 {
			t.Fatal("a sale was recorded as an authorisation")
		}
		if r := h.webhook("transaction_create", []byte(`{"kind":"authorization"}`)); r.Status != 400 {
			t.Fatalf("missing ids: %d", r.Status)
		}
	})
}

func TestExchangeRatesAndRepricing(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		h.shop.AddVariant(11, shopifytest.Variant{ProductID: 1, Price: "10.00", TariPrice: "300000000"})
		h.shop.AddVariant(12, shopifytest.Variant{ProductID: 1, Price: "2.5"})
		_, w := h.user("write")
		_, ro := h.user("read_all")
		if r := h.do("GET", "/api/exchange_rate/USD", nil, ro); r.Status != 404 {
			t.Fatalf("no rate: %d %s", r.Status, r.Body)
		}
		// A rate for another currency does not touch Shopify prices.
		if r := h.do("POST", "/api/exchange_rate", map[string]any{"currency": "EUR", "rate": 40_000_000}, w); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if u := h.shop.Updates(); len(u) != 0 {
			t.Fatal(u)
		}
		if r := h.do("POST", "/api/exchange_rate", map[string]any{"currency": "usd", "rate": 40_000_000}, w); r.Status != 200 || len(r.Body) != 0 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		u := h.shop.Updates()
		if len(u) != 2 || !contains(u, "gid://shopify/ProductVariant/11=400000000") || !contains(u, "gid://shopify/ProductVariant/12=100000000") {
			t.Fatal(u)
		}
		r := h.do("GET", "/api/exchange_rate/usd", nil, ro)
		var er map[string]any
		r.JSON(t, &er)
		if er["currency"] != "USD" || er["rate"] != float64(40_000_000) || !strings.HasSuffix(er["updated_at"].(string), "+00:00") {
			t.Fatalf("%s", r.Body)
		}
		// Unchanged prices are skipped; the product webhook reprices its variants.
		h.shop.SetVariantPrice(12, "3.00")
		prod := []byte(`{"id":1,"title":"Thing","published_at":null,"body_html":null,"variants":[{"id":11},{"id":12}]}`)
		if r := h.webhook("product_updated", prod); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if u := h.shop.Updates(); len(u) != 3 || u[2] != "gid://shopify/ProductVariant/12=120000000" {
			t.Fatal(u)
		}
		// Shopify down: the rate is stored, the answer says the upstream failed.
		h.shop.SetDown(true)
		if r := h.do("POST", "/api/exchange_rate", map[string]any{"currency": "USD", "rate": 41_000_000}, w); r.Status != 502 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if rate, _ := h.eng.ExchangeRate(context.Background(), "USD"); rate.Rate != 41_000_000 {
			t.Fatal(rate)
		}
		if r := h.do("POST", "/api/exchange_rate", map[string]any{"currency": "USD", "rate": -1}, w); r.Status != 400 {
			t.Fatalf("negative rate: %d", r.Status)
		}
	})
}

func TestRescanOpenOrders(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		h.setRate("USD", 1_000_000)
		h.shop.SetOpenOrders([]map[string]any{
			{"id": "gid://shopify/Order/501", "name": "#501", "createdAt": "2024-03-01T10:00:00Z", "currencyCode": "USD", "totalPrice": "12.34",
				"subtotalPrice": "10.00", "note": nil, "customer": map[string]any{"id": "gid://shopify/Customer/77"}, "totalOutstandingSet": map[string]any{"shopMoney": map[string]any{"amount": "12.34"}}},
			{"id": "gid://shopify/Order/502", "name": "#502", "createdAt": "2024-03-01T10:00:00Z", "currencyCode": "JPY", "totalPrice": "100", "customer": nil},
		})
		_, w := h.user("write")
		r := h.do("POST", "/api/rescan_open_orders", nil, w)
		var out []jsonResponse
		r.JSON(t, &out)
		if r.Status != 200 || len(out) != 2 || !out[0].Success || out[1].Success {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if o := h.getOrder("501"); o.CustomerID != "77" || o.TotalPrice != 12_340_000 || *o.AmountOutstanding != "12.34" {
			t.Fatalf("%+v", o)
		}
		r = h.do("POST", "/api/rescan_open_orders", nil, w)
		r.JSON(t, &out)
		if out[0].Message != "Order already exists." {
			t.Fatalf("%s", r.Body)
		}
		h.shop.SetDown(true)
		if r := h.do("POST", "/api/rescan_open_orders", nil, w); r.Status != 400 || !strings.HasPrefix(r.Error(), "Cannot complete this request.") {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

func TestPluginRoutes(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		_, w := h.user("write")
		if r := h.do("GET", "/api/plugins", nil, w); r.Status != 200 || !strings.Contains(string(r.Body), `"webhook"`) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r := h.do("GET", "/api/plugins/deliveries/failed", nil, h.adminT); r.Status != 200 || !strings.Contains(string(r.Body), `"attempts":5`) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/api/plugins/deliveries/7/redeliver", nil, w); r.Status != 200 || len(h.plug.redelivered) != 1 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/api/plugins/deliveries/8/redeliver", nil, w); r.Status != 404 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/api/plugins/deliveries/x/redeliver", nil, w); r.Status != 400 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		var res map[string]any
		r := h.do("POST", "/api/plugins/deliveries/redeliver", nil, w)
		r.JSON(t, &res)
		if res["count"] != float64(1) {
			t.Fatalf("%s", r.Body)
		}
		_, ro := h.user("read_all")
		if r := h.do("GET", "/api/plugins", nil, ro); r.Status != 403 {
			t.Fatalf("read_all: %d", r.Status)
		}
	})
}
