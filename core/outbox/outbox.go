// Package outbox delivers committed outbox events (the `events` table written
// by store.AppendEvent) to subscribers: at least once, in order per
// subscriber, with exponential backoff, parking an event as failed after a
// bounded number of attempts. All delivery state (each subscriber's cursor,
// its retry clock, its lease and the parked failures) lives in the database,
// so deliveries survive restarts and several server instances can share one
// PostgreSQL database: a subscriber's cursor is leased by one instance at a
// time, so no event is ever delivered by two instances concurrently.
//
// It knows nothing of WebAssembly; the plugin host registers each plugin as a
// Subscriber.
//
// A new subscriber starts from "now" (the last event committed when its cursor
// row is first created), not from the beginning of the outbox: installing a
// plugin on a server with months of history must not replay every old order to
// Shopify or to a mail API. The plugin host registers subscribers at startup,
// before the server accepts requests, so on a fresh install nothing is missed.
package outbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
)

// Subscriber receives events. Deliver is called for one event at a time, in
// seq order, and never concurrently for one subscriber ID (across instances
// too). A nil error acknowledges the event; any error schedules a retry.
type Subscriber interface {
	// ID names the subscriber's cursor; it must stay stable across restarts.
	ID() string
	// EventTypes lists the wanted event types; empty means every type.
	EventTypes() []core.EventType
	// Deliver handles one event. ctx carries a deadline inside the lease.
	Deliver(ctx context.Context, ev core.Event) error
}

// Ack is work a subscriber asks to run inside the transaction that
// acknowledges the event it handled (moves its cursor past it, or clears its
// redelivery): both commit or neither does, so a redelivered event never
// applies the work twice and an unacknowledged one never applies it at all.
// An error rolls the acknowledgement back; the event is delivered again.
type Ack func(ctx context.Context, tx bun.IDB) error

// AckSubscriber is a Subscriber whose deliveries may return an Ack. The
// dispatcher calls DeliverAck instead of Deliver; a nil Ack acknowledges as
// Deliver's nil error does. The Ack is ignored when the error is not nil.
type AckSubscriber interface {
	Subscriber
	DeliverAck(ctx context.Context, ev core.Event) (Ack, error)
}

