package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
)

// SQLite runs every write of this process on one dedicated connection (the
// writer), taken from the pool on first use and kept until Close; readers
// share the rest of the pool. SQLite admits one writer at a time anyway, and
// one connection keeps its page cache warm and its prepared statements
// ready. An in-memory database has a single connection, so there the writer
// borrows it for each transaction instead.

// maxWriterStmts bounds the writer's statement cache; queries beyond it run
// unprepared (the engine's set of write statements is far smaller).
const maxWriterStmts = 256

// Writer is one SQLite write transaction on the writer connection (see
// DB.WriteTx and Tx.Writer). Its statements are prepared once per connection and run
// directly on it: no per-transaction statement copies, and no goroutines
// watching a context, which database/sql and the driver start for every
// statement of a cancellable context. That was half of what an engine
// operation cost on top of SQLite's own work.
type Writer struct {
	ctx context.Context
	*writerConn
}

// writerConn is a connection writes run on and its prepared statements:
// the dedicated writer (guarded by the writer queue), or an in-memory
// database's borrowed connection, whose stmts is nil (nothing cached).
type writerConn struct {
	conn  bun.Conn
	stmts map[string]*sql.Stmt
	// broken: a ROLLBACK failed, so a transaction may be left open on conn.
	broken bool
}

// Exec runs a statement of the transaction.
func (w *Writer) Exec(query string, args ...any) (sql.Result, error) {
	st, err := w.stmt(query)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		return st.ExecContext(w.ctx, args...)
	}
	return w.conn.Conn.ExecContext(w.ctx, query, args...)
}

// Query runs a query of the transaction; the caller closes the rows.
func (w *Writer) Query(query string, args ...any) (*sql.Rows, error) {
	st, err := w.stmt(query)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		return st.QueryContext(w.ctx, args...)
	}
	return w.conn.Conn.QueryContext(w.ctx, query, args...)
}

// IDB is the transaction for queries built with bun.
func (w *Writer) IDB() bun.IDB { return w.conn }

// Context is the transaction's context: the caller's values, never cancelled
// (a statement is not abandoned halfway; the transaction is short).
func (w *Writer) Context() context.Context { return w.ctx }

func (w *Writer) stmt(query string) (*sql.Stmt, error) {
	if w.stmts == nil {
		return nil, nil
	}
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	if len(w.stmts) >= maxWriterStmts {
		return nil, nil
	}
	st, err := w.conn.Conn.PrepareContext(w.ctx, query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = st
	return st, nil
}

// run is one IMMEDIATE write transaction on the writer (WriteTx on SQLite).
func (w *Writer) run(fn func(w *Writer) error) (err error) {
	// BEGIN, COMMIT and ROLLBACK go through the statement cache too.
	if _, err := w.Exec("BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin write transaction: %w", err)
	}
	done := false
	defer func() {
		if !done { // fn panicked: roll back, and the panic goes on
			_ = w.rollback() // a failure marks the connection broken
		}
	}()
	err = fn(w)
	done = true
	if err != nil {
		if rerr := w.rollback(); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	if _, err := w.Exec("COMMIT"); err != nil {
		// A failed COMMIT may leave the transaction open.
		return errors.Join(fmt.Errorf("commit: %w", err), w.rollback())
	}
	return nil
}

// rollback ends the transaction. When ROLLBACK fails the transaction may
// still be open on the connection, holding SQLite's write lock and every
// later BEGIN refused: the connection is marked broken, and the writer
// queue closes it and takes a new one (withWriter).
func (w *Writer) rollback() error {
	if _, err := w.Exec("ROLLBACK"); err != nil {
		w.broken = true
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// withWriter runs fn on the writer connection, in the writer queue (SQLite).
// ctx bounds the wait in the queue; fn's Writer carries it without its
// cancellation.
func (db *DB) withWriter(ctx context.Context, fn func(w *Writer) error) error {
	if err := db.lockWriter(ctx); err != nil {
		return err
	}
	defer db.unlockWriter()
	ctx = context.WithoutCancel(ctx)
	if db.memory {
		conn, err := db.bun.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return fn(&Writer{ctx, &writerConn{conn: conn}})
	}
	if db.wconn == nil {
		conn, err := db.bun.Conn(ctx)
		if err != nil {
			return err
		}
		db.wconn = &writerConn{conn: conn, stmts: map[string]*sql.Stmt{}}
	}
	wc := db.wconn
	defer func() { // also when fn panics
		if wc.broken {
			db.wconn = nil
			wc.discard()
		}
	}()
	err := fn(&Writer{ctx, wc})
	if db.ckpt != nil {
		db.ckpt.wrote()
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		// The connection is gone: the next write takes a new one.
		db.wconn = nil
		wc.close()
	}
	return err
}

func (wc *writerConn) close() {
	for _, st := range wc.stmts {
		st.Close()
	}
	wc.conn.Close()
}

// discard closes the connection for good rather than returning it to the
// pool, where a reader would get a connection inside a write transaction.
func (wc *writerConn) discard() {
	for _, st := range wc.stmts {
		st.Close()
	}
	discardConn(wc.conn.Conn)
}

// discardConn closes c's driver connection instead of returning it to the
// pool: database/sql drops a connection whose Raw call reports it bad.
func discardConn(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn }) // the error is the one we return
	_ = c.Close()                                           // ErrConnDone: already released
}

// Close stops the background checkpoints and closes the writer connection,
// then the database.
func (db *DB) Close() error {
	if db.ckpt != nil {
		db.ckpt.close()
	}
	if db.writer != nil {
		db.writer <- struct{}{} // wait for the write in progress
		wc := db.wconn
		db.wconn = nil
		<-db.writer
		if wc != nil {
			wc.close()
		}
	}
	return db.bun.Close()
}
