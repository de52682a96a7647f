package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// The opt-out for transaction-mode poolers: a database opened with
// WithoutPreparedStatements prepares nothing on its sessions and says so;
// one opened by default prepares every registered statement.
func TestPostgresPreparedStatementsFollowOpenOption(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	count := func(db *store.DB) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_prepared_statements WHERE name LIKE 'store_test_%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	off, err := store.Open(ctx, url, store.WithoutPreparedStatements)
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	if off.PreparedStatements() || count(off) != 0 {
		t.Fatalf("WithoutPreparedStatements: PreparedStatements() = %v, %d statements prepared", off.PreparedStatements(), count(off))
	}
	on, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer on.Close()
	if !on.PreparedStatements() || count(on) != 1 {
		t.Fatalf("default: PreparedStatements() = %v, %d statements prepared, want 1", on.PreparedStatements(), count(on))
	}
}

func init() {
	// Registered at initialisation, as RegisterPostgresStatement requires.
	store.RegisterPostgresStatement("store_test_now", "SELECT ?::int + 1")
}

// A write that appended events moves them in its commit message with a
// prepared statement, and the sequencer (a write's fallback, the outbox's
// poll) with its own, still reporting how many it moved; both run on the
// pool's one connection here.
func TestPostgresSequencerExecutesPreparedMove(t *testing.T) {
	db := storetest.Postgres(t)
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	evs := []core.Event{{ID: store.NewEventID(), Type: core.EventNewOrder, CreatedAt: time.Now(), Payload: []byte(`{}`)}}
	if err := db.WriteTx(ctx, func(stx *store.Tx) error {
		return store.AppendEvents(stx.Context(), stx.IDB(), db.Kind, evs)
	}); err != nil {
		t.Fatal(err)
	}
	got, err := store.EventsAfter(ctx, db, 0, 10)
	if err != nil || len(got) != 1 || got[0].ID != evs[0].ID {
		t.Fatalf("outbox after the write: %v, %v", got, err)
	}
	ran := func(name string) {
		t.Helper()
		var runs int
		if err := db.QueryRowContext(ctx, "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE name = ?", name).Scan(&runs); err != nil || runs == 0 {
			t.Fatalf("%s ran %d times (%v)", name, runs, err)
		}
	}
	ran("store_move_events_if_free")
	if err := db.WriteTx(ctx, func(stx *store.Tx) error {
		evs := []core.Event{{ID: store.NewEventID(), Type: core.EventNewOrder, CreatedAt: time.Now(), Payload: []byte(`{}`)}, {ID: store.NewEventID(), Type: core.EventNewOrder, CreatedAt: time.Now(), Payload: []byte(`{}`)}}
		// Left to the explicit SequenceEvents below, which must count them.
		stx.NoEventsAppended()
		return store.AppendEvents(stx.Context(), stx.IDB(), db.Kind, evs)
	}, store.Parallel); err != nil {
		t.Fatal(err)
	}
	if moved, err := db.SequenceEvents(ctx); err != nil || moved != 2 {
		t.Fatalf("SequenceEvents moved %d (%v), want 2", moved, err)
	}
	ran("store_move_events")
}
