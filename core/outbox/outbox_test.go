package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// recorder is a test subscriber: it records deliveries and fails on demand.
type recorder struct {
	id    string
	types []core.EventType
	fail  func(ev core.Event, attempt int) error
	delay time.Duration

	mu       sync.Mutex
	got      []core.Event
	attempts map[string]int
	inFlight atomic.Int32
	overlap  atomic.Int32
}

func (r *recorder) ID() string                   { return r.id }
func (r *recorder) EventTypes() []core.EventType { return r.types }
func (r *recorder) Deliver(ctx context.Context, ev core.Event) error {
	if r.inFlight.Add(1) > 1 {
		r.overlap.Add(1)
	}
	defer r.inFlight.Add(-1)
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	r.mu.Lock()
	if r.attempts == nil {
		r.attempts = map[string]int{}
	}
	r.attempts[ev.ID]++
	n := r.attempts[ev.ID]
	r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(ev, n); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.got = append(r.got, ev)
	r.mu.Unlock()
	return nil
}

func (r *recorder) delivered() []core.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]core.Event(nil), r.got...)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func fastOpts() outbox.Options {
	return outbox.Options{PollInterval: 50 * time.Millisecond, BackoffMin: 10 * time.Millisecond, BackoffMax: 40 * time.Millisecond,
		MaxAttempts: 3, Lease: 5 * time.Second, BatchSize: 7, Logger: quiet()}
}

