// Package engine is the payment engine: orders, payments, accounts and the
// rules that match them (engine.md §2–§4, §6 with decisions D2–D15, D25).
//
// Every state change is one call to store.DB.WriteTx: the operation re-reads
// the rows it acts on inside the transaction, writes its changes, their audit
// history and its outbox events, and commits; nothing is emitted for work that
// rolled back, and nothing slow runs while the transaction is open. The engine
// knows nothing of HTTP or plugins: callers map the typed errors of package
// core to responses, and deliverers read the outbox.
package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
)

// Order-id fields for plain (unsigned) payment memos (TPG_SHOPIFY_ORDER_ID_FIELD).
const (
	OrderIDFieldID   = "id"
	OrderIDFieldName = "name"
)

// Config holds the settings that reach the engine. Start from DefaultConfig:
// the zero value is NOT the default (StrictMode and AutoClaim default to true).
type Config struct {
	// StrictMode: orders are identified by order_id only; when false, alt_id
	// (the Shopify name) matches too (D5). TPG_STRICT_MODE, default true.
	StrictMode bool
	// AutoClaim: a new Unclaimed order is claimed for the best-matching funded
	// account of its customer (engine.md §2.4.1 step 5). Default true.
	AutoClaim bool
	// DisableMemoSignatureCheck: plain payment memos ("order 1000") name an
	// order. TPG_DISABLE_MEMO_SIGNATURE_CHECK, default false.
	DisableMemoSignatureCheck bool
	// OrderIDField is "id" (default) or "name" ("#" is prefixed to digits
	// found in plain memos).
	OrderIDField string
	// UnclaimedTimeout and UnpaidTimeout: how long an order may stay Unclaimed
	// or New before expiry, measured from when it entered that status (D14).
	UnclaimedTimeout time.Duration
	UnpaidTimeout    time.Duration
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// AfterCommit, if non-nil, is called after every committed write
	// transaction that appended at least one event (never inside it).
	AfterCommit func()
}

// DefaultConfig returns the reference defaults: strict, auto-claim, memo
// signatures required, order ids from "id", 2 h unclaimed and 48 h unpaid.
func DefaultConfig() Config {
	return Config{
		StrictMode:       true,
		AutoClaim:        true,
		OrderIDField:     OrderIDFieldID,
		UnclaimedTimeout: 2 * time.Hour,
		UnpaidTimeout:    48 * time.Hour,
	}
}

// Engine runs the payment operations on one database. It is safe for
// concurrent use.
type Engine struct {
	db  *store.DB
	cfg Config
	// stmts caches the pool's prepared statements for reads outside
	// transactions, by query text (SQLite only; writes have store.Writer's).
	stmts sync.Map
}

// New returns an engine over a migrated database.
func New(db *store.DB, cfg Config) *Engine {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OrderIDField == "" {
		cfg.OrderIDField = OrderIDFieldID
	}
	if cfg.UnclaimedTimeout <= 0 {
		cfg.UnclaimedTimeout = 2 * time.Hour
	}
	if cfg.UnpaidTimeout <= 0 {
		cfg.UnpaidTimeout = 48 * time.Hour
	}
	return &Engine{db: db, cfg: cfg}
}

// DB returns the engine's database.
func (e *Engine) DB() *store.DB { return e.db }

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// now is the engine clock, UTC at microsecond precision (what both databases keep).
func (e *Engine) now() time.Time { return e.cfg.Now().UTC().Truncate(time.Microsecond) }

// txn is the state of one write transaction.
type txn struct {
	e   *Engine
	ctx context.Context
	// w runs the statements on SQLite, tx on PostgreSQL.
	w      *store.Writer
	tx     bun.Tx
	now    time.Time
	events []core.Event
	// flushed counts the events already written (SQLite queues them).
	flushed int
	audit   []any // pending audit_log rows, five values each, written at the end
	// balanceRows holds balance rows read in this transaction (SQLite), see
	// sawBalance.
	balanceRows map[string]*accountBalance
	// deferred (PostgreSQL) holds formatted statements not yet sent, see
	// exec; deferredErr is the failure of sending them from idb.
	deferred    []byte
	deferredErr error
	// prefix (PostgreSQL) is the store's SQL, first in deferred until sent.
	prefix *store.TxPrefix
	// lastOrder and lastPayment are the latest audit snapshots, which the
	// event about the same change usually repeats word for word (see encode).
	lastOrder   snapshot[core.Order]
	lastPayment snapshot[core.Payment]
}

// snapshot is an entity as the audit log recorded it, and that record's JSON.
type snapshot[T comparable] struct {
	v    T
	json []byte
}

// idb is the transaction, for queries built with bun.
func (t *txn) idb() bun.IDB {
	if t.w != nil {
		return t.w.IDB()
	}
	// Queries built with bun bypass exec and query: what exec deferred must
	// run first. A failure aborts the transaction, so the caller's own query
	// fails too; write returns this error.
	if err := t.flushDeferred(); err != nil && t.deferredErr == nil {
		t.deferredErr = err
	}
	return t.tx
}

