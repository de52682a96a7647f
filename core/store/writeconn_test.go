package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// TestSQLiteWriterWithFailedRollbackIsReplaced: when ROLLBACK fails the
// transaction may still be open on the writer connection, so the writer is
// closed and the next write runs on a new connection (its TEMP tables, which
// live per connection, are gone). Here fn ends the transaction itself, which
// makes the ROLLBACK fail.
func TestSQLiteWriterWithFailedRollbackIsReplaced(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	marked := func() bool {
		var n int
		err := db.WriteTx(ctx, func(tx *store.Tx) error {
			w := tx.Writer()
			rows, err := w.Query("SELECT count(*) FROM temp.marker")
			if err != nil {
				return err
			}
			defer rows.Close()
			rows.Next()
			return rows.Scan(&n)
		})
		return err == nil
	}
	mark := func() {
		if err := db.WriteTx(ctx, func(tx *store.Tx) error {
			w := tx.Writer()
			_, err := w.Exec("CREATE TEMP TABLE IF NOT EXISTS marker (x INTEGER)")
			return err
		}); err != nil || !marked() {
			t.Fatalf("marking the writer connection: %v", err)
		}
	}
	endTx := func(w *store.Writer) {
		if _, err := w.Exec("COMMIT"); err != nil {
			t.Fatal(err)
		}
	}

	mark()
	refused := errors.New("refused")
	err := db.WriteTx(ctx, func(tx *store.Tx) error { w := tx.Writer(); endTx(w); return refused })
	if !errors.Is(err, refused) || !strings.Contains(err.Error(), "rollback:") {
		t.Fatalf("error %v: want fn's error and the failed rollback", err)
	}
	if marked() {
		t.Fatal("the writer connection whose ROLLBACK failed was kept")
	}

	mark()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic was swallowed")
			}
		}()
		_ = db.WriteTx(ctx, func(tx *store.Tx) error { w := tx.Writer(); endTx(w); panic("boom") })
	}()
	if marked() {
		t.Fatal("the writer connection whose ROLLBACK failed after a panic was kept")
	}
	if err := db.WriteTx(ctx, func(tx *store.Tx) error {
		w := tx.Writer()
		_, err := w.Exec("CREATE TABLE after (x INTEGER)")
		return err
	}); err != nil {
		t.Fatalf("write after replacing the writer: %v", err)
	}
}
