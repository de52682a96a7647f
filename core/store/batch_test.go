package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// TestPostgresWritesShareCommits: writes queued behind a running one share
// the next commit (one transaction id), yet each keeps its own outcome: a
// failing write, one that breaks the transaction with an SQL error and one
// that panics leave no trace and do not disturb the others, and every
// committed event is readable in seq order.
func TestPostgresWritesShareCommits(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE batch_t (k INTEGER PRIMARY KEY, xid BIGINT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	before, err := store.LastEventSeq(ctx, db)
	if err != nil {
		t.Fatal(err)
	}

	// The first write holds its transaction open until the others queued.
	release := holdWrite(t, db, func(ctx context.Context, tx bun.IDB) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO batch_t VALUES (0, txid_current())")
		return err
	})

	const n = 40
	errBoom := errors.New("boom")
	var wg sync.WaitGroup
	results := make([]error, n)
	panics := make([]any, n)
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i-1] = recover() }()
			results[i-1] = db.WriteTx(ctx, func(stx *store.Tx) error {
				ctx, tx := stx.Context(), stx.IDB()
				if _, err := tx.ExecContext(ctx, "INSERT INTO batch_t VALUES (?, txid_current())", i); err != nil {
					return err
				}
				if _, err := store.AppendEvent(ctx, tx, db.Kind, core.EventNewOrder, map[string]int{"k": i}); err != nil {
					return err
				}
				switch i {
				case 7:
					return errBoom // rolled back alone
				case 8:
					// Row 0 is the held write's, committed before this batch
					// starts. (It used to be row 1, write 1's: the queue's order
					// is the goroutines' scheduling order, so under load write 8
					// could run first, succeed, and fail write 1 instead.)
					_, err := tx.ExecContext(ctx, "INSERT INTO batch_t VALUES (0, 0)")
					return err
				case 9:
					panic("write 9 panics")
				}
				return nil
			})
		}()
	}
	waitQueued(t, db, n)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	for i := 1; i <= n; i++ {
		err, p := results[i-1], panics[i-1]
		switch i {
		case 7:
			if !errors.Is(err, errBoom) {
				t.Errorf("write 7: err = %v, want its own error", err)
			}
		case 8:
			if err == nil {
				t.Errorf("write 8 (duplicate key) succeeded")
			}
		case 9:
			if p != "write 9 panics" {
				t.Errorf("write 9: panic = %v, want it re-raised in the caller", p)
			}
		default:
			if err != nil || p != nil {
				t.Errorf("write %d: err = %v, panic = %v", i, err, p)
			}
		}
	}

	var rows []struct {
		K   int   `bun:"k"`
		Xid int64 `bun:"xid"`
	}
	if err := db.NewSelect().Table("batch_t").Column("k", "xid").Order("k").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	xids := map[int64]int{}
	got := map[int]bool{}
	for _, r := range rows {
		got[r.K] = true
		if r.K > 0 {
			xids[r.Xid]++
		}
	}
	for i := 0; i <= n; i++ {
		if want := i < 7 || i > 9; got[i] != want {
			t.Errorf("row %d present = %v, want %v", i, got[i], want)
		}
	}
	if len(xids) != 1 {
		t.Errorf("the %d queued writes committed in %d transactions, want 1 shared commit", n-3, len(xids))
	}

	evs, err := store.EventsAfter(ctx, db, before, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != n-3 {
		t.Fatalf("%d events committed, want %d (none from the failed writes)", len(evs), n-3)
	}
	for j := 1; j < len(evs); j++ {
		if evs[j].Seq <= evs[j-1].Seq {
			t.Fatalf("events out of seq order: %d after %d", evs[j].Seq, evs[j-1].Seq)
		}
	}
}

// TestPostgresQueuedWriteGivesUpWhenCancelled: a write whose context ends
// while it waits for its turn returns the context's error and writes nothing.
func TestPostgresQueuedWriteGivesUpWhenCancelled(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE batch_c (k INTEGER)"); err != nil {
		t.Fatal(err)
	}
	release := holdWrite(t, db, nil)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- db.WriteTx(short, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			_, err := tx.ExecContext(ctx, "INSERT INTO batch_c VALUES (1)")
			return err
		})
	}()
	<-short.Done()
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled queued write: err = %v, want context.DeadlineExceeded", err)
	}
	var count int
	if err := db.NewSelect().Table("batch_c").ColumnExpr("count(*)").Scan(ctx, &count); err != nil {
		t.Fatal(err)
	}
	if count != 0 {
		t.Fatalf("cancelled write left %d rows", count)
	}
}

