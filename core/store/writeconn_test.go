package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// TestSQLiteWriteCommitsOrRollsBack: WriteTx on the writer commits what fn wrote when
// it returns nil, and leaves nothing behind when it returns an error or
// panics; the writer connection stays usable after each.
func TestSQLiteWriteCommitsOrRollsBack(t *testing.T) {
	for _, url := range []string{"", "sqlite::memory:"} {
		t.Run(map[string]string{"": "file", "sqlite::memory:": "memory"}[url], func(t *testing.T) {
			db := storetest.SQLite(t)
			if url != "" {
				var err error
				if db, err = store.Open(context.Background(), url); err != nil {
					t.Fatal(err)
				}
				defer db.Close()
			}
			ctx := context.Background()
			if _, err := db.ExecContext(ctx, "CREATE TABLE w (v INTEGER PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			insert := func(v int, then error) error {
				return db.WriteTx(ctx, func(tx *store.Tx) error {
					w := tx.Writer()
					if _, err := w.Exec("INSERT INTO w (v) VALUES (?)", v); err != nil {
						return err
					}
					return then
				})
			}
			if err := insert(1, nil); err != nil {
				t.Fatal(err)
			}
			boom := errors.New("boom")
			if err := insert(2, boom); !errors.Is(err, boom) {
				t.Fatalf("error from fn: got %v", err)
			}
			func() {
				defer func() {
					if recover() == nil {
						t.Fatal("panic not passed on")
					}
				}()
				_ = db.WriteTx(ctx, func(tx *store.Tx) error {
					w := tx.Writer()
					if _, err := w.Exec("INSERT INTO w (v) VALUES (3)"); err != nil {
						return err
					}
					panic("in fn")
				})
			}()
			// A statement error inside fn, then the same writer again.
			if err := insert(1, nil); err == nil {
				t.Fatal("duplicate key accepted")
			}
			if err := insert(4, nil); err != nil {
				t.Fatal(err)
			}
			var got []int
			if err := db.NewRaw("SELECT v FROM w ORDER BY v").Scan(ctx, &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0] != 1 || got[1] != 4 {
				t.Fatalf("rows = %v, want [1 4]", got)
			}
			// Reads inside the transaction see its writes; queries built
			// with bun run in it too.
			err := db.WriteTx(ctx, func(tx *store.Tx) error {
				w := tx.Writer()
				if _, err := w.Exec("INSERT INTO w (v) VALUES (5)"); err != nil {
					return err
				}
				var n int
				if err := w.IDB().NewRaw("SELECT COUNT(*) FROM w").Scan(w.Context(), &n); err != nil || n != 3 {
					t.Errorf("count inside the transaction = %d (%v), want 3", n, err)
				}
				rows, err := w.Query("SELECT v FROM w WHERE v = ?", 5)
				if err != nil {
					return err
				}
				defer rows.Close()
				if !rows.Next() {
					t.Error("own write not visible to Query")
				}
				return rows.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSQLiteCheckpointsInBackground: the write-ahead log is copied into the
// database file by the background checkpointer, long before SQLite's own
// automatic checkpoint (autocheckpointPages) would do it.
func TestSQLiteCheckpointsInBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt.db")
	db, err := store.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE blobs (b BLOB NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	before := size()
	const writes = 150 // past checkpointEvery, far below autocheckpointPages
	for i := 0; i < writes; i++ {
		if err := db.WriteTx(ctx, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			_, err := tx.ExecContext(ctx, "INSERT INTO blobs (b) VALUES (zeroblob(4000))")
			return err
		}, store.NoEvents); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return size()-before >= writes*4000 }, func() string {
		return fmt.Sprintf("database file grew by %d bytes after %d writes of 4000: the log was not checkpointed", size()-before, writes)
	})
	// Close stops the checkpointer and may be called twice.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
}
