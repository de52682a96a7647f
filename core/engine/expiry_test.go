package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

func shortTimeouts(c *engine.Config) {
	c.UnclaimedTimeout = 2 * time.Second
	c.UnpaidTimeout = 4 * time.Second
}

// The reference e2e timings: limits 2 s and 4 s; an Unclaimed order is
// Expired after 3 s; a New order survives t0+2.6 s and expires at t0+4.6 s.
func TestExpiryTimings(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("u", "c1", 5)
		x.order("n", "c2", 5)
		x.claim(w, "n")
		x.order("paid", "c3", 1)
		x.e.FulfilOrder(x.ctx, "paid", "free")
		x.advance(2600 * time.Millisecond)
		r, err := x.e.ExpireOrders(x.ctx, x.clock())
		if err != nil || len(r.Unclaimed) != 1 || r.Unclaimed[0].OrderID != "u" || len(r.Unpaid) != 0 || r.Skipped {
			t.Fatalf("t0+2.6s: %+v %v", r, err)
		}
		x.wantStatus("n", core.OrderNew)
		x.advance(2 * time.Second)
		seq := x.lastSeq()
		r, err = x.e.ExpireOrders(x.ctx, x.clock())
		if err != nil || len(r.Unclaimed) != 0 || len(r.Unpaid) != 1 || r.Unpaid[0].Status != core.OrderExpired {
			t.Fatalf("t0+4.6s: %+v %v", r, err)
		}
		wantTypes(t, x.eventTypesAfter(seq), core.EventOrderAnnulled)
		x.wantStatus("paid", core.OrderPaid)
		// Exactly at the limit is not expired (strictly greater).
		x.order("edge", "c4", 5)
		x.advance(2 * time.Second)
		if r, _ := x.e.ExpireOrders(x.ctx, x.clock()); len(r.Unclaimed) != 0 {
			t.Fatalf("expired at exactly the limit: %+v", r)
		}
	}, shortTimeouts)
}

// D14: the unpaid clock starts at the claim, and edits do not restart it.
func TestExpiryClockFromStatusEntry(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("o", "c", 5)
		x.advance(time.Second)
		x.claim(w, "o") // New at t0+1s
		x.advance(2 * time.Second)
		x.e.UpdateOrderMemo(x.ctx, "o", "edit", "")
		x.e.UpdateOrderPrice(x.ctx, "o", 6, "")
		x.advance(1500 * time.Millisecond) // t0+4.5s: 3.5 s after the claim
		if r, _ := x.e.ExpireOrders(x.ctx, x.clock()); len(r.Unpaid) != 0 {
			t.Fatalf("expired too early: %+v", r)
		}
		x.advance(time.Second) // 4.5 s after the claim
		if r, _ := x.e.ExpireOrders(x.ctx, x.clock()); len(r.Unpaid) != 1 {
			t.Fatalf("not expired: %+v", r)
		}
	}, shortTimeouts)
}

// Under PostgreSQL one instance at a time runs expiry.
func TestExpirySkippedWhileAnotherInstanceRuns(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	db := storetest.Postgres(t)
	x := newEnv(t, db, shortTimeouts)
	x.order("u", "c", 1)
	x.advance(time.Hour)
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- db.WriteTx(context.Background(), func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7302, "+store.LockScope+")"); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		}, store.NoEvents)
	}()
	<-held
	r, err := x.e.ExpireOrders(x.ctx, x.clock())
	close(release)
	if err != nil || !r.Skipped || len(r.Unclaimed) != 0 {
		t.Fatalf("while locked: %+v %v", r, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r, err = x.e.ExpireOrders(x.ctx, x.clock())
	if err != nil || r.Skipped || len(r.Unclaimed) != 1 {
		t.Fatalf("after: %+v %v", r, err)
	}
}

// Many orders expiring in one run each get their audit row and event.
func TestExpireMany(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		for i := range 21 {
			x.order(fmt.Sprint("o", i), fmt.Sprint("c", i), 1)
		}
		x.advance(3 * time.Second)
		seq := x.lastSeq()
		r, err := x.e.ExpireOrders(x.ctx, x.clock())
		if err != nil || len(r.Unclaimed) != 21 {
			t.Fatalf("%d expired, %v", len(r.Unclaimed), err)
		}
		if n := len(x.eventTypesAfter(seq)); n != 21 {
			t.Fatalf("%d events", n)
		}
		var audits int
		x.db.NewRaw("SELECT COUNT(*) FROM audit_log WHERE operation = 'expire'").Scan(x.ctx, &audits)
		if audits != 21 {
			t.Fatalf("%d audit rows", audits)
		}
	}, shortTimeouts)
}
