package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// TestPostgresVacuumStagedKeepsTheStagingTableSmall: every move leaves the
// rows it took dead in events_pending, and moves scan that table whole. After
// VacuumStaged their space is reused, so staging and moving as many events
// again does not grow the table; without it, it about doubles.
func TestPostgresVacuumStagedKeepsTheStagingTableSmall(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	stageAndMove := func(round int) {
		for b := 0; b < 40; b++ {
			evs := make([]core.Event, 50)
			for i := range evs {
				evs[i] = core.Event{ID: store.NewEventID(), Type: core.EventNewOrder, CreatedAt: time.Now(), Payload: []byte(fmt.Sprintf(`{"round":%d,"padding":"%0200d"}`, round, i))}
			}
			if err := db.WriteTx(ctx, func(stx *store.Tx) error {
				return store.AppendEvents(stx.Context(), stx.IDB(), db.Kind, evs)
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	pages := func() int64 {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT pg_relation_size('events_pending') / 8192").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// As under load, the rows moved in the first round cannot be reclaimed
	// while they are moved: a transaction holds a snapshot older than them
	// (under load, the writers in flight do).
	old, err := store.Bun(db).BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	stageAndMove(1)
	if err := old.Rollback(); err != nil {
		t.Fatal(err)
	}
	first := pages()
	if first < 10 {
		t.Fatalf("events_pending has %d pages after 2000 staged events: the test stages too little", first)
	}
	// A transaction of another test in this database that began before the
	// moves keeps their rows from being reclaimed until it ends: retry.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := db.VacuumStaged(ctx); err != nil {
			t.Fatal(err)
		}
		stageAndMove(2)
		if now := pages(); now <= first+first/4 {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("events_pending grew from %d to %d pages although vacuumed between the rounds", first, now)
		}
		first = pages()
	}
}
