// Package enginestore runs the engine's SQL on either database: one write
// transaction's statements (prepared once and reused on SQLite, sent in as
// few round trips as possible on PostgreSQL), the reads the request path
// repeats, and every place where the two dialects differ. The engine above
// it keeps the rules: which rows, which transitions, which events.
package enginestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
)

// The write path talks to database/sql directly. On SQLite its statements
// run on store.Writer, prepared once and reused (parsing SQL costs as much as
// running it there); on PostgreSQL they go through bun's formatter, the hot
// ones as EXECUTEs of statements each connection prepared (pgStatement).
// Queries use "?" placeholders, which both paths understand.

// pgPrepared maps the PostgreSQL text of each statement registered with
// pgStatement to it: a transaction on a database that prepared them
// (store.DB.PreparedStatements) sends "EXECUTE name(args)" in its place,
// skipping PostgreSQL's parse and plan, and still batches it with others in
// one message. Written only at package initialisation.
var pgPrepared = map[string]*store.PreparedStatement{}

// pgStatement registers query, exactly as the PostgreSQL path sends it
// (with " FOR UPDATE" where Tx.ForUpdate adds it), to be prepared as name
// on every PostgreSQL connection, and returns it. types give the
// parameters' types where PostgreSQL cannot infer them.
func pgStatement(name, query string, types ...string) string {
	pgPrepared[query] = store.RegisterPostgresStatement(name, query, types...)
	return query
}

// appendPG formats query with args (PostgreSQL) at the end of b, as an
// EXECUTE of its prepared statement when there is one.
func (t *Tx) appendPG(b []byte, query string, args []any) []byte {
	if t.db.PreparedStatements() {
		if s := pgPrepared[query]; s != nil && s.Params == len(args) {
			query = s.Execute
		}
	}
	return t.db.QueryGen().AppendQuery(b, query, args...)
}

// sqliteTime is bun's SQLite time format, so values written here and by bun
// compare correctly as text.
const sqliteTime = "2006-01-02 15:04:05.999999-07:00"

// sqliteArgs formats time arguments the way bun stores them on SQLite.
func sqliteArgs(args []any) []any {
	for i, a := range args {
		if tm, ok := a.(time.Time); ok {
			args[i] = tm.UTC().Format(sqliteTime)
		}
	}
	return args
}

// Tx is one write transaction of the engine.
type Tx struct {
	ctx context.Context
	db  *store.DB
	stx *store.Tx
	// w runs the statements on SQLite, tx on PostgreSQL.
	w  *store.Writer
	tx bun.IDB
	// deferred (PostgreSQL) holds formatted statements not yet sent, see
	// Exec; deferredErr is the failure of sending them from IDB.
	deferred    []byte
	deferredErr error
	// prefix (PostgreSQL) is the store's SQL, first in deferred until sent.
	prefix *store.TxPrefix
}

// Write runs fn as one write transaction of db (store.DB.WriteTx; with
// store.Parallel when parallel): on PostgreSQL the store's BEGIN and writers
// lock travel with the first statement, and what fn deferred with the
// COMMIT (store.Tx.SendWithCommit).
func Write(ctx context.Context, db *store.DB, parallel bool, fn func(t *Tx) error) error {
	var opts []store.TxOption
	if parallel {
		opts = append(opts, store.Parallel)
	}
	return write(ctx, db, fn, opts...)
}

// WriteStatement runs fn, a write of exactly one statement that appends no
// events and no audit rows and that no other write reads to decide, as
// store.Autocommit: on PostgreSQL one round trip, without a transaction.
func WriteStatement(ctx context.Context, db *store.DB, fn func(t *Tx) error) error {
	return write(ctx, db, fn, store.Autocommit)
}

