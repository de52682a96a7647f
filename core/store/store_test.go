package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

func TestOpenCreatesSQLiteFileAndMigrates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "tari.db")
	db, err := store.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not created: %v", err)
	}
	// Migrating again is a no-op.
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	if _, err := store.Open(context.Background(), "mysql://x"); err == nil {
		t.Fatal("expected an error for an unknown scheme")
	}
}

func TestOutboxAppendIsTransactional(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		before, err := store.LastEventSeq(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		// A rolled-back transaction leaves nothing behind.
		_ = db.WriteTx(ctx, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			if _, err := store.AppendEvent(ctx, tx, db.Kind, core.EventNewOrder, map[string]int{"a": 1}); err != nil {
				t.Fatal(err)
			}
			return errRollback
		}, store.NoEvents)
		var ev core.Event
		if err := db.WriteTx(ctx, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			ev, err = store.AppendEvent(ctx, tx, db.Kind, core.EventOrderPaid, map[string]int{"b": 2})
			return err
		}, store.NoEvents); err != nil {
			t.Fatal(err)
		}
		got, err := store.EventsAfter(ctx, db, before, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != ev.ID || got[0].Type != core.EventOrderPaid || string(got[0].Payload) != `{"b":2}` {
			t.Fatalf("outbox = %+v, want only the committed OrderPaid event", got)
		}
	})
}

type rollback struct{}

func (rollback) Error() string { return "rollback" }

var errRollback = rollback{}

func TestSQLitePathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a#b%c")
	path := filepath.Join(dir, "tari.db")
	db, err := store.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(context.Background(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q (%v): the DSN options were cut off", mode, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %s: %v", path, err)
	}
}

func TestAppendEventRoundTripsTime(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var ev core.Event
		if err := db.WriteTx(ctx, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			var err error
			ev, err = store.AppendEvent(ctx, tx, db.Kind, core.EventNewOrder, map[string]string{"x": "y"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		got, err := store.EventsAfter(ctx, db, ev.Seq-1, 1)
		if err != nil || len(got) != 1 {
			t.Fatal(got, err)
		}
		if !got[0].CreatedAt.Equal(ev.CreatedAt) || got[0].Seq != ev.Seq || got[0].ID != ev.ID {
			t.Fatalf("read back %+v, wrote %+v", got[0], ev)
		}
	})
}
