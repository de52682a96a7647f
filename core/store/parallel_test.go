package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// TestPostgresParallelWritesSurviveADeadlock: two parallel writes that lock
// the same two rows in opposite orders deadlock; PostgreSQL aborts one, and
// WriteTx runs it again alone, so both succeed and both changes are
// there exactly once.
func TestPostgresParallelWritesSurviveADeadlock(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE dl (k INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO dl VALUES (1, 0), (2, 0)"); err != nil {
		t.Fatal(err)
	}
	var firstLocked sync.WaitGroup // each write's first row is locked
	firstLocked.Add(2)
	var runs [2]atomic.Int32
	write := func(i int, first, second int) error {
		return db.WriteTx(ctx, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB() // IDB sends the writers lock first
			run := runs[i].Add(1)
			if _, err := tx.ExecContext(ctx, "UPDATE dl SET n = n + 1 WHERE k = ?", first); err != nil {
				return err
			}
			if run == 1 {
				// Both hold their first row before either asks for its
				// second: a deadlock, whatever the timing.
				firstLocked.Done()
				firstLocked.Wait()
			}
			_, err := tx.ExecContext(ctx, "UPDATE dl SET n = n + 10 WHERE k = ?", second)
			return err
		}, store.Parallel)
	}
	alone := db.WritesRunAlone()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, rows := range [][2]int{{1, 2}, {2, 1}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = write(i, rows[0], rows[1])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if got := db.WritesRunAlone() - alone; got != 1 {
		t.Fatalf("%d writes run again alone, want 1 (the deadlock's victim)", got)
	}
	var n1, n2 int
	if err := db.QueryRowContext(ctx, "SELECT (SELECT n FROM dl WHERE k = 1), (SELECT n FROM dl WHERE k = 2)").Scan(&n1, &n2); err != nil {
		t.Fatal(err)
	}
	if n1 != 11 || n2 != 11 {
		t.Fatalf("rows = %d, %d, want 11, 11: each write applied once", n1, n2)
	}
}

// TestPostgresWriteAloneWaitsForParallelOnes: a write that is not parallel
// starts only once the parallel writes in flight have ended, and a parallel
// write that arrives meanwhile waits for it.
func TestPostgresWriteAloneWaitsForParallelOnes(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE order_log (step TEXT NOT NULL, at BIGSERIAL)"); err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 3)
	go func() {
		done <- db.WriteTx(ctx, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			close(held)
			<-release
			_, err := tx.ExecContext(ctx, "INSERT INTO order_log (step) VALUES ('parallel-1')")
			return err
		}, store.Parallel)
	}()
	<-held
	go func() {
		done <- db.WriteTx(ctx, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			_, err := tx.ExecContext(ctx, "INSERT INTO order_log (step) VALUES ('alone')")
			return err
		})
	}()
	waitAdvisoryWaiters(t, db, 1)
	go func() {
		done <- db.WriteTx(ctx, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			_, err := tx.ExecContext(ctx, "INSERT INTO order_log (step) VALUES ('parallel-2')")
			return err
		}, store.Parallel)
	}()
	waitAdvisoryWaiters(t, db, 2)
	close(release)
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	var steps []string
	if err := db.NewSelect().TableExpr("order_log").Column("step").OrderExpr("at").Scan(ctx, &steps); err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 || steps[0] != "parallel-1" || steps[1] != "alone" || steps[2] != "parallel-2" {
		t.Fatalf("commit order %v, want [parallel-1 alone parallel-2]", steps)
	}
}

// waitAdvisoryWaiters waits until n backends wait for the writers' lock
// (advisory lock 7303 of this database).
func waitAdvisoryWaiters(t *testing.T, db *store.DB, n int) {
	t.Helper()
	waitFor(t, func() bool {
		var got int
		err := db.QueryRowContext(context.Background(),
			"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7303 AND objid = "+store.LockScope+"::oid AND objsubid = 2 AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").Scan(&got)
		return err == nil && got >= n
	}, func() string { return "writers waiting on the writers' lock" })
}
