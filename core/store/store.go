// Package store opens the database behind the engine (SQLite by default,
// PostgreSQL for multi-instance deployments), applies the embedded migrations
// and provides the transaction and outbox primitives every write goes through.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/migrate"
	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"

	"github.com/tari-payment/tps/migrations"
)

// Dialect names the database family behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open, migrated database.
type DB struct {
	*bun.DB
	Kind Dialect
	// writer (SQLite) queues this process's write transactions in Go. SQLite
	// admits one writer; without the queue the others wait in its busy
	// handler, which sleeps in steps of up to 100 ms instead of waking when
	// the lock frees, and under load that sleep became the p99 latency.
	writer chan struct{}
	// writersWaiting counts writes waiting for the writer queue, so tests can
	// wait until writers are queued instead of sleeping.
	writersWaiting atomic.Int64
	// seq (PostgreSQL) moves staged events into the outbox, see sequencer.go.
	seq *sequencer
	// writesRunAlone counts PostgreSQL writes retried alone after a deadlock.
	writesRunAlone atomic.Int64
	// wconn (SQLite) is the writer connection, see writeconn.go; memory
	// marks an in-memory database, whose one connection cannot be kept.
	wconn  *writerConn
	memory bool
	// ckpt (SQLite file) checkpoints the write-ahead log in the background.
	ckpt *checkpointer
}

// DefaultURL is the embedded default database.
const DefaultURL = "sqlite://data/tari_store.db"

// Open connects to url (sqlite://path, sqlite::memory:, postgres://...),
// creating a missing SQLite file and its directory, and applies migrations.
func Open(ctx context.Context, url string) (*DB, error) {
	db, err := Connect(url)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Connect opens the database without migrating it.
func Connect(url string) (*DB, error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		return openSQLite(url)
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return openPostgres(url)
	default:
		return nil, fmt.Errorf("TPG_DATABASE_URL %q: expected sqlite://<path> or postgres://...", url)
	}
}

func openSQLite(url string) (*DB, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		return nil, fmt.Errorf("TPG_DATABASE_URL %q: empty SQLite path", url)
	}
	if path != ":memory:" {
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database directory %s: %w", dir, err)
			}
		}
	}
	// WAL lets readers proceed beside the writer; immediate transactions take
	// the write lock at BEGIN, so busy_timeout applies and no transaction ever
	// fails upgrading a read lock ("database is locked").
	// The path is a URI path: escape what SQLite would read as a query or
	// fragment (a temporary directory may contain '#').
	uriPath := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	dsn := "file:" + uriPath + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate" +
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", autocheckpointPages)
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if path == ":memory:" {
		sqldb.SetMaxOpenConns(1) // each connection would otherwise see its own database
	} else {
		sqldb.SetMaxOpenConns(8)
		sqldb.SetMaxIdleConns(8) // keep them: each new one re-runs the pragmas and re-prepares statements
	}
	if err := sqldb.Ping(); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	db := &DB{DB: bun.NewDB(sqldb, sqlitedialect.New()), Kind: SQLite, writer: make(chan struct{}, 1), memory: path == ":memory:"}
	if !db.memory {
		db.ckpt = startCheckpointer(db)
	}
	return db, nil
}

func openPostgres(url string) (*DB, error) {
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(url)))
	sqldb.SetMaxOpenConns(20)
	// database/sql keeps only 2 idle connections by default: under load the
	// rest were closed after each use and reopened (a PostgreSQL backend fork
	// and a TLS handshake each time), which was most of the server's cost.
	sqldb.SetMaxIdleConns(20)
	if err := sqldb.Ping(); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	bdb := bun.NewDB(sqldb, pgdialect.New())
	return &DB{DB: bdb, Kind: Postgres, seq: newSequencer(bdb)}, nil
}

// Migrate applies every pending embedded migration. Each is marked applied only
// after it succeeded, and concurrent instances serialise on the migration lock.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := migrations.For(string(db.Kind))
	if err != nil {
		return err
	}
	m := migrate.NewMigrator(db.DB, ms, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("migrations: init: %w", err)
	}
	if db.Kind == Postgres {
		// Serialise concurrent instances migrating one database.
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7300)"); err != nil {
			return fmt.Errorf("migrations: lock: %w", err)
		}
		defer func() {
			// The lock belongs to the session: a connection that could not
			// unlock must not go back to the pool still holding it, or every
			// later migration (here or on another instance) would wait for
			// it forever. Closing the session releases it.
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(7300)"); err != nil {
				discardConn(conn.Conn)
			}
		}()
	}
	if _, err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// InTx runs fn in one write transaction. On SQLite the transaction is
// IMMEDIATE (it holds the write lock from BEGIN) and runs on the writer
// connection; ctx bounds the wait for it, and fn's context is not cancelled
// once the transaction started. On PostgreSQL it is READ COMMITTED and
// callers lock the rows they change. Any error rolls back.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if db.Kind == SQLite {
		return db.withWriter(ctx, func(w *Writer) error { return w.conn.RunInTx(w.ctx, nil, fn) })
	}
	return db.DB.RunInTx(ctx, nil, fn)
}

