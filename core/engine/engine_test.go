package engine_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
)

// AfterCommit runs after each committed transaction that wrote events, and
// never for refused operations or event-free ones.
func TestAfterCommitHook(t *testing.T) {
	var calls atomic.Int32
	forEachDB(t, func(t *testing.T, x *env) {
		calls.Store(0)
		w := newWallet()
		x.order("1", "c", 10) // NewOrder
		if calls.Load() != 1 {
			t.Fatalf("calls = %d after new order", calls.Load())
		}
		x.e.CancelOrder(x.ctx, "1", "x")
		_, err := x.e.CancelOrder(x.ctx, "1", "again") // refused: rolled back
		wantErr(t, err, core.ErrForbiddenChange)
		if calls.Load() != 2 {
			t.Fatalf("calls = %d after cancel", calls.Load())
		}
		x.e.RegisterWallet(x.ctx, w.addr, "ip", 0) // no events
		x.e.SetExchangeRate(x.ctx, "USD", 1)
		if calls.Load() != 2 {
			t.Fatalf("calls = %d after event-free writes", calls.Load())
		}
	}, func(c *engine.Config) { c.AfterCommit = func() { calls.Add(1) } })
}

// Orders, payments, settlements and exchange rates are never deleted.
func TestNoDeletes(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("1", "c", 10)
		x.claim(w, "1")
		x.pay(w.addr, "t", 10)
		x.e.SetExchangeRate(x.ctx, "USD", 1)
		for _, table := range []string{"orders", "payments", "settlement_journal", "exchange_rates"} {
			if _, err := x.db.ExecContext(context.Background(), "DELETE FROM "+table); err == nil {
				t.Errorf("DELETE FROM %s succeeded", table)
			}
		}
	})
}

// D5: with strict mode off every lookup by id also accepts the alt_id.
func TestLenientLookupsAcceptAltID(t *testing.T) {
	t.Run("lenient", func(t *testing.T) { lenientLookups(t) })
	t.Run("strict", func(t *testing.T) { strictLookups(t) })
}

func lenientLookups(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "5001", AltID: ptr("#1001"), CustomerID: "c", TotalPrice: 10, Currency: "XTR"})
		x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "5002", AltID: ptr("#1002"), CustomerID: "c", TotalPrice: 10, Currency: "XTR"})
		if _, err := x.e.UpdateOrderMemo(x.ctx, "#1001", "m", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := x.e.ReassignOrder(x.ctx, "#1001", "d", "r"); err != nil {
			t.Fatal(err)
		}
		if o, err := x.e.FulfilOrder(x.ctx, "#1001", "r"); err != nil || o.OrderID != "5001" {
			t.Fatalf("%+v %v", o, err)
		}
		if o, err := x.e.CancelOrder(x.ctx, "#1002", "r"); err != nil || o.OrderID != "5002" {
			t.Fatalf("%+v %v", o, err)
		}
	}, func(c *engine.Config) { c.StrictMode = false })
}

func strictLookups(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: "5001", AltID: ptr("#1001"), CustomerID: "c", TotalPrice: 10, Currency: "XTR"})
		for _, err := range []error{
			func() error { _, err := x.e.CancelOrder(x.ctx, "#1001", "r"); return err }(),
			func() error { _, err := x.e.FulfilOrder(x.ctx, "#1001", "r"); return err }(),
			func() error { _, err := x.e.UpdateOrderMemo(x.ctx, "#1001", "m", ""); return err }(),
		} {
			wantErr(t, err, core.ErrOrderNotFound)
		}
	})
}

// An in-memory database has a single connection: the engine must never need
// a second one while its transaction is open.
func TestInMemoryDatabase(t *testing.T) {
	db, err := store.Open(context.Background(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // after newEnv's invariant check
	x := newEnv(t, db)
	w := newWallet()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 3 {
			x.order(fmt.Sprint(i), "c", 5)
		}
		x.claim(w, "0")
		x.pay(w.addr, "t", 20)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("engine deadlocked on a one-connection database")
	}
	x.wantStatus("2", core.OrderPaid)
}
