package engine_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
)

func TestNewOrderIsUnclaimedAndEmitsNewOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		o := x.order("1000", "alice", core.Tari(100))
		if o.Status != core.OrderUnclaimed || o.ID == 0 || o.TotalPrice != core.Tari(100) {
			t.Fatalf("order = %+v", o)
		}
		evs := x.events()
		if len(evs) != 1 || evs[0].Type != core.EventNewOrder {
			t.Fatalf("events = %+v", evs)
		}
		var p core.OrderEvent
		if err := json.Unmarshal(evs[0].Payload, &p); err != nil || p.Order.OrderID != "1000" || p.Order.Status != core.OrderUnclaimed {
			t.Fatalf("payload = %s (%v)", evs[0].Payload, err)
		}
		got := x.get("1000")
		if !got.CreatedAt.Equal(t0) || got.CustomerID != "alice" || got.Currency != "XTR" {
			t.Fatalf("stored = %+v", got)
		}
	})
}

func TestNewOrderDuplicateChangesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "1", AltID: ptr("#1001"), CustomerID: "a", TotalPrice: 5, Currency: "XTR"})
		seq := x.lastSeq()
		_, err := x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "1", CustomerID: "b", TotalPrice: 7, Currency: "XTR"})
		wantErr(t, err, core.ErrOrderAlreadyExists)
		// Same alt_id under another order id is a duplicate too (D20).
		_, err = x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "2", AltID: ptr("#1001"), CustomerID: "b", TotalPrice: 7, Currency: "XTR"})
		wantErr(t, err, core.ErrOrderAlreadyExists)
		if o := x.get("1"); o.CustomerID != "a" || o.TotalPrice != 5 {
			t.Fatalf("order changed: %+v", o)
		}
		wantTypes(t, x.eventTypesAfter(seq))
	})
}

func TestNewOrderMemoSignatureClaimsAndPays(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.pay(w.addr, "tx1", 2500)
		memo := w.sign("2400").JSON()
		seq := x.lastSeq()
		o, err := x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "2400", CustomerID: "c", Memo: &memo, TotalPrice: 2400, Currency: "XTR"})
		if err != nil || o.Status != core.OrderPaid {
			t.Fatalf("order = %+v, %v", o, err)
		}
		wantTypes(t, x.eventTypesAfter(seq), core.EventNewOrder, core.EventOrderPaid)
		x.wantBalance(w.addr, 100)
		// The memo is kept as stored.
		if got := x.get("2400"); got.Memo == nil || *got.Memo != memo {
			t.Fatalf("memo = %v", got.Memo)
		}
	})
}

func TestNewOrderMemoSignatureForAnotherOrderDoesNotClaim(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		memo := w.sign("other").JSON()
		o, err := x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "1", CustomerID: "c", Memo: &memo, TotalPrice: 1, Currency: "XTR"})
		if err != nil || o.Status != core.OrderUnclaimed {
			t.Fatalf("order = %+v, %v", o, err)
		}
		bad := `{"address":"` + w.addr.Base58() + `","order_id":"2","signature":"` + w.sign("3").Signature + `"}`
		o, err = x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "2", CustomerID: "c", Memo: &bad, TotalPrice: 1, Currency: "XTR"})
		if err != nil || o.Status != core.OrderUnclaimed {
			t.Fatalf("badly signed memo: order = %+v, %v", o, err)
		}
	})
}

func TestNewOrderMemoClaimWithoutFundsStaysNew(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		memo := w.sign("1").JSON()
		o, err := x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "1", CustomerID: "c", Memo: &memo, TotalPrice: 10, Currency: "XTR"})
		if err != nil || o.Status != core.OrderNew {
			t.Fatalf("order = %+v, %v", o, err)
		}
		// A later payment by that wallet pays it on confirmation.
		r := x.pay(w.dual(), "tx", 10)
		if len(r.Paid.OrdersPaid) != 1 {
			t.Fatalf("confirm paid %+v", r.Paid)
		}
		x.wantStatus("1", core.OrderPaid)
	})
}

func TestAutoClaimPrefersPayerNamingTheOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		linked, payer := newWallet(), newWallet()
		x.order("old", "cust", 1)
		x.claim(linked, "old")
		x.pay(linked.addr, "l1", 1000) // pays "old", leaves 999
		x.advance(1)
		x.receive(payer.addr, "p1", 500, ptr("new"))
		x.confirm("p1")
		o := x.order("new", "cust", 500)
		if o.Status != core.OrderPaid {
			t.Fatalf("status = %s", o.Status)
		}
		x.wantBalance(payer.addr, 0)
		x.wantBalance(linked.addr, 999)
	})
}

func TestAutoClaimFallsBackToLinkedAccount(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("a", "cust", 5)
		x.claim(w, "a")
		x.pay(w.addr, "t", 100)
		x.wantBalance(w.addr, 95)
		o := x.order("b", "cust", 50)
		if o.Status != core.OrderPaid {
			t.Fatalf("status = %s", o.Status)
		}
		// Too expensive: claimed (New) but unpaid.
		o = x.order("c", "cust", 500)
		if o.Status != core.OrderNew {
			t.Fatalf("status = %s", o.Status)
		}
		// No account at all: stays Unclaimed.
		if o := x.order("d", "stranger", 1); o.Status != core.OrderUnclaimed {
			t.Fatalf("status = %s", o.Status)
		}
	})
}

func TestAutoClaimOff(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("a", "cust", 5)
		x.claim(w, "a")
		x.pay(w.addr, "t", 100)
		if o := x.order("b", "cust", 50); o.Status != core.OrderUnclaimed {
			t.Fatalf("status = %s", o.Status)
		}
	}, func(c *engine.Config) { c.AutoClaim = false })
}

func TestAutoClaimByAltIDOnlyWhenNotStrict(t *testing.T) {
	for _, strict := range []bool{true, false} {
		t.Run(map[bool]string{true: "strict", false: "lenient"}[strict], func(t *testing.T) {
			forEachDB(t, func(t *testing.T, x *env) {
				w := newWallet()
				x.receive(w.addr, "t", 10, ptr("#1001"))
				x.confirm("t")
				o, err := x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "55", AltID: ptr("#1001"), CustomerID: "c", TotalPrice: 10, Currency: "XTR"})
				if err != nil {
					t.Fatal(err)
				}
				want := core.OrderUnclaimed
				if !strict {
					want = core.OrderPaid
				}
				if o.Status != want {
					t.Fatalf("status = %s, want %s", o.Status, want)
				}
			}, func(c *engine.Config) { c.StrictMode = strict })
		})
	}
}

// TestEventTimesComeFromTheEngineClock: an event's created_at is the
// engine's clock (Config.Now), like the audit rows of the same change, not
// the machine's time.
func TestEventTimesComeFromTheEngineClock(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		x.advance(-72 * time.Hour) // far from the machine's time
		seq := x.lastSeq()
		if _, err := x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "clock-1", CustomerID: "c", TotalPrice: 5, Currency: "XTR"}); err != nil {
			t.Fatal(err)
		}
		want := x.clock().UTC().Truncate(time.Microsecond)
		var n int
		for _, ev := range x.events() {
			if ev.Seq <= seq {
				continue
			}
			n++
			if !ev.CreatedAt.Equal(want) {
				t.Fatalf("%s created_at %v, want the engine clock %v", ev.Type, ev.CreatedAt, want)
			}
		}
		if n == 0 {
			t.Fatal("no event written")
		}
	})
}
