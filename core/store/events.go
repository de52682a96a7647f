package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
)

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

// AppendEvent writes one event, created at now, inside tx (see
// AppendEvents) and returns it; its Seq is known only on SQLite.
func AppendEvent(ctx context.Context, tx bun.IDB, dialect Dialect, now time.Time, typ core.EventType, payload any) (core.Event, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return core.Event{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	evs := []core.Event{{ID: NewEventID(), Type: typ, CreatedAt: now.UTC().Truncate(time.Microsecond), Payload: data}}
	if err := AppendEvents(ctx, tx, dialect, evs); err != nil {
		return core.Event{}, err
	}
	return evs[0], nil
}

// EventExecer runs one statement of the transaction that appends events:
// a bun.Tx, or the engine's own statement path. On PostgreSQL the result is
// not read, so an executor that defers the statement (sending it with the
// transaction's next one) may return a nil result.
type EventExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// appendBatch bounds the rows of one events INSERT, so the statement shapes
// (prepared once each on SQLite) stay few however many events one
// transaction writes.
const appendBatch = 8

// AppendEvents is the one way events are written: evs (ID, Type, Payload and
// CreatedAt set by the caller, whose clock it is) join the outbox inside the
// caller's transaction and become readable only after it commits, so
// rolled-back work emits nothing. Within one transaction they keep the order
// of evs.
//
// SQLite has one writer at a time, so the rows go straight into events and
// their Seqs are filled in (consecutive per statement, read from
// LastInsertId: RETURNING would make SQLite build a temporary table).
// PostgreSQL writers run in parallel, so the rows are staged in
// events_pending and take their seqs when DB.SequenceEvents moves them after
// the commit; Seq stays 0 here.
func AppendEvents(ctx context.Context, x EventExecer, dialect Dialect, evs []core.Event) error {
	table := "events"
	if dialect == Postgres {
		table = "events_pending"
	}
	for len(evs) > 0 {
		n := min(len(evs), appendBatch)
		q := "INSERT INTO " + table + " (id, type, payload, created_at, subscriber) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", n), ", ")
		args := make([]any, 0, 5*n)
		for _, ev := range evs[:n] {
			var subscriber any // NULL: every subscriber
			if ev.Subscriber != "" {
				subscriber = ev.Subscriber
			}
			args = append(args, ev.ID, string(ev.Type), string(ev.Payload), ev.CreatedAt, subscriber)
		}
		res, err := x.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("append %s event: %w", evs[0].Type, err)
		}
		if dialect != Postgres {
			last, err := res.LastInsertId()
			if err != nil {
				return fmt.Errorf("append %s event: %w", evs[0].Type, err)
			}
			for i := range n {
				evs[i].Seq = last - int64(n-1-i)
			}
		}
		evs = evs[n:]
	}
	return nil
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
