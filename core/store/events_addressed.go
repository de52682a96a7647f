package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
)

// AppendEventTo writes one event addressed to a single subscriber (column
// events.subscriber; NULL, as AppendEvent writes, means every subscriber).
// Other subscribers' reads skip it. Like AppendEvent, it commits with tx and
// on PostgreSQL takes the outbox lock first, so seqs still commit in order.
func AppendEventTo(ctx context.Context, tx bun.IDB, dialect Dialect, subscriber string, typ core.EventType, payload any) (core.Event, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return core.Event{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	if dialect == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", outboxLockKey); err != nil {
			return core.Event{}, fmt.Errorf("lock outbox: %w", err)
		}
	}
	ev := core.Event{ID: NewEventID(), Type: typ, CreatedAt: time.Now().UTC().Truncate(time.Microsecond), Payload: data}
	err = tx.QueryRowContext(ctx, `INSERT INTO events (id, type, payload, created_at, subscriber) VALUES (?, ?, ?, ?, ?) RETURNING seq`,
		ev.ID, string(typ), string(data), ev.CreatedAt, subscriber).Scan(&ev.Seq)
	if err != nil {
		return core.Event{}, fmt.Errorf("append %s event: %w", typ, err)
	}
	return ev, nil
}
