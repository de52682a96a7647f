package outbox

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core/store"
)

// SubscriberState is one subscriber's delivery state, as the admin API shows it.
type SubscriberState struct {
	ID             string     `json:"id"`
	EventTypes     []string   `json:"event_types"`
	Position       int64      `json:"position"`        // seq of the last event handled
	Pending        int64      `json:"pending"`         // wanted events after Position
	Failed         int64      `json:"failed"`          // parked deliveries
	Attempts       int        `json:"attempts"`        // failed attempts on the current event
	NextAttemptAt  *time.Time `json:"next_attempt_at"` // when the current event is retried
	LastError      string     `json:"last_error"`
	Disabled       bool       `json:"disabled"`
	DisabledReason string     `json:"disabled_reason"`
	LeasedBy       string     `json:"leased_by"` // instance delivering right now, if any
	Removed        bool       `json:"removed"`   // its plugin is gone: kept for its cursor, nothing pending
}

// FailedDelivery is an event parked for one subscriber after its attempts ran
// out. State is "failed", or "redeliver" while a redelivery is queued.
type FailedDelivery struct {
	ID           int64     `json:"id"`
	SubscriberID string    `json:"subscriber_id"`
	EventSeq     int64     `json:"event_seq"`
	EventID      string    `json:"event_id"`
	EventType    string    `json:"event_type"`
	Attempts     int       `json:"attempts"`
	LastError    string    `json:"last_error"`
	State        string    `json:"state"`
	FailedAt     time.Time `json:"failed_at"`
}

// Subscribers lists every subscriber known to the database (registered by
// any instance), ordered by id.
func (d *Dispatcher) Subscribers(ctx context.Context) ([]SubscriberState, error) {
	return subscribers(ctx, d.db, d.nowMS())
}

// Subscribers lists every subscriber known to db, without a dispatcher
// (metrics): a lease counts as held until its expiry by the real clock.
func Subscribers(ctx context.Context, db store.Querier) ([]SubscriberState, error) {
	return subscribers(ctx, db, time.Now().UnixMilli())
}

