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
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/enginestore"
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
	// reads runs the reads outside transactions.
	reads storeReader
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
	return &Engine{db: db, cfg: cfg, reads: enginestore.NewReader(db)}
}

// DB returns the engine's database.
func (e *Engine) DB() *store.DB { return e.db }

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// now is the engine clock, UTC at microsecond precision (what both databases keep).
func (e *Engine) now() time.Time { return e.cfg.Now().UTC().Truncate(time.Microsecond) }

// txn is the state of one write transaction: the engine's rules over the
// store's transaction (see store.go).
type txn struct {
	storeTx
	e      *Engine
	now    time.Time
	events []core.Event
	audit  []any // pending audit_log rows, enginestore.AuditCols values each, written at the end
	// balanceRows holds balance rows read in this transaction (on
	// PostgreSQL only those it locked), see sawBalance.
	balanceRows map[string]*accountBalance
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
// committed events. It runs alone: no other engine write runs beside it
// (store.DB.WriteTx without store.Parallel), which is what an operation that
// reads and locks rows of several orders and accounts needs; see
// writeParallel.
func (e *Engine) write(ctx context.Context, fn func(t *txn) error) ([]core.Event, error) {
	return e.writeTx(ctx, false, fn)
}

// writeParallel is write for an operation that may run beside other writes
// (store.Parallel, where the store's reads lock rows): every row it reads to
// decide is locked as it is read, so a write it overlaps with is either done
// before those reads or waits for its commit. See RATIONALE.md "Events are sequenced after commit"
// for which operations qualify and why.
func (e *Engine) writeParallel(ctx context.Context, fn func(t *txn) error) ([]core.Event, error) {
	return e.writeTx(ctx, true, fn)
}

// writeStatement is write for an operation of exactly one statement that
// emits no event, writes no audit row and that no other operation reads to
// decide (a hot wallet's nonce): on PostgreSQL it needs no transaction and no
// writers lock (store.Autocommit).
func (e *Engine) writeStatement(ctx context.Context, fn func(t *txn) error) error {
	return enginestore.WriteStatement(ctx, e.db, func(st *enginestore.Tx) error {
		t := &txn{storeTx: st, e: e, now: e.now()}
		if err := fn(t); err != nil {
			return err
		}
		if len(t.events) > 0 || len(t.audit) > 0 {
			return fmt.Errorf("engine: a single-statement write emitted events or audit rows")
		}
		return nil
	})
}

func (e *Engine) writeTx(ctx context.Context, parallel bool, fn func(t *txn) error) ([]core.Event, error) {
	var events []core.Event
	err := enginestore.Write(ctx, e.db, parallel, func(st *enginestore.Tx) error {
		t := &txn{storeTx: st, e: e, now: e.now()}
		err := fn(t)
		if err == nil {
			err = t.AppendEvents(t.events, t.audit)
		}
		events = t.events
		return err
	})
	if err != nil {
		return nil, err
	}
	// WriteTx has made the events readable (sequenced them where staged).
	if len(events) > 0 && e.cfg.AfterCommit != nil {
		e.cfg.AfterCommit()
	}
	return events, nil
}

// emit queues an event, created at the transaction's engine clock, for
// enginestore's AppendEvents to append at the end of the transaction through
// the store's one append path (store.AppendEvents).
func (t *txn) emit(typ core.EventType, payload any) error {
	data, err := t.encode(payload)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	t.events = append(t.events, core.Event{ID: store.NewEventID(), Type: typ, CreatedAt: t.now, Payload: data})
	return nil
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
