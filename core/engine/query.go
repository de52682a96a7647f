package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
)

// The write path talks to database/sql directly. On SQLite its statements
// run on store.Writer, prepared once and reused (parsing SQL costs as much as
// running it there); on PostgreSQL they go through bun's formatter. Queries
// use "?" placeholders, which both paths understand.

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

// cachedStmt returns the pool's prepared statement for query, preparing and
// caching it on first use (SQLite). Never call it inside a transaction: it
// could wait forever for a second connection (an in-memory database has one).
func (e *Engine) cachedStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if v, ok := e.stmts.Load(query); ok {
		return v.(*sql.Stmt), nil
	}
	p, err := e.db.PrepareRead(ctx, query)
	if err != nil {
		return nil, err
	}
	if v, loaded := e.stmts.LoadOrStore(query, p); loaded {
		p.Close()
		return v.(*sql.Stmt), nil
	}
	return p, nil
}

// readRow runs a one-row read outside any transaction (the hot reads of the
// request path). On SQLite it goes through the prepared-statement cache.
func (e *Engine) readRow(ctx context.Context, query string, args []any, dest ...any) error {
	if e.db.Kind != store.SQLite {
		return e.db.QueryRowContext(ctx, query, args...).Scan(dest...)
	}
	st, err := e.cachedStmt(ctx, query)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx, sqliteArgs(args)...).Scan(dest...)
}

// exec runs a statement whose result the caller does not read. On
// PostgreSQL it is deferred: formatted now and sent ahead of the
// transaction's next statement, in the same simple-query message (one round
// trip for both; PostgreSQL runs them in order and stops at the first
// error, which the next statement then returns). flushDeferred sends what
// is left before the transaction ends.
func (t *txn) exec(query string, args ...any) error {
	if t.w == nil {
		t.deferred = append(t.e.db.QueryGen().AppendQuery(t.deferred, query, args...), ";\n"...)
		return nil
	}
	_, err := t.execResult(query, args...)
	return err
}

func (t *txn) execResult(query string, args ...any) (sql.Result, error) {
	if t.w != nil {
		return t.w.Exec(query, sqliteArgs(args)...)
	}
	return t.tx.ExecContext(t.ctx, t.withDeferred(query, args))
}

func (t *txn) query(query string, args ...any) (*sql.Rows, error) {
	if t.w != nil {
		return t.w.Query(query, sqliteArgs(args)...)
	}
	return t.tx.QueryContext(t.ctx, t.withDeferred(query, args))
}

// withDeferred formats query (PostgreSQL) behind the deferred statements
// and empties them. The result carries no placeholders left for bun, which
// leaves a query without arguments as it is.
func (t *txn) withDeferred(query string, args []any) string {
	q := t.e.db.QueryGen().AppendQuery(t.deferred, query, args...)
	t.deferred = t.deferred[:0]
	t.sendingPrefix()
	return string(q)
}

// sendingPrefix tells the store its prefix (the head of deferred) goes out.
func (t *txn) sendingPrefix() {
	if t.prefix != nil {
		t.prefix.Sent = true
	}
}

// flushDeferred sends the deferred statements (PostgreSQL), if any.
func (t *txn) flushDeferred() error {
	if t.w != nil || len(t.deferred) == 0 {
		return nil
	}
	q := string(t.deferred)
	t.deferred = t.deferred[:0]
	t.sendingPrefix()
	_, err := t.tx.ExecContext(t.ctx, q)
	return err
}

// insertID runs a one-row INSERT and returns the new row's id column, or
// sql.ErrNoRows when an ON CONFLICT clause skipped it. On SQLite it reads the
// rowid back: RETURNING makes SQLite build a temporary table for the result,
// which costs several times the insert. PostgreSQL gets "RETURNING id".
func (t *txn) insertID(query string, args ...any) (int64, error) {
	var id int64
	if t.e.db.Kind != store.SQLite {
		err := t.queryRow(query+" RETURNING id", args, &id)
		return id, err
	}
	res, err := t.execResult(query, args...)
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

// queryRow runs a query expected to return at most one row and scans it;
// it returns sql.ErrNoRows when there is none.
func (t *txn) queryRow(query string, args []any, dest ...any) error {
	rows, err := t.query(query, args...)
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

// ts scans a timestamp whether the driver hands over a time or text.
type ts struct{ t *time.Time }

func (s ts) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		*s.t = x.UTC()
	case string:
		return s.parse(x)
	case []byte:
		return s.parse(string(x))
	case nil:
		*s.t = time.Time{}
	default:
		return fmt.Errorf("cannot scan %T into a timestamp", v)
	}
	return nil
}

func (s ts) parse(x string) error {
	for _, f := range []string{sqliteTime, "2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if tm, err := time.Parse(f, x); err == nil {
			*s.t = tm.UTC()
			return nil
		}
	}
	return fmt.Errorf("cannot parse timestamp %q", x)
}

func orderDest(o *core.Order) []any {
	return []any{&o.ID, &o.OrderID, &o.AltID, &o.CustomerID, &o.Memo, &o.TotalPrice, &o.OriginalPrice, &o.Currency,
		ts{&o.CreatedAt}, ts{&o.UpdatedAt}, &o.Status, &o.AmountOutstanding, &o.CancelReason, ts{&o.StatusChangedAt}}
}

func paymentDest(p *core.Payment) []any {
	return []any{&p.TxID, ts{&p.CreatedAt}, ts{&p.UpdatedAt}, &p.Sender, &p.Amount, &p.Memo, &p.PaymentType, &p.Status, &p.OrderID, &p.SenderAccount}
}

func balanceDest(b *accountBalance) []any {
	return []any{&b.Account, &b.Address, &b.TotalConfirmed, &b.TotalPaid, &b.Pending, ts{&b.LastUpdate}}
}

// orders runs a query returning orderCols rows.
func (t *txn) orders(query string, args ...any) ([]core.Order, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []core.Order{}
	for rows.Next() {
		var o core.Order
		if err := rows.Scan(orderDest(&o)...); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// order runs a query returning at most one orderCols row; nil when none.
func (t *txn) order(query string, args ...any) (*core.Order, error) {
	var o core.Order
	if err := t.queryRow(query, args, orderDest(&o)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, err
	}
	return &o, nil
}