// encode is json.Marshal(payload), reusing the audit snapshot when an order
// or payment event carries the entity exactly as it was just logged: the
// snapshot is the same JSON, so only the wrapper is new. Half the JSON
// encoding of a confirmation.
func (t *txn) encode(payload any) ([]byte, error) {
	wrap := func(field string, inner []byte) []byte {
		out := make([]byte, 0, len(field)+len(inner)+5)
		out = append(out, `{"`...)
		out = append(out, field...)
		out = append(out, `":`...)
		out = append(out, inner...)
		return append(out, '}')
	}
	switch p := payload.(type) {
	case core.OrderEvent:
		if t.lastOrder.json != nil && p.Order == t.lastOrder.v {
			return wrap("order", t.lastOrder.json), nil
		}
	case core.PaymentEvent:
		if t.lastPayment.json != nil && p.Payment == t.lastPayment.v {
			return wrap("payment", t.lastPayment.json), nil
		}
	}
	return json.Marshal(payload)
}

// write runs fn as one write transaction and calls AfterCommit if it
// committed events.
func (e *Engine) write(ctx context.Context, fn func(t *txn) error) ([]core.Event, error) {
	var events []core.Event
	run := func(t *txn) error {
		err := fn(t)
		if err == nil && t.w == nil {
			err = t.flushAuditWithEvents()
		}
		if err == nil {
			err = t.flushEvents()
		}
		if err == nil {
			err = t.flushAudit()
		}
		if err == nil {
			err = t.flushDeferred()
		}
		if t.deferredErr != nil {
			err = t.deferredErr
		}
		events = t.events
		return err
	}
	err := e.db.WriteTx(ctx, func(tx *store.Tx) error {
		if w := tx.Writer(); w != nil {
			return run(&txn{e: e, ctx: tx.Context(), w: w, now: e.now()})
		}
		// The store's lock or savepoint travels with the first statement.
		btx, p := tx.Postgres()
		t := &txn{e: e, ctx: tx.Context(), tx: btx, now: e.now(), prefix: p}
		if p != nil {
			t.deferred = append(append(t.deferred, p.SQL...), ";\n"...)
		}
		return run(t)
	})
	if err != nil {
		return nil, err
	}
	if len(events) > 0 && e.cfg.AfterCommit != nil {
		e.cfg.AfterCommit()
	}
	return events, nil
}

// emit appends an event to the outbox in this transaction. The events are
// queued and written by flushEvents at the end, several per statement: on
// SQLite through the prepared-statement cache (store.AppendEvent prepares its
// INSERT anew every time), on PostgreSQL in one round trip instead of two per
// event (store.AppendEvent takes the outbox lock each time, which
// store.DB.WriteTx already holds). The rows are the same as
// store.AppendEvent writes.
func (t *txn) emit(typ core.EventType, payload any) error {
	data, err := t.encode(payload)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	t.events = append(t.events, core.Event{ID: store.NewEventID(), Type: typ,
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond), Payload: data})
	return nil
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
func (t *txn) auditInsert() (string, int) {
	const cols = 5
	n := min(len(t.audit)/cols, 8)
	return "INSERT INTO audit_log (entity, entity_key, operation, changed_at, snapshot) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", n), ", "), n * cols
}

// flushAuditWithEvents (PostgreSQL) writes the first audit rows and the
// first events in one statement, the audit INSERT as a data-modifying CTE
// of the events INSERT: one round trip instead of two for a typical
// operation. What remains (long operations) flushEvents and flushAudit
// write.
func (t *txn) flushAuditWithEvents() error {
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
func (t *txn) flushEvents() error {
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
		res, err := t.execResult(q, args...)
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
func (t *txn) insertEventsReturning(q string, args []any, evs []core.Event) error {
	rows, err := t.query(q+" RETURNING id, seq", args...)
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

// logOrder writes the audit row for an order as it now stands.
func (t *txn) logOrder(op string, o *core.Order) error {
	snap, err := json.Marshal(o)
	if err != nil {
		return err
	}
	t.lastOrder = snapshot[core.Order]{*o, snap}
	t.audit = append(t.audit, "order", strconv.FormatInt(o.ID, 10), op, t.now, string(snap))
	return nil
}

// logPayment writes the audit row for a payment as it now stands.
func (t *txn) logPayment(op string, p *core.Payment) error {
	snap, err := json.Marshal(p)
	if err != nil {
		return err
	}
	t.lastPayment = snapshot[core.Payment]{*p, snap}
	t.audit = append(t.audit, "payment", p.TxID, op, t.now, string(snap))
	return nil
}

// flushAudit writes the transaction's audit rows, up to eight per statement
// (one round trip for a typical operation; a bounded set of statement shapes
// for the prepared-statement cache however many orders expire at once).
func (t *txn) flushAudit() error {
	for len(t.audit) > 0 {
		q, n := t.auditInsert()
		if err := t.exec(q, t.audit[:n]...); err != nil {
			return err
		}
		t.audit = t.audit[n:]
	}
	t.audit = nil
	return nil
}
