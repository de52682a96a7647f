package engine_test

import (
	"testing"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/tari"
)

// The scenario values pinned by the reference's e2e suite (engine.md §7.3 item 10).
func TestWorkedValues(t *testing.T) {
	T := core.Tari
	t.Run("overpay leaves credit", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, x *env) {
			w := newWallet()
			x.receive(w.addr, "payment001", T(2500), nil)
			x.confirm("payment001")
			memo := w.sign("2400").JSON()
			o, err := x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "2400", CustomerID: "cust", Memo: &memo, TotalPrice: T(2400), Currency: "XTR"})
			if err != nil || o.Status != core.OrderPaid {
				t.Fatalf("%+v %v", o, err)
			}
			x.wantBalance(w.addr, T(100))
		})
	})
	t.Run("alice stops at the first unaffordable order", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, x *env) {
			alice := newWallet()
			x.order("1", "alice", T(100))
			x.claim(alice, "1")
			x.order("3", "alice", T(65))
			x.claim(alice, "3")
			if r := x.pay(alice.addr, "a1", T(15)); len(r.Paid.OrdersPaid) != 0 {
				t.Fatalf("15 paid %+v", r.Paid.OrdersPaid)
			}
			r := x.pay(alice.addr, "a2", T(100))
			if len(r.Paid.OrdersPaid) != 1 || r.Paid.OrdersPaid[0].OrderID != "1" {
				t.Fatalf("115 paid %+v", r.Paid.OrdersPaid)
			}
			x.wantBalance(alice.addr, T(15))
			cr, err := x.e.Creditors(x.ctx)
			if err != nil || len(cr) != 1 || cr[0].CustomerID != "alice" || cr[0].TotalOrders != T(65) || cr[0].Status != core.OrderNew {
				t.Fatalf("creditors = %+v %v", cr, err)
			}
		})
	})
	t.Run("bob pays two orders with two payments", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, x *env) {
			bob := newWallet()
			x.order("b1", "bob", T(200))
			x.claim(bob, "b1")
			x.order("b2", "bob", T(350))
			x.claim(bob, "b2")
			x.pay(bob.addr, "p1", T(50))
			x.wantStatus("b1", core.OrderNew)
			x.pay(bob.addr, "p2", T(500))
			x.wantStatus("b1", core.OrderPaid)
			x.wantStatus("b2", core.OrderPaid)
			x.wantBalance(bob.addr, 0)
		})
	})
	t.Run("credit note pays from the dummy address", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, x *env) {
			x.order("2", "bob", T(200))
			seq := x.lastSeq()
			res, err := x.e.IssueCreditNote(x.ctx, "bob", T(250), ptr("Helping a buddy out"))
			if err != nil {
				t.Fatal(err)
			}
			dummy := tari.DummyAddress("bob")
			if len(res.OrdersPaid) != 1 || res.OrdersPaid[0].OrderID != "2" || len(res.Settlements) != 1 ||
				res.Settlements[0].SettlementType != core.SettlementSingle || res.Settlements[0].PaymentAddress != dummy.Base58() || res.Settlements[0].Amount != T(200) {
				t.Fatalf("result = %+v", res)
			}
			wantTypes(t, x.eventTypesAfter(seq), core.EventPaymentReceived, core.EventOrderPaid, core.EventPaymentConfirmed)
			x.wantBalance(dummy, T(50))
			if dummy.Base58() != "13111eLuVvxBvAAf3tKJFWKNhJrv5e1dV4on8e3AW1Qq4e" {
				t.Fatalf("dummy = %s", dummy.Base58())
			}
		})
	})
	t.Run("price changes", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, x *env) {
			w := newWallet()
			x.order("1", "alice", T(100))
			x.claim(w, "1")
			x.order("3", "alice", T(65))
			x.claim(w, "3")
			if _, err := x.e.IssueCreditNote(x.ctx, "alice", T(45), nil); err != nil {
				t.Fatal(err)
			}
			o, err := x.e.UpdateOrderPrice(x.ctx, "1", T(50), "discount")
			if err != nil || o.Status != core.OrderNew {
				t.Fatalf("→50: %+v %v", o, err)
			}
			seq := x.lastSeq()
			o, err = x.e.UpdateOrderPrice(x.ctx, "1", T(25), "more discount")
			if err != nil || o.Status != core.OrderPaid {
				t.Fatalf("→25: %+v %v", o, err)
			}
			wantTypes(t, x.eventTypesAfter(seq), core.EventOrderPaid, core.EventOrderModified)
			cb, _ := x.e.CustomerBalance(x.ctx, "alice")
			if cb.CurrentBalance != T(20) {
				t.Fatalf("balance = %+v", cb)
			}
			// D27: a price of 0 is not money (the reference paid the order
			// with a 0 µT settlement); it is refused and nothing changes.
			seq = x.lastSeq()
			_, err = x.e.UpdateOrderPrice(x.ctx, "3", 0, "free")
			wantErr(t, err, core.ErrInvalidAmount)
			if len(x.eventTypesAfter(seq)) != 0 {
				t.Fatal("a refused price change emitted events")
			}
			h, _ := x.e.CustomerHistory(x.ctx, "alice")
			for _, s := range h.Settlements {
				if s.OrderID == "3" {
					t.Fatalf("settlement for a refused price: %+v", s)
				}
			}
			if h.Balance.CurrentBalance != T(20) {
				t.Fatalf("history = %+v", h)
			}
		})
	})
}
