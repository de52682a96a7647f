package engine_test

import (
	"testing"

	"github.com/tari-payment/tps/core"
)

func TestBalancesAndHistories(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w, v := newWallet(), newWallet()
		x.order("a1", "alice", 100)
		x.claim(w, "a1")
		x.order("a2", "alice", 500)
		x.claim(v, "a2")
		x.pay(w.addr, "t1", 150)        // pays a1, 50 left
		x.pay(w.dual(), "t2", 10)       // same account, other form (D25)
		x.receive(w.addr, "t3", 7, nil) // pending
		x.pay(v.addr, "t4", 20)

		b := x.balance(w.dual())
		if b.Address != w.dual().Base58() || b.TotalConfirmed != 160 || b.TotalPaid != 100 || b.CurrentBalance != 60 || b.Pending != 7 {
			t.Fatalf("balance = %+v", b)
		}
		unknown := newWallet()
		if b := x.balance(unknown.addr); b.CurrentBalance != 0 || !b.LastUpdate.Equal(t0) {
			t.Fatalf("unknown balance = %+v", b)
		}
		cb, err := x.e.CustomerBalance(x.ctx, "alice")
		if err != nil || cb.CurrentBalance != 80 || cb.TotalConfirmed != 180 || cb.TotalPaid != 100 || len(cb.Addresses) != 2 {
			t.Fatalf("customer balance = %+v %v", cb, err)
		}
		ob, _ := x.e.CustomerOrderBalance(x.ctx, "alice")
		if ob.TotalCurrent != 500 || ob.TotalPaid != 100 || ob.CustomerID != "alice" {
			t.Fatalf("order balance = %+v", ob)
		}
		ah, err := x.e.AddressHistory(x.ctx, w.addr)
		if err != nil || len(ah.Orders) != 2 || len(ah.Payments) != 3 || len(ah.Settlements) != 1 || ah.Balance.CurrentBalance != 60 {
			t.Fatalf("address history = %+v %v", ah, err)
		}
		ch, err := x.e.CustomerHistory(x.ctx, "alice")
		if err != nil || len(ch.Orders) != 2 || len(ch.Settlements) != 1 || ch.Settlements[0].OrderID != "a1" {
			t.Fatalf("customer history = %+v %v", ch, err)
		}
		empty, err := x.e.CustomerHistory(x.ctx, "nobody")
		if err != nil || empty.Orders == nil || empty.Settlements == nil || empty.Balance.Addresses == nil {
			t.Fatalf("empty history = %+v %v", empty, err)
		}
		or, _ := x.e.OrdersForAddress(x.ctx, v.addr, false)
		if len(or.Orders) != 2 || or.TotalOrders != 600 {
			t.Fatalf("orders = %+v", or)
		}
		or, _ = x.e.OrdersForAddress(x.ctx, v.addr, true)
		if len(or.Orders) != 1 || or.TotalOrders != 500 {
			t.Fatalf("unfulfilled = %+v", or)
		}
		pr, _ := x.e.PaymentsForAddress(x.ctx, w.addr)
		if pr.TotalPayments != 167 || len(pr.Payments) != 3 {
			t.Fatalf("payments = %+v", pr)
		}
		if ps, _ := x.e.PaymentsForOrder(x.ctx, "a1"); len(ps) != 0 {
			t.Fatalf("payments for order = %+v", ps)
		}
		// A plain user sees only the orders it claimed, paid or named (D26),
		// not every order of a customer it is linked to (the reference showed
		// w the order v claimed, a2).
		if o, err := x.e.OrderForAddress(x.ctx, w.addr, "a1"); err != nil || o == nil {
			t.Fatalf("own order: %v %v", o, err)
		}
		if o, err := x.e.OrderForAddress(x.ctx, w.addr, "a2"); err != nil || o != nil {
			t.Fatalf("order claimed by another address of the customer: %v %v", o, err)
		}
		if o, err := x.e.OrderForAddress(x.ctx, v.addr, "a2"); err != nil || o == nil {
			t.Fatalf("v's own order: %v %v", o, err)
		}
		if own, err := x.e.OwnOrders(x.ctx, w.dual(), false); err != nil || len(own.Orders) != 1 || own.Orders[0].OrderID != "a1" || own.TotalOrders != 100 {
			t.Fatalf("own orders = %+v %v", own, err)
		}
		if own, err := x.e.OwnHistory(x.ctx, w.addr); err != nil || len(own.Orders) != 1 || len(own.Payments) != 3 || len(own.Settlements) != 1 {
			t.Fatalf("own history = %+v %v", own, err)
		}
		if o, err := x.e.OrderForAddress(x.ctx, unknown.addr, "a2"); err != nil || o != nil {
			t.Fatalf("foreign order: %v %v", o, err)
		}
		addrs, _ := x.e.Addresses(x.ctx, core.Page{})
		if len(addrs) != 3 {
			t.Fatalf("addresses = %v", addrs)
		}
		if cr, _ := x.e.Creditors(x.ctx); len(cr) != 1 || cr[0].TotalOrders != 500 {
			t.Fatalf("creditors = %+v", cr)
		}
	})
}