// ExecContext runs one statement on its own (autocommit). On SQLite it waits
// in the writer queue like a transaction, since a write outside the queue
// would send the queued writers to the busy handler (the outbox moves its
// cursors this way, once per delivered event). Inside InTx use the tx.
func (db *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if db.Kind != SQLite {
		return db.DB.ExecContext(ctx, query, args...)
	}
	var res sql.Result
	err := db.withWriter(ctx, func(w *Writer) (err error) {
		res, err = w.Exec(query, args...)
		return err
	})
	return res, err
}

// lockWriter takes the SQLite writer queue (nothing on PostgreSQL). Other
// processes on the same file still meet busy_timeout.
func (db *DB) lockWriter(ctx context.Context) error {
	if db.writer == nil {
		return nil
	}
	select {
	case db.writer <- struct{}{}:
		return nil
	default:
	}
	db.writersWaiting.Add(1)
	defer db.writersWaiting.Add(-1)
	select {
	case db.writer <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (db *DB) unlockWriter() {
	if db.writer != nil {
		<-db.writer
	}
}

// WriteTx runs fn in one write transaction that may append outbox events
// (AppendEvents).
//
// On PostgreSQL it is a READ COMMITTED transaction (see PostgresWrite):
// writers lock the rows they change and otherwise run in parallel; events are
// staged, and DB.SequenceEvents, run here after the commit, makes them
// readable before WriteTx returns (if it fails, the outbox poll moves them
// later; the write is committed either way, so that error is not returned).
//
// On SQLite the IMMEDIATE transaction serialises writers (and the writer
// queue orders this process's ones); events go straight into the outbox.
func (db *DB) WriteTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if db.Kind == SQLite {
		return db.InTx(ctx, fn)
	}
	err := db.PostgresWrite(ctx, true, func(ctx context.Context, tx bun.Tx, first string) error {
		if _, err := tx.ExecContext(ctx, first); err != nil {
			return err
		}
		return fn(ctx, tx)
	})
	if err != nil {
		return err
	}
	_, _ = db.SequenceEvents(ctx)
	return nil
}

// writersLockKey is the PostgreSQL advisory lock every write transaction
// holds: shared normally (writers do not wait for each other on it),
// exclusive for a write that is run again after a deadlock.
const writersLockKey = 7303

// The statements PostgresWrite hands its function to run first. As DO blocks
// they return no rows, so they can precede a query in one message (the
// driver reads the first result set that has rows).
var (
	sharedWriterSQL    = fmt.Sprintf("DO 'BEGIN PERFORM pg_advisory_xact_lock_shared(%d); END'", writersLockKey)
	exclusiveWriterSQL = fmt.Sprintf("DO 'BEGIN PERFORM pg_advisory_xact_lock(%d); END'", writersLockKey)
)

// PostgresWrite runs fn as one PostgreSQL write transaction, without
// sequencing its events: for a caller that knows whether it wrote any (the
// engine) and then calls SequenceEvents itself. fn must run first, before
// anything else, as its own statement or at the head of its first message
// ("first; statement"): the writers' lock, writersLockKey.
//
// A parallel write holds that lock shared: parallel writes run side by side,
// locking the rows they change as they read them. Two of them that lock the
// same rows in different orders can deadlock; PostgreSQL then aborts one
// (nothing done), and it runs again alone. A write that is not parallel
// (alone) holds the lock exclusively: it waits for every write in flight to
// end and keeps new ones out until it commits, so it sees and changes the
// database as if no other write existed, and cannot deadlock with one. A
// serialization failure is run again alone the same way. fn must therefore
// have no effects outside tx.
func (db *DB) PostgresWrite(ctx context.Context, parallel bool, fn func(ctx context.Context, tx bun.Tx, first string) error) error {
	if db.Kind != Postgres {
		return errors.New("PostgresWrite is for PostgreSQL")
	}
	first := exclusiveWriterSQL
	if parallel {
		first = sharedWriterSQL
	}
	err := db.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx, first) })
	if err == nil || !parallel || !retryable(err) || ctx.Err() != nil {
		return err
	}
	db.writesRunAlone.Add(1)
	return db.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx, exclusiveWriterSQL) })
}

// retryable reports whether PostgreSQL aborted a transaction for a deadlock
// (40P01) or a serialization failure (40001): nothing was done, and running
// it again alone succeeds.
func retryable(err error) bool {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) {
		return false
	}
	code := pgErr.Field('C')
	return code == "40P01" || code == "40001"
}

// WritesRunAlone counts the PostgreSQL writes run again alone after a
// deadlock (see PostgresWrite), for tests and metrics.
func (db *DB) WritesRunAlone() int64 { return db.writesRunAlone.Load() }

// ErrNoRows is returned by lookups that found nothing.
var ErrNoRows = sql.ErrNoRows

// IsNoRows reports whether err means "nothing found".
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
