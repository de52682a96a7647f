package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// TestPostgresLocksAreScopedToTheSchema: two deployments in two schemas of
// one database do not queue behind each other. A write that runs alone
// (the writers' lock taken exclusively) in one schema, held open, must not
// delay a write in the other; in its own schema it does.
func TestPostgresLocksAreScopedToTheSchema(t *testing.T) {
	a, b := storetest.Postgres(t), storetest.Postgres(t)
	ctx := context.Background()
	release := holdWriteAlone(t, a)
	defer func() { _ = release() }()

	other, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := b.WriteTx(other, func(tx *store.Tx) error {
		_, err := tx.IDB().ExecContext(tx.Context(), "SELECT 1")
		return err
	}); err != nil {
		t.Fatalf("a write in another schema waited for this one's lock: %v (after %s)", err, time.Since(start))
	}

	same, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	start = time.Now()
	if err := a.WriteTx(same, func(tx *store.Tx) error {
		_, err := tx.IDB().ExecContext(tx.Context(), "SELECT 1")
		return err
	}); err == nil {
		t.Fatal("a second exclusive write in the same schema did not wait for the first")
	}
	// The caller's deadline bounds the wait for the writers lock.
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("a write waiting for the writers lock gave up after %s, its deadline was 300ms", waited)
	}
}