func appendEvents(t *testing.T, db *store.DB, typ core.EventType, n int) []core.Event {
	t.Helper()
	var out []core.Event
	for i := 0; i < n; i++ {
		err := db.WriteTx(context.Background(), func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			ev, err := store.AppendEvent(ctx, tx, db.Kind, time.Now(), typ, map[string]any{"n": i})
			out = append(out, ev)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// WriteTx returns once the event is readable; on PostgreSQL its seq
		// is given only then.
		if err := db.NewSelect().TableExpr("events").Column("seq").Where("id = ?", out[i].ID).Scan(context.Background(), &out[i].Seq); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDeliversInOrderFromRegistrationOnward(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		before := appendEvents(t, db, core.EventOrderPaid, 2) // history: not replayed to a new subscriber
		d := outbox.New(db, fastOpts())
		defer d.Close()
		paid := &recorder{id: "paid", types: []core.EventType{core.EventOrderPaid}}
		all := &recorder{id: "all"}
		for _, s := range []outbox.Subscriber{paid, all} {
			if err := d.Register(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		d.Start()
		var want []core.Event
		for i := 0; i < 5; i++ {
			want = append(want, appendEvents(t, db, core.EventOrderPaid, 3)...)
			appendEvents(t, db, core.EventNewOrder, 1)
			d.Notify()
		}
		waitFor(t, "15 OrderPaid deliveries", func() bool { return len(paid.delivered()) >= 15 })
		waitFor(t, "20 deliveries", func() bool { return len(all.delivered()) >= 20 })
		got := paid.delivered()
		if len(got) != 15 {
			t.Fatalf("got %d OrderPaid deliveries, want 15", len(got))
		}
		for i, ev := range got {
			if ev.ID != want[i].ID || ev.Type != core.EventOrderPaid || string(ev.Payload) != string(want[i].Payload) {
				t.Fatalf("delivery %d = %s %s, want %s (in order)", i, ev.ID, ev.Type, want[i].ID)
			}
			if ev.ID == before[0].ID || ev.ID == before[1].ID {
				t.Fatal("event committed before registration was delivered")
			}
		}
		// The cursor moves just after Deliver returns.
		var st outbox.SubscriberState
		waitFor(t, "cursor", func() bool { st, _ = d.Subscriber(ctx, "paid"); return st.Pending == 0 })
		if st.Position != want[14].Seq || st.Attempts != 0 {
			t.Fatalf("state = %+v", st)
		}
	})
}

func TestRetriesWithBackoffThenParksAndRedelivers(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := outbox.New(db, fastOpts())
		defer d.Close()
		var broken atomic.Bool
		broken.Store(true)
		// The second event ({"n":1}) is the poison one.
		r := &recorder{id: "flaky", fail: func(ev core.Event, attempt int) error {
			if string(ev.Payload) == `{"n":1}` && broken.Load() {
				return errors.New("remote is down")
			}
			if attempt == 1 {
				return errors.New("first attempt fails")
			}
			return nil
		}}
		if err := d.Register(ctx, r); err != nil {
			t.Fatal(err)
		}
		d.Start()
		evs := appendEvents(t, db, core.EventOrderPaid, 4)
		poison := evs[1].ID
		d.Notify()
		waitFor(t, "3 deliveries", func() bool { return len(r.delivered()) == 3 })
		got := r.delivered()
		if got[0].ID != evs[0].ID || got[1].ID != evs[2].ID || got[2].ID != evs[3].ID {
			t.Fatalf("order = %v", got)
		}
		r.mu.Lock()
		if r.attempts[poison] != 3 || r.attempts[evs[0].ID] != 2 {
			t.Fatalf("attempts = %v, want 3 on the parked event and 2 on the others", r.attempts)
		}
		r.mu.Unlock()
		failed, err := d.Failed(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) != 1 || failed[0].EventID != poison || failed[0].SubscriberID != "flaky" || failed[0].Attempts != 3 ||
			failed[0].LastError != "remote is down" || failed[0].State != "failed" {
			t.Fatalf("failed = %+v", failed)
		}
		waitFor(t, "cursor past the parked event", func() bool {
			st, _ := d.Subscriber(ctx, "flaky")
			return st.Failed == 1 && st.Pending == 0
		})
		if err := d.Redeliver(ctx, failed[0].ID+1000); !errors.Is(err, outbox.ErrNotFound) {
			t.Fatalf("redeliver unknown id: %v", err)
		}
		// A redelivery that fails again goes back to failed.
		if err := d.Redeliver(ctx, failed[0].ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "failed redelivery", func() bool {
			f, _ := d.Failed(ctx, "flaky")
			return len(f) == 1 && f[0].State == "failed" && f[0].Attempts == 4
		})
		broken.Store(false)
		n, err := d.RedeliverAll(ctx, "")
		if err != nil || n != 1 {
			t.Fatalf("redeliver all = %d, %v", n, err)
		}
		waitFor(t, "redelivered", func() bool { return len(r.delivered()) == 4 })
		if r.delivered()[3].ID != poison {
			t.Fatal("redelivered the wrong event")
		}
		waitFor(t, "failure removed", func() bool { f, _ := d.Failed(ctx, ""); return len(f) == 0 })
	})
}

func TestPermanentErrorParksAtOnce(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	d := outbox.New(db, fastOpts())
	defer d.Close()
	r := &recorder{id: "p", fail: func(core.Event, int) error { return outbox.Permanent(errors.New("404 order not found")) }}
	if err := d.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
	d.Start()
	appendEvents(t, db, core.EventOrderAnnulled, 2)
	d.Notify()
	waitFor(t, "2 parked", func() bool { f, _ := d.Failed(ctx, "p"); return len(f) == 2 })
	f, _ := d.Failed(ctx, "p")
	if f[0].Attempts != 1 {
		t.Fatalf("attempts = %d, want 1", f[0].Attempts)
	}
}

func TestDisabledSubscriberKeepsEventsPending(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	d := outbox.New(db, fastOpts())
	defer d.Close()
	r := &recorder{id: "x"}
	if err := d.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
	// An enabled sibling shows when the dispatcher has handled the events.
	sibling := &recorder{id: "sibling"}
	if err := d.Register(ctx, sibling); err != nil {
		t.Fatal(err)
	}
	if err := d.SetDisabled(ctx, "x", true, "keeps crashing"); err != nil {
		t.Fatal(err)
	}
	d.Start()
	appendEvents(t, db, core.EventNewOrder, 3)
	d.Notify()
	waitFor(t, "3 deliveries to the enabled sibling", func() bool {
		st, err := d.Subscriber(ctx, "sibling")
		return err == nil && len(sibling.delivered()) == 3 && st.Pending == 0
	})
	st, _ := d.Subscriber(ctx, "x")
	if len(r.delivered()) != 0 || st.Pending != 3 || !st.Disabled || st.DisabledReason != "keeps crashing" {
		t.Fatalf("disabled subscriber: delivered %d, state %+v", len(r.delivered()), st)
	}
	if err := d.SetDisabled(ctx, "x", false, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "3 deliveries after enabling", func() bool { return len(r.delivered()) == 3 })
	if err := d.SetDisabled(ctx, "nope", true, ""); !errors.Is(err, outbox.ErrNotFound) {
		t.Fatal(err)
	}
}

// A subscriber that panics is retried like one that returns an error.
func TestPanickingSubscriberIsContained(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	d := outbox.New(db, fastOpts())
	defer d.Close()
	r := &recorder{id: "boom", fail: func(_ core.Event, n int) error {
		if n == 1 {
			panic("boom")
		}
		return nil
	}}
	if err := d.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
	d.Start()
	appendEvents(t, db, core.EventNewOrder, 2)
	d.Notify()
	waitFor(t, "2 deliveries", func() bool { return len(r.delivered()) == 2 })
}

// Stopping the dispatcher with events pending and starting a new one (a
// restart) delivers every event.
func TestPendingEventsSurviveRestart(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seen := map[string]int{}
		var mu sync.Mutex
		mk := func() *recorder {
			return &recorder{id: "durable", delay: 5 * time.Millisecond, fail: func(ev core.Event, _ int) error {
				mu.Lock()
				seen[ev.ID]++
				mu.Unlock()
				return nil
			}}
		}
		d1 := outbox.New(db, fastOpts())
		r1 := mk()
		if err := d1.Register(ctx, r1); err != nil {
			t.Fatal(err)
		}
		d1.Start()
		evs := appendEvents(t, db, core.EventPaymentReceived, 40)
		d1.Notify()
		waitFor(t, "some deliveries", func() bool { return len(r1.delivered()) >= 5 })
		d1.Close()
		if n := len(r1.delivered()); n == 40 {
			t.Log("all delivered before the stop; restart still checked")
		}
		d2 := outbox.New(db, fastOpts())
		defer d2.Close()
		r2 := mk()
		if err := d2.Register(ctx, r2); err != nil {
			t.Fatal(err)
		}
		d2.Start()
		waitFor(t, "all 40 delivered", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) == 40
		})
		for _, ev := range evs {
			if seen[ev.ID] == 0 {
				t.Fatalf("event %s lost", ev.ID)
			}
		}
	})
}