// ErrNotFound is returned by the admin methods for an unknown id.
var ErrNotFound = errors.New("not found")

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks a delivery error that retrying cannot fix (e.g. the remote
// answered 404): the event is parked as failed at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Options tune a Dispatcher. Zero values take the defaults.
type Options struct {
	PollInterval time.Duration // fallback wake-up when nobody calls Notify; default 2s
	MaxAttempts  int           // attempts before an event is parked; default 8
	BackoffMin   time.Duration // first retry delay; default 1s
	BackoffMax   time.Duration // cap on the retry delay; default 10m
	Lease        time.Duration // how long a claimed cursor stays ours; default 60s
	BatchSize    int           // events read per query; default 100
	Logger       *slog.Logger
	// Now is the clock of leases, retry times and updated_at columns;
	// default time.Now. Lease times are compared across instances, so every
	// instance's clock must be the same real one.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 10 * time.Minute
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	if o.Lease <= 0 {
		o.Lease = 60 * time.Second
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Dispatcher runs one delivery loop per registered subscriber.
type Dispatcher struct {
	db       *store.DB
	opts     Options
	instance string
	log      *slog.Logger

	mu      sync.Mutex
	loops   map[string]*loop
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
	closed  bool
}

type loop struct {
	sub   Subscriber
	types []string
	wake  chan struct{}
	stop  context.CancelFunc // set once started; cancels deliveries too
	done  chan struct{}
	// quit (closed by finish) stops the loop between deliveries.
	quit     chan struct{}
	quitOnce sync.Once
	// lease is when the cursor lease this loop holds runs out (zero: not
	// held). It is kept between rounds, renewed by every acknowledgement,
	// and given up by Close: claiming and releasing it around each round
	// cost two writes per event when events trickle in one at a time.
	lease leaseState
	// skipTo (loops with a type filter) is a seq up to which the outbox
	// holds none of this loop's event types past its cursor, so neither
	// due nor fetch rescans that stretch: a subscriber to rare events
	// would otherwise read the whole tail of the outbox at every wake-up.
	// Seqs become visible in order (see store.SequenceEvents), so nothing at or
	// below it can still appear.
	skipTo int64
	// standby: the last round found the subscriber's lease held by another
	// instance, which delivers what this one commits too.
	// Until the next poll the loop then ignores wake-ups: under load every
	// commit of this instance would otherwise cost each such loop a query.
	standby bool
	// known is the cursor's position as due last read it: a lower bound
	// for the next look, as a cursor never moves back.
	known int64
}

// New returns a dispatcher over db. Register subscribers, then Start it.
func New(db *store.DB, opts Options) *Dispatcher {
	opts.defaults()
	var b [8]byte
	_, _ = rand.Read(b[:])
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{
		db: db, opts: opts, instance: hex.EncodeToString(b[:]), log: opts.Logger,
		loops: map[string]*loop{}, ctx: ctx, cancel: cancel,
	}
}

// InstanceID identifies this dispatcher in lease columns.
func (d *Dispatcher) InstanceID() string { return d.instance }

// now is the dispatcher's clock.
func (d *Dispatcher) now() time.Time { return d.opts.Now() }

func (d *Dispatcher) nowMS() int64 { return d.now().UnixMilli() }

func typesOf(sub Subscriber) []string {
	var ts []string
	for _, t := range sub.EventTypes() {
		ts = append(ts, string(t))
	}
	sort.Strings(ts)
	return ts
}

// Register creates the subscriber's cursor if it does not exist yet (starting
// after the last committed event, see the package doc) and, once the
// dispatcher is started, begins delivering to it. Registering an ID twice
// replaces the previous subscriber.
func (d *Dispatcher) Register(ctx context.Context, sub Subscriber) error {
	id := sub.ID()
	if id == "" {
		return errors.New("outbox: subscriber with an empty id")
	}
	types := typesOf(sub)
	if err := d.EnsureCursor(ctx, id, sub.EventTypes()); err != nil {
		return err
	}
	l := &loop{sub: sub, types: types, wake: make(chan struct{}, 1), done: make(chan struct{}), quit: make(chan struct{})}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return errors.New("outbox: dispatcher closed")
	}
	old := d.loops[id]
	d.loops[id] = l
	started := d.started
	d.mu.Unlock()
	// A replaced subscriber (a new version of a plugin) finishes its
	// in-flight delivery first; the new one then continues from the cursor,
	// taking over the lease this instance holds. Waiting happens outside
	// d.mu, so Notify (called after every commit) never waits for a plugin.
	if old != nil && old.stop != nil {
		old.finish()
	}
	if started {
		d.mu.Lock()
		if !d.closed && d.loops[id] == l {
			d.startLoop(l)
		}
		d.mu.Unlock()
	}
	return nil
}

// finish asks a running loop to stop after its in-flight delivery (without
// cancelling it) and waits until it has.
func (l *loop) finish() {
	l.quitOnce.Do(func() { close(l.quit) })
	<-l.done
}

func (l *loop) quitting() bool {
	select {
	case <-l.quit:
		return true
	default:
		return false
	}
}

// EnsureCursor creates subscriber id's cursor if it does not exist yet,
// starting after the last committed event, and records its event types.
// From then on its events are kept for it even while nothing delivers them
// (a plugin that is still compiling, or broken until it is fixed).
func (d *Dispatcher) EnsureCursor(ctx context.Context, id string, eventTypes []core.EventType) error {
	var ts []string
	for _, t := range eventTypes {
		ts = append(ts, string(t))
	}
	sort.Strings(ts)
	types := strings.Join(ts, ",")
	now := d.now().UTC()
	// One transaction, so two instances registering the same subscriber
	// agree on its starting position.
	err := d.db.WriteTx(ctx, func(stx *store.Tx) error {
		ctx, tx := stx.Context(), stx.IDB()
		last, err := store.LastEventSeq(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_subscribers (id, event_types, position, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, id, types, last, now, now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE outbox_subscribers SET event_types = ?, removed = FALSE WHERE id = ? AND (event_types <> ? OR removed)`, types, id, types)
		return err
	}, store.NoEvents)
	if err != nil {
		return fmt.Errorf("outbox: register %s: %w", id, err)
	}
	return nil
}

// Unregister stops delivering to id in this process (its cursor stays),
// after the delivery in flight, if any, has finished, and gives up its lease
// so another instance still running the subscriber takes over at once. The
// error says the lease could not be given up: delivery has stopped all the
// same, and another instance takes over when the lease expires.
func (d *Dispatcher) Unregister(id string) error {
	d.mu.Lock()
	l := d.loops[id]
	delete(d.loops, id)
	d.mu.Unlock()
	if l == nil || l.stop == nil {
		return nil
	}
	l.finish()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := d.db.ExecContext(ctx, `UPDATE outbox_subscribers SET lease_owner = '', lease_until_ms = 0 WHERE id = ? AND lease_owner = ?`, id, d.instance); err != nil {
		return fmt.Errorf("outbox: giving up the lease of %s: %w", id, err)
	}
	return nil
}

// Start launches the delivery loops. It returns at once.
func (d *Dispatcher) Start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started || d.closed {
		return
	}
	d.started = true
	for _, l := range d.loops {
		d.startLoop(l)
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.sequencePending(d.ctx)
	}()
}

// sequencePending makes staged events readable at every poll interval
// (store.DB.SequenceEvents; PostgreSQL only). Each instance's writes are
// sequenced right after their commit; this moves what an instance that
// crashed between its commit and that step left pending, and what a failed
// step left behind, then wakes the loops for it. It also vacuums the staging
// table (store.DB.VacuumStaged), which the moves would otherwise scan ever
// larger between autovacuum runs.
func (d *Dispatcher) sequencePending(ctx context.Context) {
	if d.db.Kind != store.Postgres {
		return
	}
	t := time.NewTicker(d.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		moved, err := d.db.SequenceEvents(ctx)
		if err != nil {
			d.log.Warn("outbox: sequencing staged events failed; retrying at the next poll", "err", err)
		}
		if moved > 0 {
			d.Notify()
		}
		if err := d.db.VacuumStaged(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("outbox: vacuuming events_pending failed; autovacuum will", "err", err)
		}
	}
}

func (d *Dispatcher) startLoop(l *loop) {
	ctx, cancel := context.WithCancel(d.ctx)
	l.stop = cancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(l.done)
		d.run(ctx, l)
	}()
	if s, ok := l.sub.(ScheduledSubscriber); ok && s.Period() > 0 {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.schedule(ctx, l, s.Period())
		}()
	}
}

// Notify wakes every loop; call it after a commit that appended events.
func (d *Dispatcher) Notify() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range d.loops {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// Close stops the loops, waits for in-flight deliveries to return and gives
// up the leases. Pending events stay in the outbox for the next start.
func (d *Dispatcher) Close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := d.db.ExecContext(ctx, `UPDATE outbox_subscribers SET lease_owner = '', lease_until_ms = 0 WHERE lease_owner = ?`, d.instance); err != nil {
		d.log.Warn("outbox: releasing the leases at close failed; other instances take over when they expire", "err", err)
	}
}

// run is one subscriber's loop: deliver what is due, then sleep until woken,
// the poll interval passes or the retry clock fires.
func (d *Dispatcher) run(ctx context.Context, l *loop) {
	for {
		wait := d.round(ctx, l)
		if ctx.Err() != nil || l.quitting() {
			return
		}
		if wait <= 0 {
			continue
		}
		wake := l.wake
		if l.standby {
			wake = nil // a nil channel never delivers: wait for the poll
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-l.quit:
			t.Stop()
			return
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// round claims the cursor (unless it still holds it) and delivers due work. It returns how
// long to wait before the next round (0: more work is ready).
func (d *Dispatcher) round(ctx context.Context, l *loop) time.Duration {
	id := l.sub.ID()
	// Look before taking the lease: claiming is a write, and on SQLite every
	// write waits for the single writer the API needs.
	due, wait, lk, err := d.due(ctx, l)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("outbox: reading cursor failed", "subscriber", id, "err", err)
		}
		return d.opts.PollInterval
	}
	if !due {
		return wait
	}
	ls := &l.lease
	var st cursor
	if ls.until.Sub(d.now()) > d.opts.Lease/2 {
		// Still ours with a wide margin: nobody else can have taken it, so
		// nobody moved the cursor since due read it.
		st = lk.cursor
	} else {
		var ok bool
		until := d.now().Add(d.opts.Lease)
		st, ok, err = d.claim(ctx, id, until)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("outbox: claim failed", "subscriber", id, "err", err)
			}
			return d.opts.PollInterval
		}
		if !ok {
			ls.until = time.Time{}
			return d.opts.PollInterval // disabled, or another instance holds it
		}
		ls.until = until
		ls.epoch = leaseEpochs.Add(1)
	}

	// After an error or a lost lease, claim again next round rather than
	// trust the lease (the claim succeeds at once if it is still ours).
	lost := func() time.Duration {
		ls.until = time.Time{}
		return d.opts.PollInterval
	}
	more := false
	if lk.redeliver {
		more, err = d.redeliveries(ctx, l, ls)
	}
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("outbox: redelivery failed", "subscriber", id, "err", err)
		}
		return lost()
	}
	if wait := time.UnixMilli(st.nextAttemptMS).Sub(d.now()); st.nextAttemptMS > 0 && wait > 0 {
		if more {
			return 0
		}
		return min(wait, d.opts.PollInterval)
	}
	evs, err := d.fetch(ctx, l, st.position)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("outbox: read events failed", "subscriber", id, "err", err)
		}
		return lost()
	}
	attempts := st.attempts
	for _, ev := range evs {
		if l.quitting() {
			return 0 // replaced or unregistered: the next event waits for the successor
		}
		ack, derr, ok := d.deliverLeased(ctx, l.sub, ev, ls)
		if !ok {
			return lost()
		}
		if ctx.Err() != nil {
			return 0 // shutting down: the event stays pending
		}
		if derr == nil {
			if ok, err := d.advance(ctx, id, ev.Seq, ls, ack); err != nil || !ok {
				if err != nil && ctx.Err() == nil {
					d.log.Warn("outbox: acknowledging failed", "subscriber", id, "event", ev.ID, "err", err)
				}
				return lost()
			}
			attempts = 0
			continue
		}
		attempts++
		if attempts >= d.opts.MaxAttempts || IsPermanent(derr) {
			d.log.Warn("outbox: delivery parked as failed", "subscriber", id, "event", ev.ID, "type", ev.Type, "attempts", attempts, "err", derr)
			if ok, err := d.park(ctx, id, ev, attempts, derr, ls); err != nil || !ok {
				return lost()
			}
			attempts = 0
			continue
		}
		delay := d.backoff(attempts)
		d.log.Info("outbox: delivery failed, will retry", "subscriber", id, "event", ev.ID, "type", ev.Type, "attempt", attempts, "retry_in", delay, "err", derr)
		if ok, err := d.retryLater(ctx, id, attempts, delay, derr); err != nil || !ok {
			// Unrecorded, the attempt would not count towards parking: log
			// why and claim afresh; the event is retried from the database's
			// count.
			if err != nil && ctx.Err() == nil {
				d.log.Warn("outbox: recording a failed attempt failed", "subscriber", id, "event", ev.ID, "err", err)
			}
			return lost()
		}
		return delay
	}
	if len(evs) == d.opts.BatchSize || more {
		return 0
	}
	return d.opts.PollInterval
}

// look is what due read of a subscriber in its one query: its cursor, and
// whether an admin asked for failures to be redelivered.
type look struct {
	cursor
	redeliver bool
}

// due reports whether the subscriber has work it may do now (read-only);
// if not, how long to wait before looking again. It is one query, run at
// every wake-up of every loop: the subscriber's row, whether redeliveries
// wait, the outbox's last seq and whether a wanted event lies past the
// cursor, all read in one snapshot (one statement), so a typed loop may
// skip to that last seq when none does.
func (d *Dispatcher) due(ctx context.Context, l *loop) (bool, time.Duration, look, error) {
	var (
		lk             look
		leaseUntil     int64
		disabled, more bool
		owner          string
		top            int64
	)
	wanted := forSubscriberOf("e", "s.id")
	// The wanted-event probe walks the seq index up from the cursor. Its
	// bounds are both tight: the cursor's position as this loop last read
	// it (positions only move forward), given as a value so that
	// PostgreSQL's estimate sees how few rows lie above it (with the
	// correlated s.position alone it expected a match early and scanned the
	// whole outbox), and s.position itself; with skipTo for the bound
	// SQLite ranged from seq 0 for loops that never skip. ORDER BY seq LIMIT
	// 1 keeps the probe on the index.
	args := []any{max(l.known, l.skipTo)}
	if len(l.types) > 0 {
		wanted += " AND e.type IN (?)"
		args = append(args, bun.In(l.types))
	}
	args = append(args, l.sub.ID())
	err := d.db.QueryRowContext(ctx, `SELECT s.position, s.attempts, s.next_attempt_ms, s.disabled, s.lease_owner, s.lease_until_ms,
		EXISTS (SELECT 1 FROM outbox_failures f WHERE f.subscriber_id = s.id AND f.state = 'redeliver'),
		(SELECT COALESCE(MAX(seq), 0) FROM events),
		(SELECT e.seq FROM events e WHERE e.seq > ? AND e.seq > s.position AND `+wanted+` ORDER BY e.seq LIMIT 1) IS NOT NULL
		FROM outbox_subscribers s WHERE s.id = ?`, args...).
		Scan(&lk.position, &lk.attempts, &lk.nextAttemptMS, &disabled, &owner, &leaseUntil, &lk.redeliver, &top, &more)
	if err != nil {
		return false, 0, lk, err
	}
	l.known = max(l.known, lk.position)
	now := d.nowMS()
	l.standby = owner != "" && owner != d.instance && leaseUntil > now
	switch {
	case disabled || l.standby:
		return false, d.opts.PollInterval, lk, nil
	case lk.redeliver:
		return true, 0, lk, nil
	case lk.nextAttemptMS > now:
		return false, min(time.Duration(lk.nextAttemptMS-now)*time.Millisecond, d.opts.PollInterval), lk, nil
	case more:
		return true, 0, lk, nil
	}
	if len(l.types) > 0 && top > l.skipTo {
		l.skipTo = top
	}
	return false, d.opts.PollInterval, lk, nil
}

// backoff is min(BackoffMax, BackoffMin·2^(attempts-1)).
func (d *Dispatcher) backoff(attempts int) time.Duration {
	b := d.opts.BackoffMin
	for i := 1; i < attempts && b < d.opts.BackoffMax; i++ {
		b *= 2
	}
	return min(b, d.opts.BackoffMax)
}

// leaseState is this round's view of when our lease expires.
type leaseState struct {
	until time.Time
	epoch uint64 // new at every claim: see LeaseEpoch
}

var leaseEpochs atomic.Uint64

type leaseEpochKey struct{}

// LeaseEpoch (below) identifies, inside Deliver or DeliverAck, the unbroken hold of
// the subscriber's lease the delivery runs under; 0 outside the dispatcher.
// Two deliveries with the same epoch ran under one hold, with every
// acknowledgement in between committed (a failed one ends the hold), so no
// other instance delivered to the subscriber in between: a subscriber may
// trust what it cached from the earlier delivery, including an Ack's writes.
// WithLeaseEpoch is the context a delivery under epoch gets (for tests and
// benchmarks of subscribers that call them directly).
func WithLeaseEpoch(ctx context.Context, epoch uint64) context.Context {
	return context.WithValue(ctx, leaseEpochKey{}, epoch)
}

// LeaseEpoch returns the delivery's lease epoch; see above.
func LeaseEpoch(ctx context.Context) uint64 {
	e, _ := ctx.Value(leaseEpochKey{}).(uint64)
	return e
}

// deliverLeased renews the lease when less than the maximum delivery time is
// left on it, then delivers with a deadline that ends before the lease does:
// the lease can never expire (and be taken by another instance) while a
// delivery is still running. ok=false means the lease was lost.
func (d *Dispatcher) deliverLeased(ctx context.Context, sub Subscriber, ev core.Event, ls *leaseState) (Ack, error, bool) {
	budget := d.opts.Lease * 2 / 3
	if ls.until.Sub(d.now()) < budget+d.opts.Lease/6 {
		until := d.now().Add(d.opts.Lease)
		res, err := d.db.ExecContext(ctx, `UPDATE outbox_subscribers SET lease_until_ms = ? WHERE id = ? AND lease_owner = ?`,
			until.UnixMilli(), sub.ID(), d.instance)
		if err != nil {
			return nil, err, false
		}
		if n, err := affected(res); err != nil || n != 1 {
			return nil, err, false
		}
		ls.until = until
	}
	ack, err := d.deliver(WithLeaseEpoch(ctx, ls.epoch), sub, ev, budget)
	return ack, err, true
}

// deliver calls the subscriber with a deadline, and turns a panic into an
// error so one bad subscriber cannot kill the loop.
func (d *Dispatcher) deliver(ctx context.Context, sub Subscriber, ev core.Event, budget time.Duration) (ack Ack, err error) {
	cctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			ack, err = nil, fmt.Errorf("subscriber panicked: %v", r)
		}
	}()
	if as, ok := sub.(AckSubscriber); ok {
		ack, err = as.DeliverAck(cctx, ev)
		if err != nil {
			ack = nil
		}
		return ack, err
	}
	return nil, sub.Deliver(cctx, ev)
}

type cursor struct {
	position      int64
	attempts      int
	nextAttemptMS int64
}

// claim takes the subscriber's lease until the given time if it is free,
// expired or already ours. The single conditional UPDATE is atomic on both
// databases, so two instances can never both succeed.
func (d *Dispatcher) claim(ctx context.Context, id string, until time.Time) (cursor, bool, error) {
	now := d.nowMS()
	res, err := d.db.ExecContext(ctx, `UPDATE outbox_subscribers SET lease_owner = ?, lease_until_ms = ?
		WHERE id = ? AND disabled = FALSE AND (lease_owner = '' OR lease_owner = ? OR lease_until_ms < ?)`,
		d.instance, until.UnixMilli(), id, d.instance, now)
	if err != nil {
		return cursor{}, false, err
	}
	if n, err := affected(res); err != nil || n != 1 {
		return cursor{}, false, err
	}
	c, err := d.cursor(ctx, id)
	return c, err == nil, err
}

// cursor reads the subscriber's position and retry state.
func (d *Dispatcher) cursor(ctx context.Context, id string) (cursor, error) {
	var c cursor
	err := d.db.QueryRowContext(ctx, `SELECT position, attempts, next_attempt_ms FROM outbox_subscribers WHERE id = ?`, id).
		Scan(&c.position, &c.attempts, &c.nextAttemptMS)
	return c, err
}

// advance acknowledges seq and renews the lease, running the subscriber's
// ack (if any) in the same transaction; false means the lease was lost
// (another instance took over after it expired) or the subscriber was
// disabled meanwhile, and the round must stop (the ack is rolled back).
func (d *Dispatcher) advance(ctx context.Context, id string, seq int64, ls *leaseState, ack Ack) (bool, error) {
	until := d.now().Add(d.opts.Lease)
	const q = `UPDATE outbox_subscribers
		SET position = ?, attempts = 0, next_attempt_ms = 0, last_error = '', lease_until_ms = ?, updated_at = ?
		WHERE id = ? AND lease_owner = ? AND position < ? AND disabled = FALSE`
	args := []any{seq, until.UnixMilli(), d.now().UTC(), id, d.instance, seq}
	var n int64
	if ack == nil {
		res, err := d.db.ExecContext(context.WithoutCancel(ctx), q, args...)
		if err != nil {
			return false, err
		}
		if n, err = affected(res); err != nil {
			return false, err
		}
	} else {
		err := d.db.WriteTx(context.WithoutCancel(ctx), func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return err
			}
			if n, err = affected(res); err != nil {
				return err
			}
			if n != 1 {
				return errLeaseLost
			}
			return ack(ctx, tx)
		}, store.NoEvents)
		if errors.Is(err, errLeaseLost) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	if n == 1 {
		ls.until = until
	}
	return n == 1, nil
}

// affected is the row count of a write that ran. Both drivers always know
// it; were one not to, guessing 0 after a write that happened would be wrong.
func affected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("outbox: rows affected: %w", err)
	}
	return n, nil
}

// errLeaseLost rolls back an acknowledgement whose cursor is no longer ours.
var errLeaseLost = errors.New("outbox: lease lost")

// retryLater records a failed attempt and when to try again; false if the
// lease was lost meanwhile (nothing recorded).
func (d *Dispatcher) retryLater(ctx context.Context, id string, attempts int, delay time.Duration, derr error) (bool, error) {
	res, err := d.db.ExecContext(context.WithoutCancel(ctx), `UPDATE outbox_subscribers
		SET attempts = ?, next_attempt_ms = ?, last_error = ?, updated_at = ?
		WHERE id = ? AND lease_owner = ?`,
		attempts, d.nowMS()+delay.Milliseconds(), truncate(derr.Error()), d.now().UTC(), id, d.instance)
	if err != nil {
		return false, fmt.Errorf("record failed attempt: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// park records the event as a failed delivery and moves the cursor past it,
// in one transaction. Not if the subscriber was disabled meanwhile (say by
// this very failure): the event then waits, like every other, for it to be
// enabled again.
func (d *Dispatcher) park(ctx context.Context, id string, ev core.Event, attempts int, derr error, ls *leaseState) (bool, error) {
	ok := false
	until := d.now().Add(d.opts.Lease)
	err := d.db.WriteTx(context.WithoutCancel(ctx), func(stx *store.Tx) error {
		ctx, tx := stx.Context(), stx.IDB()
		now := d.now().UTC()
		res, err := tx.ExecContext(ctx, `UPDATE outbox_subscribers
			SET position = ?, attempts = 0, next_attempt_ms = 0, last_error = ?, lease_until_ms = ?, updated_at = ?
			WHERE id = ? AND lease_owner = ? AND position < ? AND disabled = FALSE`,
			ev.Seq, truncate(derr.Error()), until.UnixMilli(), now, id, d.instance, ev.Seq)
		if err != nil {
			return err
		}
		if n, err := affected(res); err != nil || n != 1 {
			return err
		}
		ok = true
		ls.until = until
		_, err = tx.ExecContext(ctx, `INSERT INTO outbox_failures (subscriber_id, event_seq, event_id, event_type, attempts, last_error, state, failed_at)
			VALUES (?, ?, ?, ?, ?, ?, 'failed', ?) ON CONFLICT (subscriber_id, event_seq) DO UPDATE
			SET attempts = outbox_failures.attempts + EXCLUDED.attempts, last_error = EXCLUDED.last_error, state = 'failed', failed_at = EXCLUDED.failed_at`,
			id, ev.Seq, ev.ID, string(ev.Type), attempts, truncate(derr.Error()), now)
		return err
	}, store.NoEvents)
	return ok, err
}

func truncate(s string) string {
	const max = 2000
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

type eventRow struct {
	Seq       int64     `bun:"seq"`
	ID        string    `bun:"id"`
	Type      string    `bun:"type"`
	Payload   string    `bun:"payload"`
	CreatedAt time.Time `bun:"created_at"`
}

func (r eventRow) event() core.Event {
	return core.Event{Seq: r.Seq, ID: r.ID, Type: core.EventType(r.Type), CreatedAt: r.CreatedAt.UTC(), Payload: []byte(r.Payload)}
}

// fetch reads the next wanted events after pos.
func (d *Dispatcher) fetch(ctx context.Context, l *loop, pos int64) ([]core.Event, error) {
	var rows []eventRow
	q := d.db.NewSelect().TableExpr("events").Column("seq", "id", "type", "payload", "created_at").
		Where("seq > ?", max(pos, l.skipTo)).Where(forSubscriber, l.sub.ID()).OrderExpr("seq ASC").Limit(int64(d.opts.BatchSize))
	if len(l.types) > 0 {
		q = q.Where("type IN (?)", bun.In(l.types))
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make([]core.Event, len(rows))
	for i, r := range rows {
		out[i] = r.event()
	}
	return out, nil
}

// redeliveries delivers failures an admin asked to redeliver, once each: a
// success removes the failure, an error puts it back to failed. It reports
// whether more may be waiting.
// clearRedelivery acknowledges a redelivered event, with its ack.
func (d *Dispatcher) clearRedelivery(ctx context.Context, fid int64, ack Ack) error {
	if ack == nil {
		_, err := d.db.ExecContext(ctx, `DELETE FROM outbox_failures WHERE id = ?`, fid)
		return err
	}
	return d.db.WriteTx(ctx, func(stx *store.Tx) error {
		ctx, tx := stx.Context(), stx.IDB()
		res, err := tx.ExecContext(ctx, `DELETE FROM outbox_failures WHERE id = ? AND state = 'redeliver'`, fid)
		if err != nil {
			return err
		}
		if n, err := affected(res); err != nil || n != 1 {
			return err // nil: already cleared, the ack was applied then, or never is
		}
		return ack(ctx, tx)
	}, store.NoEvents)
}

func (d *Dispatcher) redeliveries(ctx context.Context, l *loop, ls *leaseState) (bool, error) {
	id := l.sub.ID()
	type redo struct {
		FID int64 `bun:"fid"`
		eventRow
	}
	var rows []redo
	err := d.db.NewRaw(`SELECT f.id AS fid, e.seq, e.id, e.type, e.payload, e.created_at
		FROM outbox_failures f JOIN events e ON e.seq = f.event_seq
		WHERE f.subscriber_id = ? AND f.state = 'redeliver' ORDER BY f.event_seq LIMIT ?`, id, d.opts.BatchSize).Scan(ctx, &rows)
	if err != nil {
		return false, err
	}
	for _, r := range rows {
		ack, derr, ok := d.deliverLeased(ctx, l.sub, r.event(), ls)
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if !ok {
			return false, errLeaseLost
		}
		bg := context.WithoutCancel(ctx)
		if derr == nil {
			if err := d.clearRedelivery(bg, r.FID, ack); err != nil {
				return false, err
			}
			continue
		}
		if _, err := d.db.ExecContext(bg, `UPDATE outbox_failures SET state = 'failed', attempts = attempts + 1, last_error = ?, failed_at = ? WHERE id = ?`,
			truncate(derr.Error()), d.now().UTC(), r.FID); err != nil {
			return false, err
		}
	}
	return len(rows) == d.opts.BatchSize, nil
}