func write(ctx context.Context, db *store.DB, fn func(t *Tx) error, opts ...store.TxOption) error {
	return db.WriteTx(ctx, func(stx *store.Tx) error {
		t := &Tx{ctx: stx.Context(), db: db, stx: stx, w: stx.Writer()}
		if t.w == nil {
			t.tx, t.prefix = stx.Postgres()
			if t.prefix != nil {
				t.deferred = append(append(t.deferred, t.prefix.SQL...), ";\n"...)
			}
		}
		err := fn(t)
		if err == nil && t.w == nil && len(t.deferred) > 0 {
			t.sendingPrefix()
			stx.SendWithCommit(string(t.deferred))
			t.deferred = t.deferred[:0]
		}
		if t.deferredErr != nil {
			err = t.deferredErr
		}
		return err
	}, opts...)
}

// Context is the transaction's context (never cancelled).
func (t *Tx) Context() context.Context { return t.ctx }

// ReadsLock reports whether every read of a row must reach the database to
// lock it (PostgreSQL, FOR UPDATE). On SQLite the write transaction already
// excludes other writers, so a row read once stays as read until this
// transaction changes it and may be kept.
func (t *Tx) ReadsLock() bool { return t.w == nil }

// IDB is the transaction, for queries built with bun.
func (t *Tx) IDB() bun.IDB {
	if t.w != nil {
		return t.w.IDB()
	}
	// Queries built with bun bypass Exec and Query: what Exec deferred must
	// run first. A failure aborts the transaction, so the caller's own query
	// fails too; Write returns this error.
	if err := t.flushDeferred(); err != nil && t.deferredErr == nil {
		t.deferredErr = err
	}
	return t.tx
}

// Exec runs a statement whose result the caller does not read. On
// PostgreSQL it is deferred: formatted now and sent ahead of the
// transaction's next statement, in the same simple-query message (one round
// trip for both; PostgreSQL runs them in order and stops at the first
// error, which the next statement then returns). What is left at the end
// travels with the COMMIT.
func (t *Tx) Exec(query string, args ...any) error {
	if t.w == nil {
		t.deferred = append(t.appendPG(t.deferred, query, args), ";\n"...)
		return nil
	}
	_, err := t.ExecResult(query, args...)
	return err
}

// ExecResult runs a statement now and returns its result.
func (t *Tx) ExecResult(query string, args ...any) (sql.Result, error) {
	if t.w != nil {
		return t.w.Exec(query, sqliteArgs(args)...)
	}
	return t.tx.ExecContext(t.ctx, t.withDeferred(query, args))
}

// Query runs a query; the caller closes the rows.
func (t *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	if t.w != nil {
		return t.w.Query(query, sqliteArgs(args)...)
	}
	return t.tx.QueryContext(t.ctx, t.withDeferred(query, args))
}

// withDeferred formats query (PostgreSQL) behind the deferred statements
// and empties them. The result carries no placeholders left for bun, which
// leaves a query without arguments as it is.
func (t *Tx) withDeferred(query string, args []any) string {
	q := t.appendPG(t.deferred, query, args)
	t.deferred = t.deferred[:0]
	t.sendingPrefix()
	return string(q)
}

// sendingPrefix tells the store its prefix (the head of deferred) goes out.
func (t *Tx) sendingPrefix() {
	if t.prefix != nil {
		t.prefix.Sent = true
	}
}

// flushDeferred sends the deferred statements (PostgreSQL), if any, ahead of
// a query built with bun.
func (t *Tx) flushDeferred() error {
	if t.w != nil || len(t.deferred) == 0 {
		return nil
	}
	q := string(t.deferred)
	t.deferred = t.deferred[:0]
	t.sendingPrefix()
	_, err := t.tx.ExecContext(t.ctx, q)
	return err
}

// InsertID runs a one-row INSERT and returns the new row's id column, or
// sql.ErrNoRows when an ON CONFLICT clause skipped it. On SQLite it reads the
// rowid back: RETURNING makes SQLite build a temporary table for the result,
// which costs several times the insert. PostgreSQL gets "RETURNING id".
func (t *Tx) InsertID(query string, args ...any) (int64, error) {
	var id int64
	if t.w == nil {
		err := t.QueryRow(query+" RETURNING id", args, &id)
		return id, err
	}
	res, err := t.ExecResult(query, args...)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil {
			err = sql.ErrNoRows
		}
		return 0, err
	}
	return res.LastInsertId()
}