// Two dispatchers (two server instances) on one PostgreSQL database share a
// subscriber without ever delivering to it concurrently.
func TestTwoInstancesNeverDeliverConcurrently(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	db1, db2 := twoInstances(t, url)
	var inFlight, overlap atomic.Int32
	var mu sync.Mutex
	count := map[string]int{}
	var order []int64
	mk := func() *recorder {
		return &recorder{id: "shared", delay: 2 * time.Millisecond, fail: func(ev core.Event, _ int) error {
			if inFlight.Add(1) > 1 {
				overlap.Add(1)
			}
			time.Sleep(time.Millisecond)
			inFlight.Add(-1)
			mu.Lock()
			count[ev.ID]++
			order = append(order, ev.Seq)
			mu.Unlock()
			return nil
		}}
	}
	opts := fastOpts()
	opts.PollInterval = 5 * time.Millisecond
	d1, d2 := outbox.New(db1, opts), outbox.New(db2, opts)
	defer d1.Close()
	defer d2.Close()
	for _, p := range []struct {
		d  *outbox.Dispatcher
		db *store.DB
	}{{d1, db1}, {d2, db2}} {
		if err := p.d.Register(ctx, mk()); err != nil {
			t.Fatal(err)
		}
		p.d.Start()
	}
	const n = 60
	for i := 0; i < n/10; i++ {
		appendEvents(t, db1, core.EventOrderPaid, 10)
		d1.Notify()
		d2.Notify()
	}
	waitFor(t, "all delivered", func() bool { mu.Lock(); defer mu.Unlock(); return len(count) == n })
	// Both instances see the cursor past every event and nothing in flight:
	// nothing is left that either could deliver again.
	waitFor(t, "the cursor past every event on both instances", func() bool {
		for _, d := range []*outbox.Dispatcher{d1, d2} {
			if st, err := d.Subscriber(ctx, "shared"); err != nil || st.Pending != 0 {
				return false
			}
		}
		return inFlight.Load() == 0
	})
	if overlap.Load() != 0 {
		t.Fatalf("%d concurrent deliveries across instances", overlap.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	for id, c := range count {
		if c != 1 {
			t.Fatalf("event %s delivered %d times", id, c)
		}
	}
	for i := 1; i < len(order); i++ {
		if order[i] <= order[i-1] {
			t.Fatalf("out of order: %v", order)
		}
	}
	fmt.Fprint(io.Discard, order)
}

// An instance that died holding a lease blocks delivery only until the lease
// expires; then another instance takes over.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	d := outbox.New(db, fastOpts())
	defer d.Close()
	r := &recorder{id: "orphan"}
	if err := d.EnsureCursor(ctx, "orphan", nil); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, db, core.EventNewOrder, 2)
	expires := time.Now().Add(400 * time.Millisecond)
	if _, err := db.ExecContext(ctx, `UPDATE outbox_subscribers SET lease_owner = 'dead-instance', lease_until_ms = ? WHERE id = 'orphan'`, expires.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if err := d.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
	d.Start()
	d.Notify()
	st, _ := d.Subscriber(ctx, "orphan")
	if st.LeasedBy != "dead-instance" || st.Pending != 2 {
		t.Fatalf("state = %+v", st)
	}
	waitFor(t, "takeover", func() bool { return len(r.delivered()) == 2 })
	if time.Now().Before(expires) {
		t.Fatal("delivered while another instance held the lease")
	}
}

// A busy loop keeps its lease between rounds: events that arrive one at a
// time cost one cursor write each (the acknowledgement), not a claim and a
// release around every round. Close gives the lease up.
func TestLeaseIsKeptBetweenRoundsAndReleasedOnClose(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		opts := fastOpts()
		opts.Lease = time.Minute // no renewal writes however slow the machine
		d := outbox.New(db, opts)
		r := &recorder{id: "trickle"}
		if err := d.Register(ctx, r); err != nil {
			t.Fatal(err)
		}
		// Count writes to the cursor row.
		var trigger string
		if db.Kind == store.Postgres {
			trigger = `CREATE TABLE cursor_writes (n INTEGER);
CREATE FUNCTION count_cursor_write() RETURNS trigger AS $$ BEGIN INSERT INTO cursor_writes VALUES (1); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER cursor_writes_t AFTER UPDATE ON outbox_subscribers FOR EACH ROW EXECUTE FUNCTION count_cursor_write();`
		} else {
			trigger = `CREATE TABLE cursor_writes (n INTEGER);
CREATE TRIGGER cursor_writes_t AFTER UPDATE ON outbox_subscribers BEGIN INSERT INTO cursor_writes VALUES (1); END;`
		}
		if _, err := db.ExecContext(ctx, trigger); err != nil {
			t.Fatal(err)
		}
		d.Start()
		const n = 10
		for i := 1; i <= n; i++ {
			appendEvents(t, db, core.EventOrderPaid, 1)
			d.Notify()
			waitFor(t, "delivery", func() bool { return len(r.delivered()) == i })
		}
		var writes int
		if err := db.NewSelect().TableExpr("cursor_writes").ColumnExpr("count(*)").Scan(ctx, &writes); err != nil {
			t.Fatal(err)
		}
		// One claim, then one acknowledgement per event.
		if writes != n+1 {
			t.Errorf("%d cursor writes for %d events delivered one at a time, want %d", writes, n, n+1)
		}
		leaseOwner := func() string {
			var owner string
			if err := db.NewSelect().TableExpr("outbox_subscribers").Column("lease_owner").Where("id = 'trickle'").Scan(ctx, &owner); err != nil {
				t.Fatal(err)
			}
			return owner
		}
		if leaseOwner() == "" {
			t.Error("lease given up between rounds")
		}
		d.Close()
		if owner := leaseOwner(); owner != "" {
			t.Errorf("lease still held by %q after Close", owner)
		}
	})
}

