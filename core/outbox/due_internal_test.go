package outbox

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

type idleSub struct {
	id    string
	types []core.EventType
}

func (s idleSub) ID() string                                { return s.id }
func (s idleSub) EventTypes() []core.EventType              { return s.types }
func (s idleSub) Deliver(context.Context, core.Event) error { return nil }

// TestDueDoesNotReadTheOutbox: the look a loop takes at every wake-up costs
// the same whether the outbox behind its cursor holds a few events or many:
// it reads from the cursor on (one index bound; with two, SQLite ranged from
// seq 0 and read the whole outbox each time). For a loop with and without a
// type filter, on both databases.
func TestDueDoesNotReadTheOutbox(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		subs := 0
		perLook := func(types []core.EventType) time.Duration {
			// A new subscriber starts at the end of the outbox.
			subs++
			id := fmt.Sprint("idle-", subs)
			d := New(db, Options{})
			if err := d.Register(ctx, idleSub{id, types}); err != nil {
				t.Fatal(err)
			}
			l := d.loops[id]
			start := time.Now()
			const looks = 200
			for i := 0; i < looks; i++ {
				due, _, _, err := d.due(ctx, l)
				if err != nil || due {
					t.Fatalf("due = %v, %v with nothing past the cursor", due, err)
				}
			}
			return time.Since(start) / looks
		}
		add := func(n int) {
			for n > 0 {
				k := min(n, 500)
				evs := make([]core.Event, k)
				for i := range evs {
					evs[i] = core.Event{ID: store.NewEventID(), Type: core.EventNewOrder, CreatedAt: time.Now(), Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))}
				}
				if err := db.WriteTx(ctx, func(stx *store.Tx) error {
					return store.AppendEvents(stx.Context(), stx.IDB(), db.Kind, evs)
				}); err != nil {
					t.Fatal(err)
				}
				n -= k
			}
		}
		for _, types := range [][]core.EventType{nil, {core.EventOrderPaid}} {
			add(10)
			few := perLook(types)
			add(20000)
			many := perLook(types)
			// Reading 20000 rows per look costs far more than this.
			if many > 5*few+200*time.Microsecond {
				t.Errorf("types %v: a look takes %v behind 20000 events, %v behind 10", types, many, few)
			}
		}
	})
}
