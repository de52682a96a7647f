package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// TestSQLiteWritersQueueInProcess: a second write transaction waits in the
// process's writer queue, not in SQLite's sleeping busy handler, so it gives
// up as soon as its context ends and starts as soon as the first commits.
func TestSQLiteWritersQueueInProcess(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE q (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	holding, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.WriteTx(ctx, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			_, err := tx.ExecContext(ctx, "INSERT INTO q VALUES (1)")
			close(holding)
			<-release
			return err
		}, store.NoEvents)
	}()
	<-holding

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := db.WriteTx(short, func(stx *store.Tx) error {
		t.Error("ran while another transaction held the writer")
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("queued writer: %v after %s, want the context's deadline", err, time.Since(start))
	}

	// A statement outside a transaction queues too.
	short2, cancel2 := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel2()
	if _, err := db.ExecContext(short2, "INSERT INTO q VALUES (3)"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued statement: %v, want the context's deadline", err)
	}

	// Five writers arrive one after another while the lock is held, so in
	// SQLite's busy handler they would sit in 100 ms sleeps of different
	// phases; queued, all five finish right after the release.
	const waiters = 5
	done := make(chan time.Time, waiters)
	for i := 0; i < waiters; i++ {
		go func() {
			if i%2 == 0 {
				_, _ = db.ExecContext(ctx, "INSERT INTO q VALUES (2)")
			} else {
				_ = db.WriteTx(ctx, func(stx *store.Tx) error {
					ctx, tx := stx.Context(), stx.IDB()
					_, err := tx.ExecContext(ctx, "INSERT INTO q VALUES (2)")
					return err
				}, store.NoEvents)
			}
			done <- time.Now()
		}()
		// The next writer arrives only once this one waits in the queue.
		waitFor(t, func() bool { return store.WaitingWriters(db) == i+1 },
			func() string { return fmt.Sprintf("%d of %d writers queued", store.WaitingWriters(db), i+1) })
	}
	released := time.Now()
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for i := 0; i < waiters; i++ {
		last = <-done
	}
	if wait := last.Sub(released); wait > 60*time.Millisecond {
		t.Errorf("the queued writers finished %s after the first released", wait)
	}
	var n int
	if err := db.NewRaw("SELECT COUNT(*) FROM q").Scan(ctx, &n); err != nil || n != 1+waiters {
		t.Fatalf("rows %d %v", n, err)
	}
}