// A subscriber to a rare event type skips the stretches of other events it
// has already looked through, and still gets every event of its type, in
// order, whenever one arrives between them.
func TestRareEventsBetweenManyOthers(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := outbox.New(db, fastOpts())
		defer d.Close()
		rare := &recorder{id: "rare", types: []core.EventType{core.EventOrderAnnulled}}
		all := &recorder{id: "all"}
		for _, r := range []*recorder{rare, all} {
			if err := d.Register(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		d.Start()
		var want []core.Event
		total := 0
		for round := 0; round < 3; round++ {
			for i := 0; i < 15; i++ {
				appendEvents(t, db, core.EventNewOrder, 1)
				d.Notify()
			}
			total += 15
			waitFor(t, "the other events", func() bool { return len(all.delivered()) == total })
			want = append(want, appendEvents(t, db, core.EventOrderAnnulled, 1)...)
			total++
			d.Notify()
		}
		waitFor(t, "every rare event", func() bool { return len(rare.delivered()) == len(want) })
		for i, ev := range rare.delivered() {
			if ev.ID != want[i].ID {
				t.Fatalf("rare delivery %d = %s, want %s", i, ev.ID, want[i].ID)
			}
		}
	})
}

// syncBuffer is a log sink safe for the dispatcher's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

// A failed attempt that cannot be recorded is not silently dropped (it
// would never count towards parking): the dispatcher says so, and once the
// database accepts the write again the retries go on to parking as usual.
func TestUnrecordedAttemptIsReportedAndRetried(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	// The database refuses to record attempts until the trigger is dropped.
	if _, err := db.ExecContext(ctx, `CREATE TRIGGER refuse_attempts BEFORE UPDATE OF attempts ON outbox_subscribers
		WHEN NEW.attempts > 0 BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END`); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	opts := fastOpts()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	d := outbox.New(db, opts)
	defer d.Close()
	r := &recorder{id: "r", fail: func(core.Event, int) error { return errors.New("receiver down") }}
	if err := d.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
	d.Start()
	appendEvents(t, db, core.EventOrderPaid, 1)
	d.Notify()
	waitFor(t, "the unrecorded attempt to be reported", func() bool {
		return strings.Contains(logs.String(), "recording a failed attempt failed")
	})
	if f, _ := d.Failed(ctx, "r"); len(f) != 0 {
		t.Fatalf("parked without its attempts recorded: %+v", f)
	}
	if _, err := db.ExecContext(ctx, `DROP TRIGGER refuse_attempts`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the event parked after MaxAttempts", func() bool { f, _ := d.Failed(ctx, "r"); return len(f) == 1 })
}

// blocking is a subscriber whose deliveries wait for release; it records
// whether its context was cancelled under it.
type blocking struct {
	id        string
	started   chan core.Event
	release   chan struct{}
	cancelled atomic.Bool
}

func (b *blocking) ID() string                   { return b.id }
func (b *blocking) EventTypes() []core.EventType { return nil }
func (b *blocking) Deliver(ctx context.Context, ev core.Event) error {
	b.started <- ev
	select {
	case <-b.release:
	case <-ctx.Done():
		b.cancelled.Store(true)
		return ctx.Err()
	}
	return nil
}

// Registering a new subscriber under a running one's id (a new plugin
// version) lets the in-flight delivery finish, uncancelled; the new one then
// continues after it, and Notify never waits for the swap.
func TestReplaceWaitsForInFlightDelivery(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := outbox.New(db, fastOpts())
		defer d.Close()
		old := &blocking{id: "p", started: make(chan core.Event, 10), release: make(chan struct{})}
		if err := d.Register(ctx, old); err != nil {
			t.Fatal(err)
		}
		d.Start()
		evs := appendEvents(t, db, core.EventOrderPaid, 2)
		d.Notify()
		var first core.Event
		select {
		case first = <-old.started:
		case <-time.After(10 * time.Second):
			t.Fatal("the old subscriber never started delivering")
		}
		next := &recorder{id: "p"}
		replaced := make(chan error, 1)
		go func() { replaced <- d.Register(ctx, next) }()
		select {
		case err := <-replaced:
			t.Fatalf("Register returned (%v) while the old delivery was in flight", err)
		case <-time.After(300 * time.Millisecond):
		}
		notified := make(chan struct{})
		go func() { d.Notify(); close(notified) }()
		select {
		case <-notified:
		case <-time.After(2 * time.Second):
			t.Fatal("Notify waited for the replacement")
		}
		close(old.release)
		if err := <-replaced; err != nil {
			t.Fatal(err)
		}
		if old.cancelled.Load() || first.ID != evs[0].ID {
			t.Fatalf("in-flight delivery cancelled=%v (event %s)", old.cancelled.Load(), first.ID)
		}
		waitFor(t, "the new subscriber to take the next event", func() bool { return len(next.delivered()) == 1 })
		if got := next.delivered(); got[0].ID != evs[1].ID {
			t.Fatalf("new subscriber got %s, want %s (the old one's event must not repeat)", got[0].ID, evs[1].ID)
		}
		select {
		case ev := <-old.started:
			t.Fatalf("the old subscriber was called again for %s", ev.ID)
		default:
		}
	})
}

