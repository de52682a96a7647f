package outbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// acker records one row per acknowledged event, inside the acknowledging
// transaction. Its ack for the event named by failAck inserts its row and
// then fails once; parkFirst's first delivery fails permanently.
type acker struct {
	failAck, parkFirst string

	mu         sync.Mutex
	deliveries map[string]int
	ackFailed  bool
}

func (a *acker) ID() string                                { return "acker" }
func (a *acker) EventTypes() []core.EventType              { return nil }
func (a *acker) Deliver(context.Context, core.Event) error { panic("DeliverAck must be called") }
func (a *acker) DeliverAck(_ context.Context, ev core.Event) (outbox.Ack, error) {
	a.mu.Lock()
	a.deliveries[ev.ID]++
	n := a.deliveries[ev.ID]
	a.mu.Unlock()
	if ev.ID == a.parkFirst && n == 1 {
		return func(context.Context, bun.IDB) error { panic("the ack of a failed delivery ran") }, outbox.Permanent(errors.New("parked"))
	}
	return func(ctx context.Context, tx bun.IDB) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO acked (event_id) VALUES (?)`, ev.ID); err != nil {
			return err
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if ev.ID == a.failAck && !a.ackFailed {
			a.ackFailed = true
			return errors.New("ack fails after writing")
		}
		return nil
	}, nil
}

func (a *acker) count(id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.deliveries[id]
}

func ackedRows(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT event_id FROM acked`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id]++
	}
	return out
}

// A subscriber's Ack commits with the cursor advance (or the clearing of a
// redelivery) or not at all: an ack that fails rolls back its own writes and
// the event is delivered again, so every event's work lands exactly once.
func TestAckCommitsWithTheAcknowledgement(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `CREATE TABLE acked (event_id TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		d := outbox.New(db, fastOpts())
		defer d.Close()
		a := &acker{deliveries: map[string]int{}}
		if err := d.Register(ctx, a); err != nil {
			t.Fatal(err)
		}
		evs := appendEvents(t, db, core.EventOrderPaid, 3)
		a.failAck, a.parkFirst = evs[1].ID, evs[2].ID
		d.Start()
		d.Notify()
		waitFor(t, "the third event parked", func() bool { f, _ := d.Failed(ctx, "acker"); return len(f) == 1 })
		if got := ackedRows(t, db); len(got) != 2 || got[evs[0].ID] != 1 || got[evs[1].ID] != 1 {
			t.Fatalf("acked rows = %v, want one for each of the first two events", got)
		}
		if n := a.count(evs[1].ID); n != 2 {
			t.Fatalf("event whose ack failed delivered %d times, want 2", n)
		}
		f, _ := d.Failed(ctx, "acker")
		if err := d.Redeliver(ctx, f[0].ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the redelivery acknowledged", func() bool { f, _ := d.Failed(ctx, "acker"); return len(f) == 0 })
		if got := ackedRows(t, db); len(got) != 3 || got[evs[2].ID] != 1 {
			t.Fatalf("acked rows after redelivery = %v", got)
		}
	})
}
