package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// TestPostgresNoEventsWriteSkipsTheWritersLock: while a write that runs
// alone holds the writers lock exclusively (taken with its first
// statement), a NoEvents transaction (the outbox's bookkeeping) neither
// waits for it nor takes it: it commits at once and finds the lock taken.
func TestPostgresNoEventsWriteSkipsTheWritersLock(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE side (k INTEGER)"); err != nil {
		t.Fatal(err)
	}
	release := holdWriteAlone(t, db)

	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var free bool
	err := db.WriteTx(short, func(tx *store.Tx) error {
		if err := tx.IDB().QueryRowContext(tx.Context(), "SELECT pg_try_advisory_xact_lock_shared(7303, "+store.LockScope+")").Scan(&free); err != nil {
			return err
		}
		_, err := tx.IDB().ExecContext(tx.Context(), "INSERT INTO side VALUES (1)")
		return err
	}, store.NoEvents)
	rerr := release()
	if err != nil {
		t.Fatalf("NoEvents write beside a write running alone: %v", err)
	}
	if free {
		t.Error("the writers lock was free while a write running alone had sent its first statement")
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM side").Scan(&n); err != nil || n != 1 {
		t.Fatalf("side rows = %d (%v), want 1", n, err)
	}
}
