package store

import (
	"context"
	"database/sql"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// The read side of a DB: queries outside any transaction, on the pool.
// Writes go through WriteTx or ExecContext only.

// NewSelect starts a query built with bun.
func (db *DB) NewSelect() *bun.SelectQuery { return db.bun.NewSelect() }

// NewRaw is a raw query for bun to scan (a read: writes use WriteTx).
func (db *DB) NewRaw(query string, args ...any) *bun.RawQuery { return db.bun.NewRaw(query, args...) }

// QueryContext runs a query on the pool; the caller closes the rows.
func (db *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.bun.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query returning at most one row on the pool.
func (db *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return db.bun.QueryRowContext(ctx, query, args...)
}

// PrepareRead prepares a read on the pool, for callers that cache their
// statements (SQLite parses SQL at about the cost of running it).
func (db *DB) PrepareRead(ctx context.Context, query string) (*sql.Stmt, error) {
	return db.bun.DB.PrepareContext(ctx, query)
}

// QueryGen formats queries the way bun sends them to this database.
func (db *DB) QueryGen() schema.QueryGen { return db.bun.QueryGen() }

// PingContext checks that the database answers.
func (db *DB) PingContext(ctx context.Context) error { return db.bun.PingContext(ctx) }

// SetMaxOpenConns bounds the pool (load tests).
func (db *DB) SetMaxOpenConns(n int) { db.bun.SetMaxOpenConns(n) }

// Querier reads: the pool (a *DB) or a transaction (Tx.IDB()).
type Querier interface {
	NewRaw(query string, args ...any) *bun.RawQuery
	NewSelect() *bun.SelectQuery
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// AddQueryHook observes every query bun runs (statement counts in benchmarks).
func (db *DB) AddQueryHook(h bun.QueryHook) { db.bun.AddQueryHook(h) }