// Leases, retry times and updated_at all come from Options.Now: with a clock
// an hour ahead, every time the dispatcher writes is an hour ahead.
func TestDispatcherUsesItsClock(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const skew = time.Hour
		opts := fastOpts()
		opts.Now = func() time.Time { return time.Now().Add(skew) }
		opts.MaxAttempts = 1000 // keeps failing until released, never parked
		d := outbox.New(db, opts)
		defer d.Close()
		var release atomic.Bool
		r := &recorder{id: "clocked", fail: func(ev core.Event, attempt int) error {
			if !release.Load() {
				return errors.New("failing until released")
			}
			return nil
		}}
		if err := d.Register(ctx, r); err != nil {
			t.Fatal(err)
		}
		d.Start()
		start := time.Now()
		appendEvents(t, db, core.EventNewOrder, 1)
		d.Notify()
		var next, lease int64
		var updated time.Time
		row := func() {
			if err := db.QueryRowContext(ctx, `SELECT next_attempt_ms, lease_until_ms, updated_at FROM outbox_subscribers WHERE id = 'clocked'`).
				Scan(&next, &lease, &updated); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "the failed attempt recorded", func() bool { row(); return next > 0 })
		ahead := start.Add(skew - time.Minute)
		if time.UnixMilli(next).Before(ahead) || time.UnixMilli(lease).Before(ahead) || updated.Before(ahead) {
			t.Fatalf("retry at %v, lease until %v, updated %v: not from the dispatcher's clock (real start %v)",
				time.UnixMilli(next), time.UnixMilli(lease), updated, start)
		}
		release.Store(true)
		waitFor(t, "the retry", func() bool { return len(r.delivered()) == 1 })
		if err := d.SetDisabled(ctx, "clocked", true, "test"); err != nil {
			t.Fatal(err)
		}
		row()
		if updated.Before(ahead) {
			t.Fatalf("SetDisabled wrote updated_at %v, not from the dispatcher's clock", updated)
		}
	})
}