// QueryRow runs a query expected to return at most one row and scans it;
// it returns sql.ErrNoRows when there is none.
func (t *Tx) QueryRow(query string, args []any, dest ...any) error {
	rows, err := t.Query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// ForUpdate locks selected rows on PostgreSQL (SQLite's write transaction
// already excludes other writers): appended to a SELECT.
func (t *Tx) ForUpdate() string {
	if t.w == nil {
		return " FOR UPDATE"
	}
	return ""
}

// TryLock takes a transaction-scoped advisory lock if it is free
// (PostgreSQL, where other instances share the database). On SQLite there
// is one writer: the lock is always taken.
func (t *Tx) TryLock(key int64) (bool, error) {
	if t.w != nil {
		return true, nil
	}
	var got bool
	err := t.QueryRow("SELECT pg_try_advisory_xact_lock(?, "+store.LockScope+")", []any{key}, &got)
	return got, err
}

// Time scans a timestamp whether the driver hands over a time or text.
type Time struct{ T *time.Time }

func (s Time) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		*s.T = x.UTC()
	case string:
		return s.parse(x)
	case []byte:
		return s.parse(string(x))
	case nil:
		*s.T = time.Time{}
	default:
		return fmt.Errorf("cannot scan %T into a timestamp", v)
	}
	return nil
}

func (s Time) parse(x string) error {
	for _, f := range []string{sqliteTime, "2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if tm, err := time.Parse(f, x); err == nil {
			*s.T = tm.UTC()
			return nil
		}
	}
	return fmt.Errorf("cannot parse timestamp %q", x)
}

// The columns of an order and of a payment, in the order OrderDest and
// PaymentDest scan them.
const (
	OrderCols   = "id, order_id, alt_id, customer_id, memo, total_price, original_price, currency, created_at, updated_at, status, amount_outstanding, cancel_reason, status_changed_at"
	PaymentCols = "txid, created_at, updated_at, sender, amount, memo, payment_type, status, order_id, sender_account"
)

var qLeaveReceived = pgStatement("leave_received", "UPDATE payments SET status = ?, updated_at = ? WHERE txid = ? AND status = ? RETURNING "+PaymentCols)

// LeaveReceived moves a received payment to status to in one conditional
// UPDATE (so two confirmations of one payment can never both succeed) and
// returns it as it now stands, or sql.ErrNoRows when no received payment
// has that txid.
func (t *Tx) LeaveReceived(txid string, to core.PaymentStatus, now time.Time) (core.Payment, error) {
	var p core.Payment
	var err error
	if t.w != nil {
		// Read, then update by key: the write lock is held, and RETURNING
		// would make SQLite build a temporary table.
		err = t.QueryRow("SELECT "+PaymentCols+" FROM payments WHERE txid = ? AND status = ?", []any{txid, core.PaymentReceived}, PaymentDest(&p)...)
		if err == nil {
			p.Status, p.UpdatedAt = to, now
			err = t.Exec("UPDATE payments SET status = ?, updated_at = ? WHERE txid = ?", to, now, txid)
		}
	} else {
		err = t.QueryRow(qLeaveReceived,
			[]any{to, now, txid, core.PaymentReceived}, PaymentDest(&p)...)
	}
	return p, err
}

// OrderDest is where a row of the orders columns (OrderCols) scans into.
func OrderDest(o *core.Order) []any {
	return []any{&o.ID, &o.OrderID, &o.AltID, &o.CustomerID, &o.Memo, &o.TotalPrice, &o.OriginalPrice, &o.Currency,
		Time{&o.CreatedAt}, Time{&o.UpdatedAt}, &o.Status, &o.AmountOutstanding, &o.CancelReason, Time{&o.StatusChangedAt}}
}

// PaymentDest is where a row of the payments columns (PaymentCols) scans into.
func PaymentDest(p *core.Payment) []any {
	return []any{&p.TxID, Time{&p.CreatedAt}, Time{&p.UpdatedAt}, &p.Sender, &p.Amount, &p.Memo, &p.PaymentType, &p.Status, &p.OrderID, &p.SenderAccount}
}
