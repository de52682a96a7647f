package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

func TestCreditNotesNegativeAndUnique(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		T := core.Tari
		dummy := tari.DummyAddress("c")
		x.advance(time.Second) // payments list oldest first
		if res, err := x.e.IssueCreditNote(x.ctx, "c", T(1000), nil); err != nil || res.OrdersPaid == nil || res.Settlements == nil {
			t.Fatalf("credit: %+v %v", res, err)
		}
		// D27: zero, negative and above-supply credits are refused and
		// store nothing (the reference stored debits as negative credits).
		for _, a := range []core.MicroTari{T(-900), 0, core.MaxSupply + 1, -core.MaxSupply} {
			_, err := x.e.IssueCreditNote(x.ctx, "c", a, nil)
			wantErr(t, err, core.ErrInvalidAmount)
		}
		x.wantBalance(dummy, T(1000))
		for range 2 { // two more notes, so the listing below keeps its shape
			x.advance(time.Second)
			if _, err := x.e.IssueCreditNote(x.ctx, "c", 1, nil); err != nil {
				t.Fatal(err)
			}
		}
		// D11: identical notes in the same second get distinct ids.
		x.advance(time.Second)
		for range 2 {
			if _, err := x.e.IssueCreditNote(x.ctx, "c", 7, ptr("same")); err != nil {
				t.Fatal(err)
			}
		}
		ps, _ := x.e.PaymentsForAddress(x.ctx, dummy)
		if len(ps.Payments) != 5 {
			t.Fatalf("payments = %d", len(ps.Payments))
		}
		p := ps.Payments[0]
		if p.PaymentType != core.PaymentManual || p.Status != core.PaymentConfirmed || !strings.HasPrefix(p.TxID, "credit_note_c:1000.000τ:") ||
			*p.Memo != "Credit note: No reason given" {
			t.Fatalf("payment = %+v", p)
		}
		if m := *ps.Payments[4].Memo; m != "Credit note: same" {
			t.Fatalf("memo = %q", m)
		}
		// The dummy is linked to the customer.
		if cids, _ := x.e.CustomerIDsForAddress(x.ctx, dummy); len(cids) != 1 || cids[0] != "c" {
			t.Fatalf("links = %v", cids)
		}
	})
}

// A credit note pools every account of each order's customer (non-isolated),
// and a negative balance contributes nothing (D4).
func TestCreditNotePoolsCustomerAccounts(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("o", "c", 100)
		x.claim(w, "o")
		x.pay(w.addr, "t", 60)
		x.wantStatus("o", core.OrderNew)
		res, err := x.e.IssueCreditNote(x.ctx, "c", 40, nil)
		if err != nil || len(res.OrdersPaid) != 1 || len(res.Settlements) != 2 {
			t.Fatalf("%+v %v", res, err)
		}
		for _, s := range res.Settlements {
			if s.SettlementType != core.SettlementMultiple {
				t.Fatalf("settlement %+v", s)
			}
		}
		x.wantBalance(w.addr, 0)
		x.wantBalance(tari.DummyAddress("c"), 0)
	})
}
