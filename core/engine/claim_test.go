package engine_test

import (
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/tari"
)

func TestClaimMovesToNewLinksAndEmits(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("o1", "cust", 100)
		seq := x.lastSeq()
		x.advance(time.Minute)
		r, err := x.e.ClaimOrder(x.ctx, w.sign("o1"))
		if err != nil {
			t.Fatal(err)
		}
		if r.Order.Status != core.OrderNew {
			t.Fatalf("status = %s", r.Order.Status)
		}
		// D13/D14: expiry from the claim time with the configured unpaid timeout.
		if want := t0.Add(time.Minute + 48*time.Hour); !r.ExpiresAt.Equal(want) {
			t.Fatalf("expires_at = %v, want %v", r.ExpiresAt, want)
		}
		wantTypes(t, x.eventTypesAfter(seq), core.EventOrderClaimed)
		cids, _ := x.e.CustomerIDsForAddress(x.ctx, w.addr)
		if len(cids) != 1 || cids[0] != "cust" {
			t.Fatalf("links = %v", cids)
		}
		// The same wallet in another address form is the same account (D25).
		cids, _ = x.e.CustomerIDsForAddress(x.ctx, w.dual())
		if len(cids) != 1 {
			t.Fatalf("dual-form links = %v", cids)
		}
	})
}

func TestClaimPaysFromClaimantBalance(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		// Paid from the one-sided (dual) form, claimed with the single form (D25).
		x.pay(w.dual(), "t1", 150)
		x.order("o1", "cust", 100)
		seq := x.lastSeq()
		o := x.claim(w, "o1")
		if o.Status != core.OrderPaid {
			t.Fatalf("status = %s", o.Status)
		}
		wantTypes(t, x.eventTypesAfter(seq), core.EventOrderClaimed, core.EventOrderPaid)
		x.wantBalance(w.addr, 50)
		x.wantBalance(w.dual(), 50)
	})
}

func TestClaimErrors(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w, other := newWallet(), newWallet()
		x.order("o1", "cust", 100)
		bad := w.sign("o1")
		bad.Address = other.addr.Base58()
		_, err := x.e.ClaimOrder(x.ctx, bad)
		wantErr(t, err, core.ErrInvalidSignature)
		// D26: an unknown order gets the refusal a claimed or closed one
		// gets, so the route tells nothing about which order ids exist.
		_, err = x.e.ClaimOrder(x.ctx, w.sign("nope"))
		wantErr(t, err, core.ErrForbiddenChange)
		x.wantStatus("o1", core.OrderUnclaimed)
		x.claim(w, "o1")
		// Claimed by w: another address cannot claim it, nor is it linked
		// to the customer; w claiming again changes nothing and succeeds.
		_, err = x.e.ClaimOrder(x.ctx, other.sign("o1"))
		wantErr(t, err, core.ErrForbiddenChange)
		if r, err := x.e.ClaimOrder(x.ctx, w.sign("o1")); err != nil || r.Order.Status != core.OrderNew {
			t.Fatalf("re-claim by its claimant: %+v %v", r, err)
		}
		if cids, _ := x.e.CustomerIDsForAddress(x.ctx, other.addr); len(cids) != 0 {
			t.Fatalf("refused claimant linked to %v", cids)
		}
	})
}

// D2: a claim never revives a Paid, Expired or Cancelled order.
func TestClaimRefusedOnClosedOrders(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w, attacker := newWallet(), newWallet()
		x.pay(w.addr, "t1", 100)
		x.order("paid", "cust", 100)
		x.claim(w, "paid")
		x.wantStatus("paid", core.OrderPaid)
		x.order("cancelled", "cust", 1)
		if _, err := x.e.CancelOrder(x.ctx, "cancelled", "no"); err != nil {
			t.Fatal(err)
		}
		x.order("expired", "nobody", 1)
		x.advance(3 * time.Hour)
		if _, err := x.e.ExpireOrders(x.ctx, x.clock()); err != nil {
			t.Fatal(err)
		}
		x.pay(attacker.addr, "t2", 1000)
		for _, id := range []string{"paid", "cancelled", "expired"} {
			before := x.get(id)
			seq := x.lastSeq()
			_, err := x.e.ClaimOrder(x.ctx, attacker.sign(id))
			if err != core.ErrForbiddenChange {
				t.Fatalf("claim %s (%s): %v", id, before.Status, err)
			}
			if after := x.get(id); after.Status != before.Status || !after.UpdatedAt.Equal(before.UpdatedAt) {
				t.Fatalf("%s changed: %+v", id, after)
			}
			wantTypes(t, x.eventTypesAfter(seq))
		}
		if cids, _ := x.e.CustomerIDsForAddress(x.ctx, attacker.addr); len(cids) != 0 {
			t.Fatalf("attacker linked to %v", cids)
		}
		x.wantBalance(attacker.addr, 1000)
	})
}

func TestClaimAltIDOnlyWhenNotStrict(t *testing.T) {
	for _, strict := range []bool{true, false} {
		// Distinct subtest names: "#" in a generated name would end up in the SQLite DSN.
		t.Run(map[bool]string{true: "strict", false: "lenient"}[strict], func(t *testing.T) {
			forEachDB(t, func(t *testing.T, x *env) {
				w := newWallet()
				if _, err := x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "9", AltID: ptr("#1009"), CustomerID: "c", TotalPrice: 1, Currency: "XTR"}); err != nil {
					t.Fatal(err)
				}
				_, err := x.e.ClaimOrder(x.ctx, w.sign("#1009"))
				if strict {
					wantErr(t, err, core.ErrForbiddenChange) // unknown order_id (D26)
				} else if err != nil {
					t.Fatal(err)
				}
			}, func(c *engine.Config) { c.StrictMode = strict })
		})
	}
}

// An order_id match wins over another order's alt_id (reference bug, engine.md §8 #11).
func TestLookupOrderIDWinsOverAltID(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "b", AltID: ptr("a"), CustomerID: "c1", TotalPrice: 1, Currency: "XTR"})
		x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "a", AltID: ptr("z"), CustomerID: "c2", TotalPrice: 1, Currency: "XTR"})
		if o := x.get("a"); o.CustomerID != "c2" {
			t.Fatalf("got %+v", o)
		}
		if o := x.get("z"); o.OrderID != "a" {
			t.Fatalf("alt lookup got %+v", o)
		}
		if o, err := x.e.OrderByID(x.ctx, "missing"); o != nil || err != nil {
			t.Fatalf("missing = %v %v", o, err)
		}
	}, func(c *engine.Config) { c.StrictMode = false })
}

func TestClaimAnyAddressForm(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("o", "c", 5)
		// Sign with the dual form; payments from the single form pay it.
		sig := tari.SignMemo(w.key, w.dual(), "o")
		if _, err := x.e.ClaimOrder(x.ctx, sig); err != nil {
			t.Fatal(err)
		}
		x.pay(w.addr, "t", 5)
		x.wantStatus("o", core.OrderPaid)
	})
}