// subscribers lists every subscriber known to db at nowMS.
func subscribers(ctx context.Context, db store.Querier, nowMS int64) ([]SubscriberState, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, event_types, position, attempts, next_attempt_ms, last_error,
		disabled, disabled_reason, lease_owner, lease_until_ms, removed FROM outbox_subscribers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("outbox: list subscribers: %w", err)
	}
	var out []SubscriberState
	for rows.Next() {
		var s SubscriberState
		var types, owner string
		var next, leaseUntil int64
		if err := rows.Scan(&s.ID, &types, &s.Position, &s.Attempts, &next, &s.LastError, &s.Disabled, &s.DisabledReason, &owner, &leaseUntil, &s.Removed); err != nil {
			rows.Close()
			return nil, err
		}
		if types != "" {
			s.EventTypes = strings.Split(types, ",")
		} else {
			s.EventTypes = []string{}
		}
		if next > 0 && s.Attempts > 0 {
			t := time.UnixMilli(next).UTC()
			s.NextAttemptAt = &t
		}
		if owner != "" && leaseUntil > nowMS {
			s.LeasedBy = owner
		}
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		s := &out[i]
		if s.Removed {
			continue // nothing will deliver its events: they are not pending
		}
		q := db.NewSelect().TableExpr("events").Where("seq > ?", s.Position).Where(forSubscriber, s.ID)
		if len(s.EventTypes) > 0 {
			q = q.Where("type IN (?)", bun.In(s.EventTypes))
		}
		n, err := q.Count(ctx)
		if err != nil {
			return nil, err
		}
		s.Pending = int64(n)
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox_failures WHERE subscriber_id = ?`, s.ID).Scan(&s.Failed); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Subscriber returns one subscriber's state, or ErrNotFound.
func (d *Dispatcher) Subscriber(ctx context.Context, id string) (SubscriberState, error) {
	all, err := d.Subscribers(ctx)
	if err != nil {
		return SubscriberState{}, err
	}
	for _, s := range all {
		if s.ID == id {
			return s, nil
		}
	}
	return SubscriberState{}, ErrNotFound
}

// Failed lists parked deliveries, oldest first; subscriberID "" means all.
func (d *Dispatcher) Failed(ctx context.Context, subscriberID string) ([]FailedDelivery, error) {
	q := `SELECT id, subscriber_id, event_seq, event_id, event_type, attempts, last_error, state, failed_at FROM outbox_failures`
	args := []any{}
	if subscriberID != "" {
		q += ` WHERE subscriber_id = ?`
		args = append(args, subscriberID)
	}
	rows, err := d.db.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("outbox: list failures: %w", err)
	}
	defer rows.Close()
	out := []FailedDelivery{}
	for rows.Next() {
		var f FailedDelivery
		if err := rows.Scan(&f.ID, &f.SubscriberID, &f.EventSeq, &f.EventID, &f.EventType, &f.Attempts, &f.LastError, &f.State, &f.FailedAt); err != nil {
			return nil, err
		}
		f.FailedAt = f.FailedAt.UTC()
		out = append(out, f)
	}
	return out, rows.Err()
}

// Redeliver queues one parked delivery for another attempt (ErrNotFound if no
// failure has that id) and wakes the loops.
func (d *Dispatcher) Redeliver(ctx context.Context, failureID int64) error {
	res, err := d.db.ExecContext(ctx, `UPDATE outbox_failures SET state = 'redeliver' WHERE id = ?`, failureID)
	if err != nil {
		return fmt.Errorf("outbox: redeliver: %w", err)
	}
	if n, err := affected(res); err != nil || n == 0 {
		return cmp.Or(err, ErrNotFound)
	}
	d.Notify()
	return nil
}

// RedeliverAll queues every parked delivery of subscriberID ("" = of every
// subscriber) and returns how many were queued.
func (d *Dispatcher) RedeliverAll(ctx context.Context, subscriberID string) (int, error) {
	var res sql.Result
	var err error
	if subscriberID == "" {
		res, err = d.db.ExecContext(ctx, `UPDATE outbox_failures SET state = 'redeliver' WHERE state = 'failed'`)
	} else {
		res, err = d.db.ExecContext(ctx, `UPDATE outbox_failures SET state = 'redeliver' WHERE state = 'failed' AND subscriber_id = ?`, subscriberID)
	}
	if err != nil {
		return 0, fmt.Errorf("outbox: redeliver all: %w", err)
	}
	n, err := affected(res)
	d.Notify()
	return int(n), err
}

// SetDisabled pauses (or resumes) delivery to a subscriber on every instance.
// A paused subscriber's events stay pending; nothing is skipped.
func (d *Dispatcher) SetDisabled(ctx context.Context, id string, disabled bool, reason string) error {
	if !disabled {
		reason = ""
	}
	res, err := d.db.ExecContext(ctx, `UPDATE outbox_subscribers SET disabled = ?, disabled_reason = ?, updated_at = ? WHERE id = ?`,
		disabled, truncate(reason), d.now().UTC(), id)
	if err != nil {
		return fmt.Errorf("outbox: disable %s: %w", id, err)
	}
	if n, err := affected(res); err != nil || n == 0 {
		return cmp.Or(err, ErrNotFound)
	}
	if !disabled {
		d.Notify()
	}
	return nil
}

// MarkRemoved records that subscriber id's plugin is gone: its cursor stays
// (EnsureCursor, when it comes back, clears the mark) and its events no
// longer count as pending. ErrNotFound for an unknown id.
func (d *Dispatcher) MarkRemoved(ctx context.Context, id string) error {
	res, err := d.db.ExecContext(ctx, `UPDATE outbox_subscribers SET removed = TRUE, updated_at = ? WHERE id = ?`, d.now().UTC(), id)
	if err != nil {
		return fmt.Errorf("outbox: mark %s removed: %w", id, err)
	}
	if n, err := affected(res); err != nil || n == 0 {
		return cmp.Or(err, ErrNotFound)
	}
	return nil
}

// Drop deletes a removed subscriber's cursor and parked deliveries for good,
// in one transaction. ErrNotFound for an unknown id; ErrNotRemoved when it
// is not marked removed (a plugin still installed somewhere).
func (d *Dispatcher) Drop(ctx context.Context, id string) error {
	return d.db.WriteTx(ctx, func(stx *store.Tx) error {
		ctx, tx := stx.Context(), stx.IDB()
		var removed bool
		if err := tx.QueryRowContext(ctx, `SELECT removed FROM outbox_subscribers WHERE id = ?`, id).Scan(&removed); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("outbox: drop %s: %w", id, err)
		}
		if !removed {
			return ErrNotRemoved
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_failures WHERE subscriber_id = ?`, id); err != nil {
			return fmt.Errorf("outbox: drop %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_subscribers WHERE id = ?`, id); err != nil {
			return fmt.Errorf("outbox: drop %s: %w", id, err)
		}
		return nil
	}, store.NoEvents)
}

// ErrNotRemoved is returned by Drop for a subscriber that is not removed.
var ErrNotRemoved = errors.New("outbox: subscriber is not removed")

// SubscriberIDs maps every subscriber id to whether it is marked removed: a
// cheap listing (no pending counts).
func (d *Dispatcher) SubscriberIDs(ctx context.Context) (map[string]bool, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, removed FROM outbox_subscribers`)
	if err != nil {
		return nil, fmt.Errorf("outbox: list subscribers: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		var removed bool
		if err := rows.Scan(&id, &removed); err != nil {
			return nil, err
		}
		out[id] = removed
	}
	return out, rows.Err()
}
