package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

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
			if _, err := store.AppendEvent(ctx, tx, db.Kind, time.Now(), core.EventNewOrder, map[string]int{"a": 1}); err != nil {
				t.Fatal(err)
			}
			return errRollback
		})
		var ev core.Event
		if err := db.WriteTx(ctx, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			ev, err = store.AppendEvent(ctx, tx, db.Kind, time.Now(), core.EventOrderPaid, map[string]int{"b": 2})
			return err
		}); err != nil {
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

// TestAppendEventRoundTripsTime: an event's created_at is the caller's clock
// (the engine's), not the store's, read back to the microsecond.
func TestAppendEventRoundTripsTime(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		before, err := store.LastEventSeq(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		clock := time.Date(2031, 2, 3, 4, 5, 6, 789123456, time.FixedZone("x", 3600))
		var ev core.Event
		if err := db.WriteTx(ctx, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			var err error
			ev, err = store.AppendEvent(ctx, tx, db.Kind, clock, core.EventNewOrder, map[string]string{"x": "y"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		got, err := store.EventsAfter(ctx, db, before, 1)
		if err != nil || len(got) != 1 {
			t.Fatal(got, err)
		}
		if want := clock.Truncate(time.Microsecond); !got[0].CreatedAt.Equal(want) || !ev.CreatedAt.Equal(want) {
			t.Fatalf("created_at read back %v, returned %v, want the caller's clock %v", got[0].CreatedAt, ev.CreatedAt, want)
		}
		if db.Kind == store.SQLite && got[0].Seq != ev.Seq || got[0].ID != ev.ID {
			t.Fatalf("read back %+v, wrote %+v", got[0], ev)
		}
	})
}

// TestAppendEventsKeepOrder: the one append path keeps a transaction's
// events in the order given, across its several INSERT statements, on both
// databases; SQLite reports their seqs at once, PostgreSQL once sequenced
// (WriteTx returns after that).
func TestAppendEventsKeepOrder(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		before, err := store.LastEventSeq(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		evs := make([]core.Event, 21) // three statements' worth
		now := time.Now()
		for i := range evs {
			evs[i] = core.Event{ID: store.NewEventID(), Type: core.EventNewOrder, CreatedAt: now, Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))}
		}
		if err := db.WriteTx(ctx, func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			return store.AppendEvents(ctx, tx, db.Kind, evs)
		}); err != nil {
			t.Fatal(err)
		}
		got, err := store.EventsAfter(ctx, db, before, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(evs) {
			t.Fatalf("read back %d events, appended %d", len(got), len(evs))
		}
		for i := range got {
			if got[i].ID != evs[i].ID {
				t.Fatalf("event %d read back is %s, want %s: order lost", i, got[i].Payload, evs[i].Payload)
			}
			if i > 0 && got[i].Seq <= got[i-1].Seq {
				t.Fatalf("seq %d after %d", got[i].Seq, got[i-1].Seq)
			}
			if want := int64(0); db.Kind == store.Postgres && evs[i].Seq != want || db.Kind == store.SQLite && evs[i].Seq != got[i].Seq {
				t.Fatalf("%s: AppendEvents reported seq %d for an event stored at %d", db.Kind, evs[i].Seq, got[i].Seq)
			}
		}
		if db.Kind == store.Postgres {
			var pending int
			if err := db.NewSelect().TableExpr("events_pending").ColumnExpr("count(*)").Scan(ctx, &pending); err != nil || pending != 0 {
				t.Fatalf("%d rows left in events_pending after WriteTx (%v)", pending, err)
			}
		}
	})
}
