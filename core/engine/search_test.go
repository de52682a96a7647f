package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
)

func ids(os []core.Order) string {
	s := ""
	for _, o := range os {
		s += o.OrderID + " "
	}
	return s
}

// D10: every combination of filters works; % and _ are literal; pagination
// works alone or together.
func TestSearchOrders(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		mk := func(id, alt, cid, memo, cur string) {
			x.advance(time.Hour)
			_, err := x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: id, AltID: &alt, CustomerID: cid, Memo: &memo, TotalPrice: 10, Currency: cur, CreatedAt: x.clock()})
			if err != nil {
				t.Fatal(err)
			}
		}
		mk("1", "#1", "alice", "Blue 100% cotton", "XTR")
		mk("2", "#2", "bob", "blue_shirt", "USD")
		mk("3", "#3", "bob", "red", "XTR")
		mk("4", "#4", "alice", "bluexshirt", "XTR")
		x.e.CancelOrder(x.ctx, "3", "x")
		all := core.OrderQuery{}
		h := func(n int) *time.Time { v := t0.Add(time.Duration(n) * time.Hour); return &v }
		cases := []struct {
			q    core.OrderQuery
			want string
		}{
			{all, "1 2 3 4 "},
			{core.OrderQuery{AltID: ptr("#2")}, "2 "},
			{core.OrderQuery{OrderID: ptr("4")}, "4 "},
			{core.OrderQuery{CustomerID: ptr("bob")}, "2 3 "},
			{core.OrderQuery{Currency: ptr("USD")}, "2 "},
			{core.OrderQuery{Memo: ptr("BLUE")}, "1 2 4 "},
			{core.OrderQuery{Memo: ptr("%")}, "1 "},
			{core.OrderQuery{Memo: ptr("_shirt")}, "2 "},
			{core.OrderQuery{Since: h(2), Until: h(3)}, "2 3 "},
			{core.OrderQuery{Statuses: []core.OrderStatus{core.OrderCancelled, core.OrderPaid}}, "3 "},
			{core.OrderQuery{Statuses: []core.OrderStatus{core.OrderUnclaimed}, CustomerID: ptr("bob"), Memo: ptr("blue"), Currency: ptr("USD"), AltID: ptr("#2"), OrderID: ptr("2"), Since: h(1), Until: h(4)}, "2 "},
			{core.OrderQuery{Page: core.Page{Count: ptr(2)}}, "1 2 "},
			{core.OrderQuery{Page: core.Page{Offset: ptr(3)}}, "4 "},
			{core.OrderQuery{Page: core.Page{Count: ptr(1), Offset: ptr(1)}}, "2 "},
			{core.OrderQuery{CustomerID: ptr("alice"), Page: core.Page{Offset: ptr(1)}}, "4 "},
			{core.OrderQuery{CustomerID: ptr("nobody")}, ""},
		}
		for i, c := range cases {
			got, err := x.e.SearchOrders(x.ctx, c.q)
			if err != nil || got == nil || ids(got) != c.want {
				t.Errorf("case %d: %q %v, want %q", i, ids(got), err, c.want)
			}
		}
		cids, err := x.e.CustomerIDs(x.ctx, core.Page{})
		if err != nil || fmt.Sprint(cids) != "[alice bob]" {
			t.Fatalf("customer ids = %v %v", cids, err)
		}
		cids, _ = x.e.CustomerIDs(x.ctx, core.Page{Offset: ptr(1)})
		if fmt.Sprint(cids) != "[bob]" {
			t.Fatalf("offset only = %v", cids)
		}
		cids, _ = x.e.CustomerIDs(x.ctx, core.Page{Count: ptr(1)})
		if fmt.Sprint(cids) != "[alice]" {
			t.Fatalf("count only = %v", cids)
		}
		open, _ := x.e.OpenOrders(x.ctx)
		if ids(open) != "1 2 4 " {
			t.Fatalf("open = %q", ids(open))
		}
	})
}