// Unregister gives up the lease at once (another instance need not wait for
// it to expire), and says so when it cannot.
func TestUnregisterGivesUpTheLease(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		opts := fastOpts()
		opts.Lease = time.Minute
		d := outbox.New(db, opts)
		defer d.Close()
		owner := func(id string) string {
			var o string
			if err := db.QueryRowContext(ctx, `SELECT lease_owner FROM outbox_subscribers WHERE id = ?`, id).Scan(&o); err != nil {
				t.Fatal(err)
			}
			return o
		}
		a, b := &recorder{id: "a"}, &recorder{id: "b"}
		for _, r := range []*recorder{a, b} {
			if err := d.Register(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		d.Start()
		appendEvents(t, db, core.EventNewOrder, 1)
		d.Notify()
		waitFor(t, "deliveries", func() bool { return len(a.delivered()) == 1 && len(b.delivered()) == 1 })
		if owner("a") != d.InstanceID() {
			t.Fatalf("lease owner %q before Unregister", owner("a"))
		}
		if err := d.Unregister("a"); err != nil {
			t.Fatal(err)
		}
		if o := owner("a"); o != "" {
			t.Fatalf("lease still held by %q after Unregister", o)
		}
		// With the database gone the lease cannot be given up: the caller hears of it.
		db.Close()
		if err := d.Unregister("b"); err == nil {
			t.Fatal("Unregister reported success without giving up the lease")
		}
	})
}

