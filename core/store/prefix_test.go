package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// TestPostgresPrefixedWritesShareCommits: writes that carry the store's
// lock and savepoint SQL on their own first statement (Tx.Postgres),
// queued among plain ones, share one commit and keep their own outcomes:
// one that sends and succeeds commits, one that sends and fails leaves no
// trace, and ones that send nothing (failing or not) leave the
// transaction as it was for the next write.
func TestPostgresPrefixedWritesShareCommits(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE batch_p (k INTEGER PRIMARY KEY, xid BIGINT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	const insert = "INSERT INTO batch_p VALUES (?, txid_current())"
	// Alone (not batched): the lock rides on the first statement.
	if err := db.WriteTx(ctx, func(stx *store.Tx) error {
		ctx := stx.Context()
		tx, p := stx.Postgres()
		if p == nil || p.SQL == "" {
			t.Error("no prefix for a lone write")
			return nil
		}
		p.Sent = true
		_, err := tx.ExecContext(ctx, p.SQL+";\n"+insert, 100)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	release := holdWrite(t, db, nil)
	const n = 16
	errOwn := errors.New("own failure")
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%5 == 4 { // a plain write
				results[i] = db.WriteTx(ctx, func(stx *store.Tx) error {
					ctx, tx := stx.Context(), stx.IDB()
					_, err := tx.ExecContext(ctx, insert, i)
					return err
				})
				return
			}
			results[i] = db.WriteTx(ctx, func(stx *store.Tx) error {
				ctx := stx.Context()
				tx, p := stx.Postgres()
				switch i % 5 {
				case 1: // fails before sending anything
					return errOwn
				case 2: // has nothing to write
					return nil
				}
				p.Sent = true
				if _, err := tx.ExecContext(ctx, p.SQL+";\n"+insert, i); err != nil {
					return err
				}
				if i%5 == 3 {
					return errOwn // sent, then fails: rolled back alone
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

	for i := 0; i < n; i++ {
		wantErr := i%5 == 1 || i%5 == 3
		if got := results[i]; wantErr != errors.Is(got, errOwn) || (!wantErr && got != nil) {
			t.Errorf("write %d: err = %v", i, got)
		}
	}
	var rows []struct {
		K   int   `bun:"k"`
		Xid int64 `bun:"xid"`
	}
	if err := db.NewSelect().Table("batch_p").Column("k", "xid").Order("k").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	xids := map[int64]bool{}
	for _, r := range rows {
		got[r.K] = true
		if r.K < 100 {
			xids[r.Xid] = true
		}
	}
	for i := 0; i < n; i++ {
		if want := i%5 == 0 || i%5 == 4; got[i] != want {
			t.Errorf("row %d present = %v, want %v", i, got[i], want)
		}
	}
	if !got[100] {
		t.Error("the lone prefixed write did not commit")
	}
	if len(xids) != 1 {
		t.Errorf("the queued writes committed in %d transactions, want 1 shared commit", len(xids))
	}
}
