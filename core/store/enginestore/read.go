package enginestore

import (
	"context"
	"database/sql"
	"strconv"
	"sync"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
)

// Reader runs the reads outside transactions that the request path repeats.
type Reader struct {
	db *store.DB
	// stmts caches the pool's prepared statements by query text (SQLite
	// only; writes have store.Writer's).
	stmts sync.Map
}

// NewReader returns the reader of db.
func NewReader(db *store.DB) *Reader { return &Reader{db: db} }

// cachedStmt returns the pool's prepared statement for query, preparing and
// caching it on first use (SQLite). Never call it inside a transaction: it
// could wait forever for a second connection (an in-memory database has one).
func (r *Reader) cachedStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if v, ok := r.stmts.Load(query); ok {
		return v.(*sql.Stmt), nil
	}
	p, err := r.db.PrepareRead(ctx, query)
	if err != nil {
		return nil, err
	}
	if v, loaded := r.stmts.LoadOrStore(query, p); loaded {
		p.Close()
		return v.(*sql.Stmt), nil
	}
	return p, nil
}

// ReadRow runs a one-row read outside any transaction (the hot reads of the
// request path). On SQLite it goes through the prepared-statement cache.
func (r *Reader) ReadRow(ctx context.Context, query string, args []any, dest ...any) error {
	if r.db.Kind != store.SQLite {
		return r.db.QueryRowContext(ctx, query, args...).Scan(dest...)
	}
	st, err := r.cachedStmt(ctx, query)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx, sqliteArgs(args)...).Scan(dest...)
}

// page renders LIMIT/OFFSET; either works alone (D10).
func (r *Reader) page(p core.Page) string {
	s := ""
	switch {
	case p.Count != nil:
		s = " LIMIT " + strconv.Itoa(max(*p.Count, 0))
	case p.Offset != nil && r.db.Kind == store.SQLite:
		s = " LIMIT -1" // SQLite needs a LIMIT before OFFSET
	}
	if p.Offset != nil {
		s += " OFFSET " + strconv.Itoa(max(*p.Offset, 0))
	}
	return s
}

// containsFold is the condition "col contains ? as a literal,
// case-insensitive substring": no LIKE, so % and _ are plain characters.
func (r *Reader) containsFold(col string) string {
	if r.db.Kind == store.Postgres {
		return "strpos(lower(" + col + "), lower(?)) > 0"
	}
	return "instr(lower(" + col + "), lower(?)) > 0"
}

// dayExpr is the UTC calendar day of a timestamp column, as YYYY-MM-DD text
// (SQLite keeps bun's UTC text form, so its first ten characters).
func (r *Reader) dayExpr(col string) string {
	if r.db.Kind == store.Postgres {
		return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "substr(" + col + ", 1, 10)"
}
