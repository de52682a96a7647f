package engine_test

import (
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
)

// A payment whose payment id names an order pays that order, whoever claimed
// it (here another wallet did), exactly as a claimed order is paid: a partial
// payment waits in the payer's balance, the next one completes it, and the
// overpayment stays in the balance.
func TestPaymentIDPaysNamedOrderClaimedByAnother(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		owner, payer := newWallet(), newWallet()
		x.order("1001", "cust", 3000)
		x.claim(owner, "1001")

		x.receive(payer.dual(), "tx1", 1000, ptr("1001"))
		r := x.confirm("tx1")
		if len(r.Paid.OrdersPaid) != 0 {
			t.Fatalf("a partial payment paid %+v", r.Paid.OrdersPaid)
		}
		x.wantStatus("1001", core.OrderNew)
		x.wantBalance(payer.addr, 1000)

		x.receive(payer.dual(), "tx2", 2500, ptr("1001"))
		x.wantStatus("1001", core.OrderNew) // received, not confirmed
		seq := x.lastSeq()
		r = x.confirm("tx2")
		if len(r.Paid.OrdersPaid) != 1 || r.Paid.OrdersPaid[0].OrderID != "1001" {
			t.Fatalf("paid = %+v", r.Paid)
		}
		x.wantStatus("1001", core.OrderPaid)
		x.wantBalance(payer.addr, 500) // D25: the dual form is the same account
		x.wantBalance(owner.addr, 0)
		wantTypes(t, x.eventTypesAfter(seq), core.EventOrderPaid, core.EventPaymentConfirmed)
	})
}

// The named order comes before the payer's other payable orders, and an
// unclaimed order named by a payment id is claimed at receipt and paid at
// confirmation.
func TestPaymentIDNamedOrderFirst(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("500", "me", 1000)
		x.claim(w, "500") // New, lower id: paid first without a payment id
		x.order("1002", "shopper", 1500)
		x.wantStatus("1002", core.OrderUnclaimed)

		x.receive(w.addr, "tx1", 2000, ptr("1002"))
		x.wantStatus("1002", core.OrderNew)
		r := x.confirm("tx1")
		if len(r.Paid.OrdersPaid) != 1 || r.Paid.OrdersPaid[0].OrderID != "1002" {
			t.Fatalf("paid = %+v", r.Paid.OrdersPaid)
		}
		x.wantStatus("500", core.OrderNew) // 500 left: not enough for it
		x.wantBalance(w.addr, 500)
	})
}

// A partly paid order named by payment id still expires as today, and a
// payment naming a closed order revives nothing (D2): it goes to the balance.
func TestPaymentIDExpiryAsToday(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("1003", "cust", 3000)
		x.receive(w.addr, "tx1", 1000, ptr("1003"))
		x.confirm("tx1")
		x.advance(48*time.Hour + time.Second)
		r, err := x.e.ExpireOrders(x.ctx, x.clock())
		if err != nil || len(r.Unpaid) != 1 {
			t.Fatalf("expiry = %+v, %v", r, err)
		}
		x.wantStatus("1003", core.OrderExpired)
		x.receive(w.addr, "tx2", 5000, ptr("1003"))
		if res := x.confirm("tx2"); len(res.Paid.OrdersPaid) != 0 {
			t.Fatalf("an expired order was paid: %+v", res.Paid)
		}
		x.wantStatus("1003", core.OrderExpired)
		x.wantBalance(w.addr, 6000)
	})
}

// OrderPayState follows an order through what its pay page shows.
func TestOrderPayStateProgress(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		if s, err := x.e.OrderPayState(x.ctx, "nope"); err != nil || s != nil {
			t.Fatalf("unknown order: %+v %v", s, err)
		}
		x.order("1004", "cust", 3000)
		want := func(p engine.PayProgress, due core.MicroTari) {
			t.Helper()
			s, err := x.e.OrderPayState(x.ctx, "1004")
			if err != nil || s.Progress != p || s.Due != due {
				t.Fatalf("state = %+v, %v; want %s due %d", s, err, p, due)
			}
		}
		want(engine.PayWaiting, 3000)
		x.receive(w.dual(), "tx1", 1000, ptr("1004"))
		want(engine.PaySeen, 2000)
		x.confirm("tx1")
		want(engine.PayConfirmed, 2000)
		x.receive(w.dual(), "tx2", 2000, ptr("1004"))
		want(engine.PaySeen, 0)
		x.confirm("tx2")
		want(engine.PayPaid, 0)
		x.order("1005", "cust", 10)
		if _, err := x.e.CancelOrder(x.ctx, "1005", "test"); err != nil {
			t.Fatal(err)
		}
		if s, _ := x.e.OrderPayState(x.ctx, "1005"); s.Progress != engine.PayCancelled || !s.Progress.Final() {
			t.Fatalf("cancelled: %+v", s)
		}
	})
}
