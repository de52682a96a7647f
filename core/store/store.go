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

// DB is an open, migrated database. Every write goes through WriteTx (or
// ExecContext for one statement): the bun handle is private, so nothing can
// begin a transaction beside the SQLite writer queue or the PostgreSQL writers
// lock. Reads use the query methods in read.go.
type DB struct {
	bun  *bun.DB
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
	// connector (PostgreSQL) prepares the registered statements on each new
	// connection once Open armed it; prepared tells callers they may EXECUTE
	// them. See prepared.go.
	connector *preparingConnector
	prepared  atomic.Bool
}

// DefaultURL is the embedded default database.
const DefaultURL = "sqlite://data/tari_store.db"

// OpenOption changes how Open sets up a database.
type OpenOption int

const (
	// WithoutPreparedStatements keeps PostgreSQL sessions free of prepared
	// statements, for connection poolers that share one server session
	// between clients (PgBouncer in transaction mode). SQLite ignores it.
	WithoutPreparedStatements OpenOption = iota + 1
)

// Open connects to url (sqlite://path, sqlite::memory:, postgres://...),
// creating a missing SQLite file and its directory, and applies migrations.
// On PostgreSQL every connection opened after the migrations prepares the
// registered statements (RegisterPostgresStatement), unless
// WithoutPreparedStatements is given.
func Open(ctx context.Context, url string, opts ...OpenOption) (*DB, error) {
	db, err := Connect(url)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	prepare := true
	for _, o := range opts {
		prepare = prepare && o != WithoutPreparedStatements
	}
	if prepare && db.connector != nil {
		if err := db.armPrepared(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// armPrepared makes every later PostgreSQL connection prepare the
// registered statements, drops the pooled ones opened before (during the
// migrations, when the tables may not have existed), and checks that a new
// connection can prepare them.
func (db *DB) armPrepared(ctx context.Context) error {
	db.connector.armed.Store(true)
	sqldb := db.bun.DB
	sqldb.SetMaxIdleConns(0)
	sqldb.SetMaxIdleConns(postgresConns)
	if err := sqldb.PingContext(ctx); err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	db.prepared.Store(true)
	return nil
}

// PreparedStatements reports whether every connection of db has prepared
// the registered statements (PostgreSQL opened with Open, by default), so
// that a transaction may EXECUTE them.
func (db *DB) PreparedStatements() bool { return db.prepared.Load() }

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
	db := &DB{bun: bun.NewDB(sqldb, sqlitedialect.New()), Kind: SQLite, writer: make(chan struct{}, 1), memory: path == ":memory:"}
	if !db.memory {
		db.ckpt = startCheckpointer(db)
	}
	return db, nil
}

// postgresConns bounds a PostgreSQL pool, open and idle connections alike.
const postgresConns = 20

func openPostgres(url string) (*DB, error) {
	preparedFrozen.Store(true)
	connector := &preparingConnector{Connector: pgdriver.NewConnector(pgdriver.WithDSN(url))}
	sqldb := sql.OpenDB(connector)
	sqldb.SetMaxOpenConns(postgresConns)
	// database/sql keeps only 2 idle connections by default: under load the
	// rest were closed after each use and reopened (a PostgreSQL backend fork
	// and a TLS handshake each time), which was most of the server's cost.
	sqldb.SetMaxIdleConns(postgresConns)
	if err := sqldb.Ping(); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	bdb := bun.NewDB(sqldb, pgdialect.New())
	db := &DB{bun: bdb, Kind: Postgres, connector: connector}
	db.seq = newSequencer(bdb, &db.prepared)
	return db, nil
}

// Migrate applies every pending embedded migration. Each is marked applied only
// after it succeeded, and concurrent instances serialise on the migration lock.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := migrations.For(string(db.Kind))
	if err != nil {
		return err
	}
	m := migrate.NewMigrator(db.bun, ms, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("migrations: init: %w", err)
	}
	if db.Kind == Postgres {
		// Serialise concurrent instances migrating one database.
		conn, err := db.bun.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7300, "+LockScope+")"); err != nil {
			return fmt.Errorf("migrations: lock: %w", err)
		}
		defer func() {
			// The lock belongs to the session: a connection that could not
			// unlock must not go back to the pool still holding it, or every
			// later migration (here or on another instance) would wait for
			// it forever. Closing the session releases it.
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(7300, "+LockScope+")"); err != nil {
				discardConn(conn.Conn)
			}
		}()
	}
	if _, err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// ExecContext runs one statement on its own (autocommit): a write that