// holdWrite starts a write transaction that stays open until release is
// called, then runs then (if any) and commits; release returns its result.
func holdWrite(t *testing.T, db *store.DB, then func(ctx context.Context, tx bun.IDB) error) (release func() error) {
	t.Helper()
	holding, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.WriteTx(context.Background(), func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			close(holding)
			<-unblock
			if then == nil {
				return nil
			}
			return then(ctx, tx)
		})
	}()
	<-holding
	return func() error { close(unblock); return <-done }
}

// waitQueued waits until n writes wait behind the running one.
func waitQueued(t *testing.T, db *store.DB, n int) {
	t.Helper()
	waitFor(t, func() bool { return store.QueuedWrites(db) >= n },
		func() string { return fmt.Sprintf("only %d of %d writes queued", store.QueuedWrites(db), n) })
}

// BenchmarkPostgresWrites compares 16 concurrent writers (insert a row and an
// outbox event) with group commit on and off, on TPG_TEST_POSTGRES_URL.
//
//	go test -run '^$' -bench PostgresWrites ./core/store
func BenchmarkPostgresWrites(b *testing.B) {
	db := storetest.Postgres(b)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE bench_w (k BIGSERIAL PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "one-commit-each", true: "group-commit"}[on], func(b *testing.B) {
			store.SetGroupCommit(db, on)
			b.SetParallelism(8) // 16 writers on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := db.WriteTx(ctx, func(stx *store.Tx) error {
						ctx, tx := stx.Context(), stx.IDB()
						if _, err := tx.ExecContext(ctx, "INSERT INTO bench_w (v) VALUES (?)", "row"); err != nil {
							return err
						}
						_, err := store.AppendEvent(ctx, tx, db.Kind, core.EventNewOrder, map[string]int{"k": 1})
						return err
					}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// panicCtx is a context whose Err panics: a stand-in for a bug below the
// callers' functions in the middle of a batch.
type panicCtx struct{ context.Context }

func (panicCtx) Err() error { panic("ctx boom") }

// TestPostgresBatchThatPanicsFailsItsWritesAndFreesTheQueue: if a batch's
// commit panics outside the callers' functions, its writes get an error (the
// transaction rolled back), the leader's caller sees the panic, and later
// writes still run: nobody waits forever.
func TestPostgresBatchThatPanicsFailsItsWritesAndFreesTheQueue(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE batch_p (k INTEGER)"); err != nil {
		t.Fatal(err)
	}
	insert := func(k int) func(ctx context.Context, tx bun.IDB) error {
		return func(ctx context.Context, tx bun.IDB) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO batch_p VALUES (?)", k)
			return err
		}
	}
	release := holdWrite(t, db, insert(1))
	type outcome struct {
		err error
		pnc any
	}
	a, b := make(chan outcome, 1), make(chan outcome, 1)
	write := func(ctx context.Context, k int, out chan<- outcome) {
		var o outcome
		defer func() { o.pnc = recover(); out <- o }()
		o.err = db.WriteTx(ctx, func(tx *store.Tx) error { return insert(k)(tx.Context(), tx.IDB()) })
	}
	go write(ctx, 2, a)
	waitQueued(t, db, 1)
	go write(panicCtx{ctx}, 3, b)
	waitQueued(t, db, 2)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	oa, ob := <-a, <-b
	if oa.pnc != "ctx boom" {
		t.Errorf("leader: %+v, want the panic", oa)
	}
	if !errors.Is(ob.err, store.ErrBatchAborted) {
		t.Errorf("second write: %+v, want ErrBatchAborted", ob)
	}
	if err := db.WriteTx(ctx, func(tx *store.Tx) error { return insert(4)(tx.Context(), tx.IDB()) }); err != nil {
		t.Fatalf("write after the failed batch: %v", err)
	}
	var ks []int
	if err := db.NewSelect().Table("batch_p").Column("k").Order("k").Scan(ctx, &ks); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ks) != "[1 4]" {
		t.Fatalf("rows %v, want [1 4] (the failed batch rolled back)", ks)
	}
}
