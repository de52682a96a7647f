package enginestore

import (
	"fmt"
	"strings"

	"github.com/tari-payment/tps/core"
)

// AuditCols is how many values one audit row takes: entity, entity_key,
// operation, changed_at, snapshot.
const AuditCols = 5

// AppendEvents writes the transaction's queued events to the outbox and its
// audit rows (AuditCols values each) to audit_log, and fills in the events'
// seqs. Several rows go in each statement: on SQLite through the
// prepared-statement cache (store.AppendEvent prepares its INSERT anew every
// time), on PostgreSQL in one round trip instead of two per event
// (store.AppendEvent takes the outbox lock each time, which store.DB.WriteTx
// already holds), the first audit rows riding along with the first events.
// The event rows are the same as store.AppendEvent writes.
func (t *Tx) AppendEvents(events []core.Event, audit []any) error {
	w := &eventWriter{Tx: t, events: events, audit: audit}
	if t.w == nil {
		if err := w.flushAuditWithEvents(); err != nil {
			return err
		}
	}
	if err := w.flushEvents(); err != nil {
		return err
	}
	return w.flushAudit()
}

// eventWriter is what AppendEvents has still to write.
type eventWriter struct {
	*Tx
	events []core.Event
	// flushed counts the events already written.
	flushed int
	audit   []any
}

// eventsInsert is the INSERT of evs with its arguments appended to args.
func eventsInsert(evs []core.Event, args []any) (string, []any) {
	q := "INSERT INTO events (id, type, payload, created_at) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", len(evs)), ", ")
	for _, ev := range evs {
		args = append(args, ev.ID, string(ev.Type), string(ev.Payload), ev.CreatedAt)
	}
	return q, args
}

// auditInsert is the INSERT of the first (at most eight) audit rows, and
// how many values it takes.
func (t *eventWriter) auditInsert() (string, int) {
	const cols = AuditCols
	n := min(len(t.audit)/cols, 8)
	return "INSERT INTO audit_log (entity, entity_key, operation, changed_at, snapshot) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", n), ", "), n * cols
}

// flushAuditWithEvents (PostgreSQL) writes the first audit rows and the
// first events in one statement, the audit INSERT as a data-modifying CTE
// of the events INSERT: one round trip instead of two for a typical
// operation. What remains (long operations) flushEvents and flushAudit
// write.
func (t *eventWriter) flushAuditWithEvents() error {
	pending := t.events[t.flushed:]
	if len(pending) == 0 || len(t.audit) == 0 {
		return nil
	}
	aq, na := t.auditInsert()
	k := min(len(pending), 8)
	eq, args := eventsInsert(pending[:k], append(make([]any, 0, na+4*k), t.audit[:na]...))
	if err := t.insertEventsReturning("WITH audit AS ("+aq+") "+eq, args, pending[:k]); err != nil {
		return err
	}
	t.audit = t.audit[na:]
	t.flushed += k
	return nil
}

// flushEvents writes the events queued by emit, up to eight per statement,
// and fills in their seqs.
func (t *eventWriter) flushEvents() error {
	pending := t.events[t.flushed:]
	for len(pending) > 0 {
		n := min(len(pending), 8)
		q, args := eventsInsert(pending[:n], make([]any, 0, 4*n))
		if t.w == nil {
			if err := t.insertEventsReturning(q, args, pending[:n]); err != nil {
				return err
			}
			pending = pending[n:]
			t.flushed += n
			continue
		}
		res, err := t.ExecResult(q, args...)
		if err != nil {
			return fmt.Errorf("append %s event: %w", pending[0].Type, err)
		}
		// The rows take consecutive seqs in VALUES order (this transaction is
		// the only writer), the last one reported by LastInsertId. SQLite
		// builds a temporary table for RETURNING: reading the id back is
		// several times cheaper.
		last, err := res.LastInsertId()
		if err != nil {
			return err
		}
		for i := range n {
			pending[i].Seq = last - int64(n-1-i)
		}
		pending = pending[n:]
		t.flushed += n
	}
	return nil
}

// insertEventsReturning runs a multi-row events INSERT on PostgreSQL and
// fills in the seqs, matched by event id (the order of RETURNING rows is not
// promised).
func (t *eventWriter) insertEventsReturning(q string, args []any, evs []core.Event) error {
	rows, err := t.Query(q+" RETURNING id, seq", args...)
	if err != nil {
		return fmt.Errorf("append %s event: %w", evs[0].Type, err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return err
		}
		for i := range evs {
			if evs[i].ID == id {
				evs[i].Seq = seq
				got++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if got != len(evs) {
		return fmt.Errorf("append events: %d of %d rows returned", got, len(evs))
	}
	return rows.Close()
}

// flushAudit writes the transaction's audit rows, up to eight per statement
// (one round trip for a typical operation; a bounded set of statement shapes
// for the prepared-statement cache however many orders expire at once).
func (t *eventWriter) flushAudit() error {
	for len(t.audit) > 0 {
		q, n := t.auditInsert()
		if err := t.Exec(q, t.audit[:n]...); err != nil {
			return err
		}
		t.audit = t.audit[n:]
	}
	t.audit = nil
	return nil
}
