package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
)

// forSubscriber keeps a subscriber's reads to the events for everyone
// (subscriber NULL) and those addressed to it (its Ticks).
const forSubscriber = "(subscriber IS NULL OR subscriber = ?)"

// forSubscriberOf is forSubscriber for the events row alias ev and the
// subscriber id expression id.
func forSubscriberOf(ev, id string) string {
	return "(" + ev + ".subscriber IS NULL OR " + ev + ".subscriber = " + id + ")"
}

// ScheduledSubscriber is a Subscriber that also receives a core.EventTick
// every Period (its EventTypes must include core.EventTick, or be empty).
// A Tick is an ordinary outbox event addressed to the subscriber alone, so it
// is delivered, retried, parked and redelivered like any other.
type ScheduledSubscriber interface {
	Subscriber
	// Period is the time between Ticks; 0 means none. Periods are aligned
	// to the Unix epoch (PeriodStart), so every instance agrees on them.
	Period() time.Duration
}

// PeriodStart is the start of the period of length every that holds t: the
// largest multiple of every since the Unix epoch not after t.
func PeriodStart(t time.Time, every time.Duration) time.Time {
	ms, p := t.UnixMilli(), every.Milliseconds()
	if p <= 0 {
		return t.UTC()
	}
	return time.UnixMilli(ms - ms%p).UTC()
}

// EmitTick appends subscriber id's Tick for the period starting at start,
// unless one was already appended for it (by this instance or any other on
// the same database) or the subscriber is disabled or removed; it reports
// whether it appended one. The period's row in outbox_ticks and the event
// commit in one transaction, and the row's primary key lets only one of
// several concurrent transactions insert it, so there is exactly one Tick
// per subscriber and period.
func (d *Dispatcher) EmitTick(ctx context.Context, id string, start time.Time, every time.Duration) (bool, error) {
	appended := false
	// Parallel: the one decision, whether this period's row is new, rests on
	// the INSERT's primary key, which other writers cannot change under it.
	err := d.db.WriteTx(ctx, func(stx *store.Tx) error {
		ctx, tx := stx.Context(), stx.IDB()
		appended = false
		startMS := start.UnixMilli()
		res, err := tx.ExecContext(ctx, `INSERT INTO outbox_ticks (subscriber_id, period_start_ms)
			SELECT ?, ? WHERE EXISTS (SELECT 1 FROM outbox_subscribers WHERE id = ? AND disabled = FALSE AND removed = FALSE)
			ON CONFLICT (subscriber_id, period_start_ms) DO NOTHING`, id, startMS, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		// Older periods can no longer be emitted (an instance whose clock is
		// a few periods behind is the only one that would try): keep a
		// margin, drop the rest.
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_ticks WHERE subscriber_id = ? AND period_start_ms < ?`,
			id, startMS-max(16*every.Milliseconds(), int64(time.Hour/time.Millisecond))); err != nil {
			return err
		}
		payload := core.TickEvent{PeriodStart: start.UTC(), PeriodSeconds: int64(every / time.Second)}
		if _, err := store.AppendEventTo(ctx, tx, d.db.Kind, d.now(), id, core.EventTick, payload); err != nil {
			return err
		}
		appended = true
		return nil
	}, store.Parallel)
	if err != nil {
		return false, fmt.Errorf("outbox: tick for %s: %w", id, err)
	}
	return appended, nil
}

// schedule appends a scheduled subscriber's Tick at the start of every
// period, while its loop runs. Every instance running the subscriber does
// this; EmitTick makes one of them win each period. The current period's Tick
// is emitted at once (a restart within a period emits nothing new); periods
// that passed while no instance ran are not made up for.
func (d *Dispatcher) schedule(ctx context.Context, l *loop, every time.Duration) {
	id := l.sub.ID()
	for {
		start := PeriodStart(d.now(), every)
		wait := time.Until(start.Add(every))
		appended, err := d.EmitTick(ctx, id, start, every)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			d.log.Warn("outbox: appending a scheduled tick failed; trying again", "subscriber", id, "err", err)
			wait = min(wait, d.opts.PollInterval)
		case appended:
			select {
			case l.wake <- struct{}{}:
			default:
			}
		}
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-l.quit:
			t.Stop()
			return
		case <-t.C:
		}
	}
}
