package engine_test

import (
	"testing"

	"github.com/tari-payment/tps/core"
)

// D4: an account linked to the customer that also paid naming the order is
// counted once and never driven below zero (reference bug, engine.md §8 #1).
func TestSettleCountsEachAccountOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("o", "c", 200)
		x.receive(w.addr, "t", 100, ptr("o")) // claims o: w linked to c
		x.confirm("t")                        // 100 < 200: unpaid
		x.e.UpdateOrderPrice(x.ctx, "o", 120, "")
		x.wantStatus("o", core.OrderNew)
		x.wantBalance(w.addr, 100)
		res, err := x.e.SettleCustomer(x.ctx, "c")
		if err != nil || res != nil {
			t.Fatalf("settle = %+v %v", res, err)
		}
		x.wantBalance(w.addr, 100)
	})
}

func TestSettleSkipsUnaffordableAndSplits(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		a, b := newWallet(), newWallet()
		x.order("big", "c", 1000)
		x.claim(a, "big")
		x.advance(1)
		x.order("small", "c", 70)
		x.claim(b, "small")
		x.e.CancelOrder(x.ctx, "small", "x") // keep the funds unspent for now
		x.pay(a.addr, "ta", 40)
		x.pay(b.addr, "tb", 50)
		x.order("mid", "c", 80) // auto-claimed, 80 > either balance
		x.wantStatus("mid", core.OrderNew)
		res, err := x.e.SettleAddress(x.ctx, b.addr)
		if err != nil || res == nil || len(res.OrdersPaid) != 1 || res.OrdersPaid[0].OrderID != "mid" || len(res.Settlements) != 2 {
			t.Fatalf("settle = %+v %v", res, err)
		}
		if s := res.Settlements; s[0].Amount != 50 || s[1].Amount != 30 || s[0].SettlementType != core.SettlementMultiple {
			t.Fatalf("settlements = %+v", s)
		}
		x.wantStatus("big", core.OrderNew)
		x.wantBalance(a.addr, 10)
		x.wantBalance(b.addr, 0)
		if res, err := x.e.SettleCustomer(x.ctx, "nobody"); res != nil || err != nil {
			t.Fatalf("empty settle = %+v %v", res, err)
		}
	})
}