// needs no transaction, such as the outbox moving a cursor once per
// delivered event, at one round trip on PostgreSQL. On SQLite it waits in the
// writer queue like a transaction, since a write outside the queue would
// send the queued writers to the busy handler. Inside WriteTx use the Tx.
func (db *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if db.Kind != SQLite {
		return db.bun.ExecContext(ctx, query, args...)
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

// TxOption changes how WriteTx runs a transaction.
type TxOption int

const (
	// NoEvents marks a transaction that appends no outbox events (the
	// outbox's own bookkeeping). On PostgreSQL it is then a plain READ
	// COMMITTED transaction: it takes no writers lock and runs no sequencer
	// after its commit. On SQLite it changes nothing.
	NoEvents TxOption = iota + 1
	// Parallel marks a write that may run beside other writes on PostgreSQL:
	// every row it reads to decide is locked as it is read (FOR UPDATE), so a
	// write it overlaps with is either done before those reads or waits for
	// its commit. It holds the writers lock shared; without Parallel a write
	// holds it exclusively (runs alone). See postgresWrite. On SQLite every
	// write runs alone anyway.
	Parallel
	// Autocommit marks a write of exactly one statement that appends no
	// events and that no other write reads to decide (a hot wallet's nonce):
	// on PostgreSQL it runs on its own, without BEGIN, COMMIT or the writers
	// lock, in one round trip; a statement is atomic by itself, and a write
	// that runs alone cannot depend on it. On SQLite it is an ordinary write.
	Autocommit
)

// WriteTx runs fn as one write transaction: it commits if fn returns nil and
// rolls back otherwise (or if fn panics). It is the one way to open a write
// transaction, and the transaction may append outbox events (AppendEvents).
// On SQLite fn's context (tx.Context()) is not cancelled once the
// transaction started: ctx bounds only the wait in the writer queue. On
// PostgreSQL fn's statements run under ctx, which so bounds the wait for the
// writers lock too (a cancelled request aborts its transaction), while the
// COMMIT and ROLLBACK messages always run to their end.
//
// On SQLite the transaction is IMMEDIATE (it holds the write lock from
// BEGIN) and runs on the writer connection, in this process's writer queue;
// events go straight into the outbox.
//
// On PostgreSQL it is READ COMMITTED and callers lock the rows they change.
// Unless NoEvents is given it holds the writers lock (shared with Parallel,
// exclusive otherwise; see postgresWrite), which travels with fn's first
// statement, and may be run again alone after a deadlock, so fn must have no
// effects outside the transaction. Events are staged, and made readable
// before WriteTx returns (unless fn called tx.NoEventsAppended): by the
// message that commits, when the sequencer lock is free, else by
// DB.SequenceEvents run here after the commit; if that fails the outbox poll
// moves them later, and as the write is committed either way, that error is
// not returned.
func (db *DB) WriteTx(ctx context.Context, fn func(tx *Tx) error, opts ...TxOption) error {
	noEvents, parallel, autocommit := false, false, false
	for _, o := range opts {
		noEvents = noEvents || o == NoEvents
		parallel = parallel || o == Parallel
		autocommit = autocommit || o == Autocommit
	}
	if db.Kind == SQLite {
		return db.withWriter(ctx, func(w *Writer) error {
			return w.run(func(w *Writer) error { return runTx(&Tx{ctx: w.ctx, kind: SQLite, w: w}, fn) })
		})
	}
	if autocommit {
		return runTx(&Tx{ctx: ctx, kind: Postgres, tx: db.bun, noEventsAppended: true}, fn)
	}
	if noEvents {
		return db.bun.RunInTx(ctx, nil, func(ctx context.Context, btx bun.Tx) error {
			return runTx(&Tx{ctx: ctx, kind: Postgres, tx: btx}, fn)
		})
	}
	out, err := db.postgresWrite(ctx, parallel, fn)
	if err != nil {
		return err
	}
	if out.sent && out.appended && !out.sequenced {
		_, _ = db.SequenceEvents(ctx)
	}
	return nil
}

func runTx(t *Tx, fn func(tx *Tx) error) error {
	if err := fn(t); err != nil {
		return err
	}
	return t.err
}

// TxPrefix is SQL a PostgreSQL write transaction must run before anything
// else (BEGIN and the writers lock), handed over by Tx.Postgres so that it
// travels in the same message as the caller's first statement instead of
// costing a round trip of its own.
type TxPrefix struct {
	SQL  string
	Sent bool // set by the caller once a message carrying SQL was sent
}

// Tx is one write transaction of WriteTx.
type Tx struct {
	ctx  context.Context
	kind Dialect
	w    *Writer // SQLite
	tx   bun.IDB // PostgreSQL: a connection (see postgresWrite), for NoEvents a bun.Tx, for Autocommit the pool
	// prefix (PostgreSQL) is the store's SQL (BEGIN and the writers lock)
	// that must run before the transaction's first statement; IDB sends it
	// unless Postgres handed it to the caller.
	prefix *TxPrefix
	// commitSQL (PostgreSQL) is what SendWithCommit left for the message
	// that carries the COMMIT.
	commitSQL string
	err       error // sending the prefix failed
	// noEventsAppended: fn said it appended no events, see NoEventsAppended.
	noEventsAppended bool
}

// Context is the transaction's context: the caller's values, never
// cancelled (a statement is not abandoned halfway; the transaction is short).
func (t *Tx) Context() context.Context { return t.ctx }

// Dialect is the database family the transaction runs on.
func (t *Tx) Dialect() Dialect { return t.kind }

// NoEventsAppended tells WriteTx that this transaction appended no events,
// so its commit needs no sequencer run (a caller that knows, such as the
// engine, saves that round trip on its writes without events). By default
// WriteTx assumes events may have been appended.
func (t *Tx) NoEventsAppended() { t.noEventsAppended = true }

// IDB is the transaction for queries built with bun.
func (t *Tx) IDB() bun.IDB {
	if t.w != nil {
		return t.w.IDB()
	}
	if p := t.prefix; p != nil && !p.Sent {
		p.Sent = true
		if _, err := t.tx.ExecContext(t.ctx, p.SQL); err != nil && t.err == nil {
			// The transaction is aborted: the caller's next statement
			// fails too, and WriteTx returns this error.
			t.err = err
		}
	}
	return t.tx
}

// Writer is the SQLite transaction's writer connection, for statements
// prepared once and reused; nil on PostgreSQL.
func (t *Tx) Writer() *Writer { return t.w }

// Postgres hands the PostgreSQL transaction over together with the store's
// SQL that must run first (nil when there is none): the caller sends it in
// the same message as its own first statement ("p.SQL; statement"), saving
// a round trip per write. Once it sends a message carrying p.SQL, or hands
// one to SendWithCommit, it must set p.Sent, before sending anything else;
// if it sends nothing it leaves p.Sent false and the store sends p.SQL
// itself. The caller must not use IDB before p is sent.
func (t *Tx) Postgres() (bun.IDB, *TxPrefix) {
	if t.prefix != nil && t.prefix.Sent {
		return t.tx, nil
	}
	return t.tx, t.prefix
}

// SendWithCommit leaves statements whose results nobody reads (each ending
// with ";\n") to the message that commits the transaction, where they run
// just before its COMMIT: one round trip for both (PostgreSQL, event-writing
// transactions). If one fails, the COMMIT does not run and WriteTx returns
// the error. Called at most once, as fn's last act; on SQLite, or for a
// NoEvents transaction, it is not available (it panics).
func (t *Tx) SendWithCommit(sql string) {
	if t.kind != Postgres || t.prefix == nil {
		panic("store: SendWithCommit outside a PostgreSQL event-writing transaction")
	}
	t.commitSQL += sql
}

// LockScope is the second key of every advisory lock the server takes on
// PostgreSQL: the schema it works in. Advisory locks belong to the whole
// database, so without it two deployments (or two test schemas) sharing one
// database would queue behind each other's writers, sequencers and
// migrations. Locks are taken as (key, LockScope); pg_locks shows them with
// classid = key, objid = the scope and objsubid = 2. No quotes in it, so it
// may go inside quoted SQL too.
const LockScope = "(coalesce(hashtext(current_schema()), 0) & 2147483647)"

// writersLockKey is the PostgreSQL advisory lock every write transaction
// (but NoEvents ones) holds: shared by Parallel writes, which do not wait for
// each other on it, exclusive for the rest and for a write that is run again
// after a deadlock.
const writersLockKey = 7303

// The statements postgresWrite puts at the head of a write transaction to
// take the writers lock. The lock is the one-time filter of an INSERT into
// writers_gate, a table that never holds a row: it is evaluated once, takes
// the lock and is false. As an INSERT it returns no rows, so it can precede
// a query in one message (the driver reads the first result set with rows),
// and prepared it costs PostgreSQL neither a parse nor a plan per write. (A
// DO block, the obvious way, is compiled by PL/pgSQL every time it runs.)
var (
	sharedWriter    = RegisterPostgresStatement("writers_lock_shared", writersLockSQL("pg_advisory_xact_lock_shared"))
	exclusiveWriter = RegisterPostgresStatement("writers_lock_exclusive", writersLockSQL("pg_advisory_xact_lock"))
)

func writersLockSQL(lockFunc string) string {
	return fmt.Sprintf("INSERT INTO writers_gate SELECT WHERE %s(%d, %s) IS NULL", lockFunc, writersLockKey, LockScope)
}

// writersLock is the statement that takes the writers lock, shared or not,
// as this database sends it.
func (db *DB) writersLock(shared bool) string {
	s := exclusiveWriter
	if shared {
		s = sharedWriter
	}
	if db.prepared.Load() {
		return s.Execute
	}
	return s.Query
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
// deadlock (see postgresWrite), for tests and metrics.
func (db *DB) WritesRunAlone() int64 { return db.writesRunAlone.Load() }

// ErrNoRows is returned by lookups that found nothing.
var ErrNoRows = sql.ErrNoRows

// IsNoRows reports whether err means "nothing found".
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