// queryCounter counts the statements a store handle sends that contain s.
type queryCounter struct {
	s string
	n atomic.Int64
}

func (c *queryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}
func (c *queryCounter) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.Contains(e.Query, c.s) {
		c.n.Add(1)
	}
}

// TestStandbyInstanceIgnoresWakeUps: while another instance holds a
// subscriber's lease (and delivers everything, this instance's events too),
// this instance's loop looks again only at its poll interval: the wake-up
// after each of its commits costs it no query.
func TestStandbyInstanceIgnoresWakeUps(t *testing.T) {
	url := storetest.SQLiteURL(t)
	ctx := context.Background()
	db1, db2 := twoInstances(t, url)
	opts := fastOpts()
	opts.PollInterval = time.Hour // only wake-ups make a loop look
	owner, standby := outbox.New(db1, opts), outbox.New(db2, opts)
	defer owner.Close()
	defer standby.Close()
	r1 := &recorder{id: "shared"}
	if err := owner.Register(ctx, r1); err != nil {
		t.Fatal(err)
	}
	owner.Start()
	appendEvents(t, db1, core.EventOrderPaid, 1)
	owner.Notify()
	waitFor(t, "the owner's first delivery (it holds the lease)", func() bool { return len(r1.delivered()) == 1 })

	looks := &queryCounter{s: "FROM outbox_subscribers s WHERE s.id"}
	db2.AddQueryHook(looks)
	r2 := &recorder{id: "shared"}
	if err := standby.Register(ctx, r2); err != nil {
		t.Fatal(err)
	}
	standby.Start()
	waitFor(t, "the standby loop's first look", func() bool { return looks.n.Load() >= 1 })
	for i := 0; i < 20; i++ {
		appendEvents(t, db2, core.EventOrderPaid, 1)
		standby.Notify()
		owner.Notify()
	}
	waitFor(t, "the owner delivering the standby's events", func() bool { return len(r1.delivered()) == 21 })
	if n := looks.n.Load(); n > 2 {
		t.Fatalf("the standby loop looked %d times after 20 wake-ups while another instance held the lease", n)
	}
	if got := len(r2.delivered()); got != 0 {
		t.Fatalf("the standby instance delivered %d events", got)
	}
}

// twoInstances opens the database at url twice, as two server instances
// would (each its own pool).
func twoInstances(t *testing.T, url string) (*store.DB, *store.DB) {
	t.Helper()
	open := func() *store.DB {
		db, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	return open(), open()
}
