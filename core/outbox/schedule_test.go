package outbox_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// scheduled is a recorder that also asks for a Tick every period.
type scheduled struct {
	*recorder
	every time.Duration
}

func (s scheduled) Period() time.Duration { return s.every }

// Many instances racing to append one period's Tick append exactly one; a
// disabled subscriber gets none; Ticks reach only their subscriber, not one
// subscribed to every type.
func TestEmitTickOncePerPeriod(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var ds []*outbox.Dispatcher
		for range 4 {
			d := outbox.New(db, fastOpts())
			t.Cleanup(d.Close)
			ds = append(ds, d)
		}
		if err := ds[0].EnsureCursor(ctx, "ticked", []core.EventType{core.EventTick}); err != nil {
			t.Fatal(err)
		}
		start := outbox.PeriodStart(time.Now(), time.Hour)
		var wg sync.WaitGroup
		var mu sync.Mutex
		appended := 0
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := ds[i%len(ds)].EmitTick(ctx, "ticked", start, time.Hour)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					appended++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE type = 'Tick' AND subscriber = 'ticked'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if appended != 1 || n != 1 {
			t.Fatalf("%d instances reported appending, %d Tick events; want 1 and 1", appended, n)
		}
		if err := ds[0].SetDisabled(ctx, "ticked", true, "test"); err != nil {
			t.Fatal(err)
		}
		if ok, err := ds[0].EmitTick(ctx, "ticked", start.Add(time.Hour), time.Hour); ok || err != nil {
			t.Fatalf("a disabled subscriber got a Tick: %v %v", ok, err)
		}
	})
}

func TestTicksReachOnlyTheirSubscriber(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		d := outbox.New(db, fastOpts())
		t.Cleanup(d.Close)
		ctx := context.Background()
		tick := scheduled{recorder: &recorder{id: "ticked", types: []core.EventType{core.EventOrderPaid, core.EventTick}}, every: time.Second}
		all := &recorder{id: "all"}
		for _, s := range []outbox.Subscriber{tick, all} {
			if err := d.Register(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		d.Start()
		evs := appendEvents(t, db, core.EventOrderPaid, 2)
		d.Notify()
		deadline := time.Now().Add(30 * time.Second)
		for {
			ticks := 0
			for _, ev := range tick.delivered() {
				if ev.Type == core.EventTick {
					ticks++
				}
			}
			if ticks >= 2 && len(tick.delivered()) >= 4 && len(all.delivered()) >= 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ticked got %d events, all got %d", len(tick.delivered()), len(all.delivered()))
			}
			time.Sleep(20 * time.Millisecond)
		}
		for _, ev := range all.delivered() {
			if ev.Type == core.EventTick {
				t.Fatalf("a subscriber to every type received another's Tick: %+v", ev)
			}
		}
		if got := all.delivered(); got[0].ID != evs[0].ID || got[1].ID != evs[1].ID {
			t.Fatalf("all got %+v", got)
		}
		subs, err := d.Subscribers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range subs {
			if s.ID == "all" && s.Pending != 0 {
				t.Fatalf("another subscriber's Ticks count as pending for %q: %+v", s.ID, s)
			}
		}
	})
}
