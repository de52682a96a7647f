package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
)

// A PostgreSQL write transaction that may append events runs on a connection
// of its own, and the store sends BEGIN and COMMIT itself rather than through
// database/sql's Tx, so that each travels in a message the transaction sends
// anyway: BEGIN (with the writers lock) at the head of the first statement,
// COMMIT behind the statements the caller left for the end (Tx.SendWithCommit).
// A write of two statements then costs two round trips where database/sql
// needs four. See RATIONALE.md "PostgreSQL: BEGIN and COMMIT ride along".

// pgWrite is one attempt at a PostgreSQL write transaction on conn.
type pgWrite struct {
	db   *DB
	conn bun.Conn
	// ctx is fn's: it bounds the wait for the writers lock and the
	// statements; end sends the COMMIT and ROLLBACK messages, which always
	// run to their end (a COMMIT given up halfway leaves its outcome unknown).
	ctx, end context.Context
	// begun: a message carrying BEGIN was sent, so a transaction may be open
	// on conn until a COMMIT or ROLLBACK ends it.
	begun bool
}

// postgresWrite runs fn as one PostgreSQL write transaction, without
// sequencing its events (WriteTx does). Its first message starts with
// "BEGIN;" and the writers lock (writersLockKey), handed to fn as the
// prefix of its Tx.
//
// A parallel write holds that lock shared: parallel writes run side by side,
// locking the rows they change as they read them. Two of them that lock the
// same rows in different orders can deadlock; PostgreSQL then aborts one
// (nothing done), and it runs again alone. A write that is not parallel
// (alone) holds the lock exclusively: it waits for every write in flight to
// end and keeps new ones out until it commits, so it sees and changes the
// database as if no other write existed, and cannot deadlock with one. A
// serialization failure is run again alone the same way. fn must therefore
// have no effects outside the transaction.
//
// A transaction that may have appended events also tries to sequence them in
// its commit message, behind the COMMIT (moveIfFreeSQL): when no sequencer
// holds the lock, that saves the sequencer's own round trip.
func (db *DB) postgresWrite(ctx context.Context, parallel bool, fn func(t *Tx) error) (writeOutcome, error) {
	conn, err := db.bun.Conn(ctx)
	if err != nil {
		return writeOutcome{}, err
	}
	w := &pgWrite{db: db, conn: conn, ctx: ctx, end: context.WithoutCancel(ctx)}
	defer w.release()
	out, err := w.run(fn, db.writersLock(parallel))
	if err == nil || !parallel || !retryable(err) || ctx.Err() != nil {
		return out, err
	}
	db.writesRunAlone.Add(1)
	return w.run(fn, db.writersLock(false))
}

// writeOutcome is what a PostgreSQL write transaction did.
type writeOutcome struct {
	// sent: it sent anything; one that did nothing (fn neither ran a
	// statement nor left one for the commit) sends nothing at all, not
	// even BEGIN.
	sent bool
	// appended: it may have appended events (fn did not say otherwise).
	appended bool
	// sequenced: its commit message also made them readable.
	sequenced bool
}

// run is one attempt: fn, then the commit message, or ROLLBACK on failure.
func (w *pgWrite) run(fn func(t *Tx) error, lock string) (out writeOutcome, err error) {
	t := &Tx{ctx: w.ctx, kind: Postgres, tx: w.conn, prefix: &TxPrefix{SQL: "BEGIN;\n" + lock}}
	done := false
	defer func() {
		if !done { // fn panicked: roll back, and the panic goes on
			w.begun = t.prefix.Sent
			_ = w.rollback()
		}
	}()
	err = runTx(t, fn)
	done = true
	w.begun = t.prefix.Sent
	out.sent = t.prefix.Sent
	if err != nil {
		if rerr := w.rollback(); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return out, err
	}
	if !t.prefix.Sent && t.commitSQL == "" {
		return out, nil // nothing to do, nothing sent
	}
	out.sent, out.appended = true, !t.noEventsAppended
	msg := t.commitSQL + "COMMIT"
	if !t.prefix.Sent {
		msg = t.prefix.SQL + ";\n" + msg
		t.prefix.Sent, w.begun = true, true
	}
	if out.appended {
		err = w.conn.QueryRowContext(w.end, msg+";\n"+w.db.moveIfFree()).Scan(&out.sequenced)
	} else {
		_, err = w.conn.ExecContext(w.end, msg)
	}
	if err != nil {
		// Most likely a statement before the COMMIT failed (the COMMIT was
		// skipped and the transaction is open, aborted) or the COMMIT
		// itself did. (The move behind it cannot wait or conflict; only
		// the server failing, out of disk or memory, could fail it.)
		if rerr := w.rollback(); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return out, err
	}
	w.begun = false
	return out, nil
}

// rollback ends a transaction fn or its commit message left open (ROLLBACK
// outside a transaction is harmless: PostgreSQL only warns).
func (w *pgWrite) rollback() error {
	if !w.begun {
		return nil
	}
	if _, err := w.conn.ExecContext(w.end, "ROLLBACK"); err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	w.begun = false
	return nil
}

// release returns the connection to the pool, or closes it for good when a
// transaction may still be open on it (a ROLLBACK that failed, a panic):
// the next user of a pooled connection must not find itself inside one.
func (w *pgWrite) release() {
	if w.begun {
		discardConn(w.conn.Conn)
		return
	}
	_ = w.conn.Close()
}
