package engine_test

import (
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/tari"
)

func TestFulfil(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("u", "c", 100)
		x.order("n", "c", 50)
		x.claim(w, "n")
		before, _ := x.e.CustomerBalance(x.ctx, "c")
		for _, id := range []string{"u", "n"} {
			seq := x.lastSeq()
			o, err := x.e.FulfilOrder(x.ctx, id, "Redeem voucher")
			if err != nil || o.Status != core.OrderPaid {
				t.Fatalf("fulfil %s: %+v %v", id, o, err)
			}
			wantTypes(t, x.eventTypesAfter(seq), core.EventOrderPaid)
		}
		after, _ := x.e.CustomerBalance(x.ctx, "c")
		if after.CurrentBalance != before.CurrentBalance {
			t.Fatalf("balance moved: %+v → %+v", before, after)
		}
		ob, _ := x.e.CustomerOrderBalance(x.ctx, "c")
		if ob.TotalPaid != 150 || ob.TotalCurrent != 0 {
			t.Fatalf("order balance = %+v", ob)
		}
		ps, _ := x.e.PaymentsForAddress(x.ctx, tari.DummyAddress("c"))
		if len(ps.Payments) != 2 || *ps.Payments[0].Memo != "Credit note: Admin credit overrode for order u. Reason: Redeem voucher" {
			t.Fatalf("credit notes = %+v", ps.Payments)
		}
		_, err := x.e.FulfilOrder(x.ctx, "u", "again")
		wantErr(t, err, core.ErrForbiddenChange)
		_, err = x.e.FulfilOrder(x.ctx, "missing", "x")
		wantErr(t, err, core.ErrOrderNotFound) // D12
	})
}

func TestCancelKeepsMemo(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		memo := "note"
		x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "1", CustomerID: "c", Memo: &memo, TotalPrice: 5, Currency: "XTR"})
		seq := x.lastSeq()
		o, err := x.e.CancelOrder(x.ctx, "1", "Out of stock")
		if err != nil || o.Status != core.OrderCancelled || *o.Memo != "note" || *o.CancelReason != "Out of stock" {
			t.Fatalf("%+v %v", o, err)
		}
		wantTypes(t, x.eventTypesAfter(seq), core.EventOrderAnnulled)
		if g := x.get("1"); *g.CancelReason != "Out of stock" || *g.Memo != "note" {
			t.Fatalf("stored %+v", g)
		}
		_, err = x.e.CancelOrder(x.ctx, "1", "again")
		wantErr(t, err, core.ErrForbiddenChange)
		_, err = x.e.CancelOrder(x.ctx, "nope", "x")
		wantErr(t, err, core.ErrOrderNotFound)
	})
}

func TestResetOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("1", "c", 5)
		x.claim(w, "1")
		x.e.CancelOrder(x.ctx, "1", "oops")
		x.pay(w.addr, "t", 10) // 1 is Cancelled: not paid
		x.wantBalance(w.addr, 10)
		seq := x.lastSeq()
		ch, err := x.e.ResetOrder(x.ctx, "1")
		if err != nil || ch.OldOrder.Status != core.OrderCancelled || ch.NewOrder.Status != core.OrderPaid || ch.NewOrder.CancelReason != nil {
			t.Fatalf("%+v %v", ch, err)
		}
		wantTypes(t, x.eventTypesAfter(seq), core.EventOrderModified, core.EventNewOrder, core.EventOrderPaid)
		_, err = x.e.ResetOrder(x.ctx, "1")
		wantErr(t, err, core.ErrForbiddenChange)
		_, err = x.e.ResetOrder(x.ctx, "2")
		wantErr(t, err, core.ErrOrderNotFound)
	})
}

func TestReassign(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		alice, bob := newWallet(), newWallet()
		x.order("a", "alice", 100)
		x.claim(alice, "a")
		x.order("b0", "bob", 1)
		x.claim(bob, "b0")
		x.pay(bob.addr, "t", 101)
		seq := x.lastSeq()
		res, err := x.e.ReassignOrder(x.ctx, "a", "bob", "moved")
		if err != nil || res.Orders.OldOrder.CustomerID != "alice" || res.Orders.NewOrder.CustomerID != "bob" || res.Orders.NewOrder.Status != core.OrderPaid || len(res.Settlements) != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		wantTypes(t, x.eventTypesAfter(seq), core.EventOrderModified, core.EventOrderPaid)
		_, err = x.e.ReassignOrder(x.ctx, "a", "carol", "x")
		wantErr(t, err, core.ErrForbiddenChange)
		x.order("u", "alice", 1)
		_, err = x.e.ReassignOrder(x.ctx, "u", "alice", "x")
		wantErr(t, err, core.ErrNoOpChange)
		// Unclaimed orders move without a payment attempt; no OrderPaid (D6).
		seq = x.lastSeq()
		res, err = x.e.ReassignOrder(x.ctx, "u", "bob", "x")
		if err != nil || res.Orders.NewOrder.Status != core.OrderUnclaimed || res.Settlements == nil {
			t.Fatalf("%+v %v", res, err)
		}
		wantTypes(t, x.eventTypesAfter(seq), core.EventOrderModified)
		_, err = x.e.ReassignOrder(x.ctx, "zz", "bob", "x")
		wantErr(t, err, core.ErrOrderNotFound)
	})
}

func TestMemoUpdateKeepsExpiryClock(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		x.order("1", "c", 5)
		x.advance(time.Hour)
		seq := x.lastSeq()
		o, err := x.e.UpdateOrderMemo(x.ctx, "1", "purple jelly beans", "why")
		if err != nil || *o.Memo != "purple jelly beans" || !o.UpdatedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("%+v %v", o, err)
		}
		wantTypes(t, x.eventTypesAfter(seq), core.EventOrderModified)
		// D14: the unclaimed clock still runs from creation.
		x.advance(time.Hour + time.Second)
		r, _ := x.e.ExpireOrders(x.ctx, x.clock())
		if len(r.Unclaimed) != 1 {
			t.Fatalf("expired = %+v", r)
		}
		// Memo changes are allowed on any status.
		if _, err := x.e.UpdateOrderMemo(x.ctx, "1", "after", ""); err != nil {
			t.Fatal(err)
		}
		_, err = x.e.UpdateOrderMemo(x.ctx, "missing", "m", "")
		wantErr(t, err, core.ErrOrderNotFound) // D12
	})
}

func TestPriceUpdateErrors(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("u", "c", 5)
		_, err := x.e.UpdateOrderPrice(x.ctx, "u", 4, "")
		wantErr(t, err, core.ErrForbiddenChange) // Unclaimed
		x.claim(w, "u")
		for _, bad := range []core.MicroTari{-1, 0, core.MaxSupply + 1} { // D27
			_, err = x.e.UpdateOrderPrice(x.ctx, "u", bad, "")
			wantErr(t, err, core.ErrInvalidAmount)
		}
		_, err = x.e.UpdateOrderPrice(x.ctx, "u", 5, "")
		wantErr(t, err, core.ErrNoOpChange)
		_, err = x.e.UpdateOrderPrice(x.ctx, "x", 5, "")
		wantErr(t, err, core.ErrOrderNotFound)
		// No funded account: the price changes, the order stays New, no OrderPaid.
		seq := x.lastSeq()
		o, err := x.e.UpdateOrderPrice(x.ctx, "u", 9, "")
		if err != nil || o.Status != core.OrderNew || o.TotalPrice != 9 {
			t.Fatalf("%+v %v", o, err)
		}
		wantTypes(t, x.eventTypesAfter(seq), core.EventOrderModified)
	})
}
