package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
)

// outboxLockKey serialises event-writing transactions on PostgreSQL so that
// event sequence numbers become visible in the order they were assigned;
// without it a reader could pass over a lower seq that commits later.
const outboxLockKey = 7301

// eventRow is the outbox table.
type eventRow struct {
	bun.BaseModel `bun:"table:events"`

	Seq       int64     `bun:"seq,pk,autoincrement"`
	ID        string    `bun:"id,notnull"`
	Type      string    `bun:"type,notnull"`
	Payload   string    `bun:"payload,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// NewEventID returns a random 128-bit identifier in UUID text form.
func NewEventID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// AppendEvent writes one event to the outbox inside tx. It becomes visible to
// deliverers only when tx commits, so rolled-back work emits nothing. (On
// SQLite the engine batches its events through its own prepared statements
// instead; the rows are the same.)
func AppendEvent(ctx context.Context, tx bun.IDB, dialect Dialect, typ core.EventType, payload any) (core.Event, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return core.Event{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	if dialect == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", outboxLockKey); err != nil {
			return core.Event{}, fmt.Errorf("lock outbox: %w", err)
		}
	}
	row := eventRow{ID: NewEventID(), Type: string(typ), Payload: string(data), CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if _, err := tx.NewInsert().Model(&row).Returning("seq").Exec(ctx); err != nil {
		return core.Event{}, fmt.Errorf("append %s event: %w", typ, err)
	}
	return core.Event{Seq: row.Seq, ID: row.ID, Type: typ, CreatedAt: row.CreatedAt, Payload: data}, nil
}

// EventsAfter returns up to limit committed events with seq > after, oldest first.
func EventsAfter(ctx context.Context, db Querier, after int64, limit int) ([]core.Event, error) {
	var rows []eventRow
	if err := db.NewSelect().Model(&rows).Where("seq > ?", after).OrderExpr("seq ASC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	out := make([]core.Event, len(rows))
	for i, r := range rows {
		out[i] = core.Event{Seq: r.Seq, ID: r.ID, Type: core.EventType(r.Type), CreatedAt: r.CreatedAt.UTC(), Payload: json.RawMessage(r.Payload)}
	}
	return out, nil
}

// LastEventSeq returns the highest committed event seq, or 0.
func LastEventSeq(ctx context.Context, db Querier) (int64, error) {
	var seq int64
	err := db.NewSelect().TableExpr("events").ColumnExpr("COALESCE(MAX(seq), 0)").Scan(ctx, &seq)
	return seq, err
}
