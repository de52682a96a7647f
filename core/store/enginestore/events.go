package enginestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
)

// AuditCols is how many values one audit row takes: entity, entity_key,
// operation, changed_at, snapshot.
const AuditCols = 5

// AppendEvents appends the transaction's queued events through the store's
// one append path (store.AppendEvents: on SQLite straight into the outbox,
// filling in their seqs; on PostgreSQL staged in events_pending, the INSERT
// deferred to travel with the next statement) and writes its audit rows
// (AuditCols values each) to audit_log. A transaction without events tells
// the store so, and its commit runs no sequencer.
func (t *Tx) AppendEvents(events []core.Event, audit []any) error {
	if len(events) == 0 {
		t.stx.NoEventsAppended()
	} else if err := store.AppendEvents(t.ctx, eventExecer{t}, t.db.Kind, events); err != nil {
		return err
	}
	return t.flushAudit(audit)
}

// eventExecer runs store.AppendEvents' statements on the transaction's
// statement path: prepared on SQLite, deferred on PostgreSQL (whose result
// AppendEvents does not read).
type eventExecer struct{ t *Tx }

func (x eventExecer) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	if x.t.w == nil {
		return nil, x.t.Exec(query, args...)
	}
	return x.t.ExecResult(query, args...)
}

// auditInsert is the INSERT of the first (at most eight) audit rows, and
// how many values it takes.
func auditInsert(audit []any) (string, int) {
	const cols = AuditCols
	n := min(len(audit)/cols, 8)
	return "INSERT INTO audit_log (entity, entity_key, operation, changed_at, snapshot) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", n), ", "), n * cols
}

// The audit and event INSERTs of one to eight rows (the shapes
// auditInsert and store.AppendEvents build on PostgreSQL), prepared.
func init() {
	for n := 1; n <= 8; n++ {
		rows := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", n), ", ")
		pgStatement(fmt.Sprintf("insert_audit_%d", n), "INSERT INTO audit_log (entity, entity_key, operation, changed_at, snapshot) VALUES "+rows)
		pgStatement(fmt.Sprintf("insert_events_%d", n), "INSERT INTO events_pending (id, type, payload, created_at, subscriber) VALUES "+rows)
	}
}

// flushAudit writes the transaction's audit rows, up to eight per statement
// (one round trip for a typical operation; a bounded set of statement shapes
// for the prepared-statement cache however many orders expire at once).
func (t *Tx) flushAudit(audit []any) error {
	for len(audit) > 0 {
		q, n := auditInsert(audit)
		if err := t.Exec(q, audit[:n]...); err != nil {
			return err
		}
		audit = audit[n:]
	}
	return nil
}
