package api

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

func TestClaimRoute(t *testing.T) {
	eachDB(t, map[string]string{"TPG_UNCLAIMED_ORDER_TIMEOUT": "3", "TPG_UNPAID_ORDER_TIMEOUT": "5"}, func(t *testing.T, h *harness) {
		h.order("1001", "alice", "10", nil)
		cust := apitest.NewWallet()
		sig := tari.SignMemo(cust.Key, cust.Addr, "1001")
		// The address may come in any form; the signature is over base58.
		body := map[string]any{"address": cust.Addr.Emoji(), "order_id": "1001", "signature": sig.Signature, "extra": 1}
		r := h.c.Do("POST", "/order/claim", body, nil)
		var co map[string]any
		r.JSON(t, &co)
		if r.Status != 200 || co["status"] != "New" || co["total_price"] != float64(10_000_000) || co["order_id"] != "1001" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		single, ok := co["send_to"].(map[string]any)["Single"].(map[string]any)
		if !ok || single["public_spend_key"] != h.pay.Key.PublicKey().Hex() || single["network"] != "mainnet" {
			t.Fatalf("send_to %s", r.Body)
		}
		// D13: expires_at uses the configured unpaid timeout (5 h) from the claim.
		o := h.getOrder("1001")
		if co["expires_at"] != rfc3339(o.StatusChangedAt.Add(5*3600e9)) {
			t.Fatalf("expires_at %v, claimed at %v", co["expires_at"], o.StatusChangedAt)
		}
		// Bad signature → 401; unknown order → 400 like a claimed or closed
		// one (D26: the reference answered 404, an oracle for order ids);
		// malformed → 400.
		other := tari.SignMemo(apitest.NewWallet().Key, cust.Addr, "1001")
		if r := h.c.Do("POST", "/order/claim", map[string]any{"address": cust.Addr.Base58(), "order_id": "1001", "signature": other.Signature}, nil); r.Status != 401 ||
			r.Error() != "Authentication Error. Login token signature is invalid. Cannot claim order because the signature is invalid." {
			t.Fatalf("bad sig: %d %s", r.Status, r.Body)
		}
		nf := tari.SignMemo(cust.Key, cust.Addr, "does-not-exist")
		if r := h.c.Do("POST", "/order/claim", nf, nil); r.Status != 400 || r.Error() != "Cannot complete this request. The requested order change is forbidden." {
			t.Fatalf("not found: %d %s", r.Status, r.Body)
		}
		if r := h.c.Do("POST", "/order/claim", map[string]any{"address": cust.Addr.Base58(), "order_id": "1001", "signature": "abc"}, nil); r.Status != 400 {
			t.Fatalf("short sig: %d %s", r.Status, r.Body)
		}
		// D2: a cancelled order cannot be claimed back to life.
		_, w := h.user("write")
		if r := h.do("POST", "/api/cancel", map[string]any{"order_id": "1001", "reason": "Out of stock"}, w); r.Status != 200 {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		if r := h.c.Do("POST", "/order/claim", sig, nil); r.Status != 400 || r.Error() != "Cannot complete this request. The requested order change is forbidden." {
			t.Fatalf("D2: %d %s", r.Status, r.Body)
		}
	})
}

func TestAdminOrderRoutes(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		_, w := h.user("write")
		memo := "gift wrap"
		h.order("1", "alice", "10", &memo)
		h.order("2", "alice", "20", nil)
		h.order("3", "bob", "30", nil)

		notFound := "The data was not found. The requested order 404 does not exist"
		forbidden := "Cannot complete this request. The requested order change is forbidden."
		noop := "Cannot complete this request. The requested order change would result in a no-op."
		cases := []struct {
			method, path string
			body         any
			status       int
			errText      string
		}{
			{"POST", "/api/fulfill", map[string]any{"order_id": "404", "reason": "x"}, 404, notFound},
			{"POST", "/api/cancel", map[string]any{"order_id": "404", "reason": "x"}, 404, notFound},
			{"PATCH", "/api/order_memo", map[string]any{"order_id": "404", "new_memo": "x"}, 404, notFound},
			{"PATCH", "/api/order_price", map[string]any{"order_id": "404", "new_price": 5}, 404, notFound},
			{"PATCH", "/api/reassign_order", map[string]any{"order_id": "404", "new_customer_id": "x", "reason": "r"}, 404, notFound},
			{"PATCH", "/api/reset_order/404", nil, 404, notFound},
			{"POST", "/api/fulfill", map[string]any{"order_id": "1"}, 400, "Json deserialize error: missing field `reason`"},
			{"PATCH", "/api/reassign_order", map[string]any{"order_id": "1", "new_customer_id": "x"}, 400, "Json deserialize error: missing field `reason`"},
			{"PATCH", "/api/order_price", map[string]any{"order_id": "1", "new_price": -5}, 400, "Cannot complete this request. " + core.ErrInvalidAmount.Error()}, // D27
			{"PATCH", "/api/order_price", map[string]any{"order_id": "1", "new_price": 7}, 400, forbidden},                                                         // Unclaimed, not New
			{"PATCH", "/api/order_price", map[string]any{"order_id": "1", "new_price": 1.5}, 400, ""},
			{"PATCH", "/api/reassign_order", map[string]any{"order_id": "1", "new_customer_id": "alice", "reason": "r"}, 400, noop},
			{"PATCH", "/api/reset_order/1", nil, 400, forbidden},
			{"POST", "/api/credit", map[string]any{"customer_id": "", "amount": 5}, 400, ""},
			{"POST", "/api/credit", map[string]any{"customer_id": "alice", "amount": "5"}, 400, ""},
		}
		for _, c := range cases {
			r := h.do(c.method, c.path, c.body, w)
			if r.Status != c.status || (c.errText != "" && r.Error() != c.errText) {
				t.Errorf("%s %s %v: %d %s", c.method, c.path, c.body, r.Status, r.Body)
			}
		}

		// Memo (D7 keeps it on cancel), fulfil, cancel, reset, reassign.
		r := h.do("PATCH", "/api/order_memo", map[string]any{"order_id": "2", "new_memo": "purple jelly beans", "reason": "asked"}, w)
		var o core.Order
		r.JSON(t, &o)
		if r.Status != 200 || *o.Memo != "purple jelly beans" {
			t.Fatalf("memo %d %s", r.Status, r.Body)
		}
		r = h.do("POST", "/api/cancel", map[string]any{"order_id": "1", "reason": "Out of stock"}, w)
		r.JSON(t, &o)
		if o.Status != core.OrderCancelled || *o.Memo != "gift wrap" || *o.CancelReason != "Out of stock" || !strings.Contains(string(r.Body), `"cancel_reason":"Out of stock"`) {
			t.Fatalf("cancel %s", r.Body)
		}
		if r := h.do("POST", "/api/cancel", map[string]any{"order_id": "1", "reason": "again"}, w); r.Error() != forbidden {
			t.Fatalf("cancel twice %s", r.Body)
		}
		r = h.do("PATCH", "/api/reset_order/1", nil, w) // D19
		var ch core.OrderChanged
		r.JSON(t, &ch)
		if r.Status != 200 || ch.OldOrder.Status != core.OrderCancelled || ch.NewOrder.Status != core.OrderNew {
			t.Fatalf("reset %d %s", r.Status, r.Body)
		}
		r = h.do("POST", "/api/fulfill", map[string]any{"order_id": "2", "reason": "Redeem voucher"}, w)
		r.JSON(t, &o)
		if r.Status != 200 || o.Status != core.OrderPaid {
			t.Fatalf("fulfil %d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/api/fulfill", map[string]any{"order_id": "2", "reason": "again"}, w); r.Error() != forbidden {
			t.Fatalf("fulfil twice %s", r.Body)
		}
		if r := h.do("PATCH", "/api/reassign_order", map[string]any{"order_id": "2", "new_customer_id": "bob", "reason": "r"}, w); r.Error() != forbidden {
			t.Fatalf("reassign paid %s", r.Body)
		}
		r = h.do("PATCH", "/api/reassign_order", map[string]any{"order_id": "3", "new_customer_id": "carol", "reason": "User moved"}, w)
		var mv core.OrderMovedResult
		r.JSON(t, &mv)
		if r.Status != 200 || mv.Orders.OldOrder.CustomerID != "bob" || mv.Orders.NewOrder.CustomerID != "carol" || !strings.Contains(string(r.Body), `"settlements":[]`) {
			t.Fatalf("reassign %d %s", r.Status, r.Body)
		}

		// Credit then settle: a credit for carol pays order 3 (New after auto-claim? no: Unclaimed is payable).
		r = h.do("POST", "/api/credit", map[string]any{"customer_id": "carol", "amount": 5_000_000, "reason": "Helping a buddy out"}, w)
		var map1 core.MultiAccountPayment
		r.JSON(t, &map1)
		if r.Status != 200 || map1.OrdersPaid == nil || map1.Settlements == nil {
			t.Fatalf("credit %d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/api/settle/customer/nobody", nil, w); r.Status != 200 || string(r.Body) != "null" {
			t.Fatalf("settle nobody %d %s", r.Status, r.Body)
		}
		dummy := tari.DummyAddress("carol")
		for _, form := range []string{dummy.Base58(), url.PathEscape(dummy.Emoji()), dummy.Hex()} {
			if r := h.do("POST", "/api/settle/address/"+form, nil, w); r.Status != 200 {
				t.Fatalf("settle address %s: %d %s", form, r.Status, r.Body)
			}
		}
		if r := h.do("POST", "/api/settle/address/zzz", nil, w); r.Status != 404 {
			t.Fatalf("settle bad address %d", r.Status)
		}
		// Order price: make order 3 New by a claim, then change its price.
		cust := apitest.NewWallet()
		if r := h.c.Do("POST", "/order/claim", tari.SignMemo(cust.Key, cust.Addr, "3"), nil); r.Status != 200 {
			t.Fatalf("claim 3: %d %s", r.Status, r.Body)
		}
		r = h.do("PATCH", "/api/order_price", map[string]any{"order_id": "3", "new_price": 50_000_000, "reason": "discount"}, w)
		r.JSON(t, &o)
		if r.Status != 200 || o.TotalPrice != 50_000_000 {
			t.Fatalf("price %d %s", r.Status, r.Body)
		}
		if r := h.do("PATCH", "/api/order_price", map[string]any{"order_id": "3", "new_price": 50_000_000}, w); r.Error() != noop {
			t.Fatalf("same price %s", r.Body)
		}
	})
}

func TestReadRoutes(t *testing.T) {
	eachDB(t, map[string]string{"TPG_STRICT_MODE": "false"}, func(t *testing.T, h *harness) {
		custW, custT := h.user("user")
		_, ro := h.user("read_all")
		h.order("11", "dave", "10", nil)
		h.order("12", "dave", "20", nil)
		h.order("13", "erin", "30", nil)
		if r := h.c.Do("POST", "/order/claim", tari.SignMemo(custW.Key, custW.Addr, "11"), nil); r.Status != 200 {
			t.Fatal(r.Status)
		}
		h.payIn(custW.Addr, 15_000_000, "p1", nil, apitest.Str("11"))
		h.confirm("p1")

		// The caller's own views: only the order it claimed and paid (D26;
		// the reference also listed dave's order 12, which it never touched).
		var or core.OrderResult
		h.do("GET", "/api/orders", nil, custT).JSON(t, &or)
		if or.Address != custW.Addr.Base58() || len(or.Orders) != 1 || or.Orders[0].OrderID != "11" || or.TotalOrders != 10_000_000 {
			t.Fatalf("orders %+v", or)
		}
		h.do("GET", "/api/unfulfilled_orders", nil, custT).JSON(t, &or)
		if len(or.Orders) != 0 {
			t.Fatalf("unfulfilled %+v", or)
		}
		// The admin's view of the same address is unchanged: every order of
		// the customers it is linked to.
		h.do("GET", "/api/orders/"+custW.Addr.Base58(), nil, ro).JSON(t, &or)
		if len(or.Orders) != 2 || or.TotalOrders != 30_000_000 {
			t.Fatalf("admin view %+v", or)
		}
		var pr core.PaymentsResult
		h.do("GET", "/api/payments", nil, custT).JSON(t, &pr)
		if pr.TotalPayments != 15_000_000 || len(pr.Payments) != 1 {
			t.Fatalf("payments %+v", pr)
		}
		var bal core.AddressBalance
		h.do("GET", "/api/balance", nil, custT).JSON(t, &bal)
		if bal.CurrentBalance != 5_000_000 || bal.TotalPaid != 10_000_000 {
			t.Fatalf("balance %+v", bal)
		}
		var hist core.AddressHistory
		h.do("GET", "/api/history", nil, custT).JSON(t, &hist)
		if len(hist.Orders) != 1 || len(hist.Payments) != 1 || len(hist.Settlements) != 1 {
			t.Fatalf("history %+v", hist)
		}
		// Order by id: own order by order_id; others' orders are null; admins see
		// any order by order_id or alt_id (%23 is #).
		if r := h.do("GET", "/api/order/id/11", nil, custT); !strings.Contains(string(r.Body), `"order_id":"11"`) {
			t.Fatalf("own %s", r.Body)
		}
		for _, other := range []string{"12", "13"} { // 12: same customer, never touched (D26)
			if r := h.do("GET", "/api/order/id/"+other, nil, custT); string(r.Body) != "null" {
				t.Fatalf("other %s: %s", other, r.Body)
			}
		}
		if r := h.do("GET", "/api/order/id/%2311", nil, custT); string(r.Body) != "null" {
			t.Fatalf("own by alt id %s", r.Body)
		}
		_, admin := h.user("user", "read_all")
		if r := h.do("GET", "/api/order/id/%2313", nil, admin); !strings.Contains(string(r.Body), `"order_id":"13"`) {
			t.Fatalf("admin alt %s", r.Body)
		}
		if r := h.do("GET", "/api/order/id/nope", nil, admin); string(r.Body) != "null" {
			t.Fatalf("admin missing %s", r.Body)
		}
		// read_all views of other addresses and customers.
		for _, form := range []string{custW.Addr.Base58(), url.PathEscape(custW.Addr.Emoji()), custW.Addr.Hex()} {
			for _, p := range []string{"/api/orders/", "/api/unfulfilled_orders/", "/api/payments/", "/api/history/address/", "/api/balance/"} {
				r := h.do("GET", p+form, nil, ro)
				if r.Status != 200 || !strings.Contains(string(r.Body), custW.Addr.Base58()) {
					t.Fatalf("%s%s: %d %s", p, form, r.Status, r.Body)
				}
			}
		}
		var ch core.CustomerHistory
		h.do("GET", "/api/history/customer/dave", nil, ro).JSON(t, &ch)
		if ch.CustomerID != "dave" || len(ch.Orders) != 2 || ch.OrderBalance.TotalPaid != 10_000_000 {
			t.Fatalf("customer history %+v", ch)
		}
		if r := h.do("GET", "/api/history/customer/nobody", nil, ro); r.Status != 200 || !strings.Contains(string(r.Body), `"orders":[]`) {
			t.Fatalf("unknown customer %s", r.Body)
		}
		if r := h.do("GET", "/api/payments-for-order/11", nil, ro); !strings.Contains(string(r.Body), `"txid":"p1"`) {
			t.Fatalf("payments for order %s", r.Body)
		}
		if r := h.do("GET", "/api/payments-for-order/zzz", nil, ro); string(r.Body) != "[]" {
			t.Fatalf("payments for unknown order %s", r.Body)
		}
		erin := apitest.NewWallet()
		if r := h.c.Do("POST", "/order/claim", tari.SignMemo(erin.Key, erin.Addr, "13"), nil); r.Status != 200 {
			t.Fatal(r.Status)
		}
		if r := h.do("GET", "/api/creditors", nil, ro); r.Status != 200 || string(r.Body) != `[{"customer_id":"erin","status":"New","total_orders":30000000}]` {
			t.Fatalf("creditors %s", r.Body)
		}
		// Pagination works alone or together (D10); bad values are 400.
		checks := map[string]string{
			"/api/customer_ids":                  `["dave","erin"]`,
			"/api/customer_ids?count=1":          `["dave"]`,
			"/api/customer_ids?offset=1":         `["erin"]`,
			"/api/customer_ids?count=1&offset=1": `["erin"]`,
			"/api/addresses":                     `["` + custW.Addr.Base58() + `"]`,
			"/api/addresses?offset=5":            `[]`,
		}
		for p, want := range checks {
			if r := h.do("GET", p, nil, ro); r.Status != 200 || string(r.Body) != want {
				t.Errorf("%s: %d %s, want %s", p, r.Status, r.Body, want)
			}
		}
		for _, p := range []string{"/api/customer_ids?count=x", "/api/addresses?offset=-1", "/api/customer_ids?foo=1"} {
			if r := h.do("GET", p, nil, ro); r.Status != 400 || !strings.HasPrefix(r.Error(), "Query deserialize error") {
				t.Errorf("%s: %d %s", p, r.Status, r.Body)
			}
		}
		// Search: every combination works (D10), oldest first.
		search := map[string][]string{
			"":                       {"11", "12", "13"},
			"?customer_id=dave":      {"11", "12"},
			"?alt_id=%2313":          {"13"},
			"?status=Paid":           {"11"},
			"?status=Unclaimed,Nope": {"12"},
			"?status=Nope":           {},
			"?customer_id=dave&since=2024-03-1T0:0:0Z": {"11", "12"},
			"?until=2020-01-01T00:00:00Z":              {},
			"?memo=%25":                                {},
			"?currency=XTR&order_id=12":                {"12"},
			"?count=1&offset=2":                        {"13"},
		}
		for q, want := range search {
			var got []core.Order
			r := h.do("GET", "/api/search/orders"+q, nil, ro)
			r.JSON(t, &got)
			ids := []string{}
			for _, o := range got {
				ids = append(ids, o.OrderID)
			}
			if r.Status != 200 || strings.Join(ids, ",") != strings.Join(want, ",") {
				t.Errorf("search %s: %d %v, want %v", q, r.Status, ids, want)
			}
		}
		for _, q := range []string{"?bogus=1", "?since=yesterday"} {
			if r := h.do("GET", "/api/search/orders"+q, nil, ro); r.Status != 400 {
				t.Errorf("search %s: %d", q, r.Status)
			}
		}
		// Plain users cannot read others.
		if r := h.do("GET", "/api/search/orders", nil, custT); r.Status != 403 {
			t.Fatalf("user search %d", r.Status)
		}
	})
}
