package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/uptrace/bun"
)

// maxBatch bounds how many write transactions share one PostgreSQL commit, so
// the advisory lock is never held for long.
const maxBatch = 64

// batcher is group commit for PostgreSQL. Event-writing transactions must
// commit one at a time (see outboxLockKey), so each commit would wait for the
// previous one's WAL flush: throughput was capped at the disk's fsync rate.
// Instead, the write transactions that queue up while one commit is in flight
// run back to back in the next transaction, each inside its own savepoint, and
// share its single commit. Each still sees the ones before it, exactly as if
// they had committed in turn; a failing one rolls back to its savepoint and
// leaves the others alone; nobody is told "committed" before the COMMIT.
//
// There is no background goroutine: the first caller to find no batch running
// leads; when it is done, it hands the lead to the oldest waiting caller.
type batcher struct {
	db *bun.DB

	mu      sync.Mutex
	queue   []*writeReq
	leading bool
}

// writeReq is one WriteTx call. Once its turn comes it runs to the end: the
// transaction may be shared, so no caller's cancellation may abort it (and a
// cancelled query can leave a PostgreSQL connection unusable); a caller whose
// context ended before its turn is skipped.
type writeReq struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx bun.Tx) error
	pfn  func(ctx context.Context, tx bun.Tx, p *TxPrefix) error // WriteTxPrefixed's, instead of fn
	err  error
	pnc  any           // a panic in fn, re-raised in the caller's goroutine
	done chan struct{} // closed when err is final
	lead chan struct{} // signalled when this caller must lead the next batch
}

func (b *batcher) do(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error, pfn func(ctx context.Context, tx bun.Tx, p *TxPrefix) error) error {
	r := &writeReq{ctx: ctx, fn: fn, pfn: pfn, done: make(chan struct{}), lead: make(chan struct{}, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, r)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if !lead {
		select {
		case <-r.done:
		case <-r.lead:
			lead = true
		}
	}
	if lead {
		b.run()
		<-r.done
	}
	if r.pnc != nil {
		panic(r.pnc)
	}
	return r.err
}

// run commits one batch, which always holds the leader's own request (it is
// the oldest queued), then passes the lead on or ends it when nobody waits.
// It does so even if the commit panics (a bug below fn, which recovers its
// own panics): the waiters then fail instead of waiting forever.
func (b *batcher) run() {
	b.mu.Lock()
	n := min(len(b.queue), maxBatch)
	batch := b.queue[:n:n]
	b.queue = b.queue[n:]
	b.mu.Unlock()

	committed := false
	defer func() {
		for _, r := range batch {
			if !committed && r.err == nil { // a panic in fn set r.err too
				r.err = ErrBatchAborted
			}
			close(r.done)
		}
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.leading = false
			b.mu.Unlock()
			return
		}
		next := b.queue[0]
		b.mu.Unlock()
		next.lead <- struct{}{}
	}()
	b.commit(batch)
	committed = true
}

// ErrBatchAborted is returned to the writes of a PostgreSQL batch whose
// commit panicked; the transaction rolled back.
var ErrBatchAborted = errors.New("write transaction aborted: its batch failed unexpectedly")

// commit runs the batch in one transaction under the outbox lock.
func (b *batcher) commit(batch []*writeReq) {
	if len(batch) == 1 {
		// Alone: exactly a plain transaction (no savepoint round trips).
		r := batch[0]
		if r.err = r.ctx.Err(); r.err != nil {
			return
		}
		r.err = b.db.RunInTx(context.WithoutCancel(r.ctx), nil, func(ctx context.Context, tx bun.Tx) error {
			if r.pfn != nil {
				// The lock rides on the write's first statement.
				return r.call(ctx, tx, &TxPrefix{SQL: lockSQL})
			}
			if err := lockOutbox(ctx, tx); err != nil {
				return err
			}
			return r.call(ctx, tx, nil)
		})
		return
	}
	err := b.db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		// Savepoint bookkeeping rides along with the statement before it, so
		// a grouped write costs one extra round trip, not two; with
		// WriteTxPrefixed it rides on the write's own first statement and
		// costs none.
		next := lockSQL + "; SAVEPOINT w"
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil {
				r.err = err
				continue
			}
			sent := true
			if r.pfn != nil {
				p := &TxPrefix{SQL: next}
				r.err = r.call(context.WithoutCancel(r.ctx), tx, p)
				sent = p.Sent
			} else {
				if _, err := tx.ExecContext(ctx, next); err != nil {
					return err
				}
				r.err = r.call(context.WithoutCancel(r.ctx), tx, nil)
			}
			switch {
			case !sent:
				// The write sent nothing (not even next): the transaction
				// is as it was, and next still has to run.
			case r.err != nil:
				next = "ROLLBACK TO SAVEPOINT w; RELEASE SAVEPOINT w; SAVEPOINT w"
			default:
				next = "RELEASE SAVEPOINT w; SAVEPOINT w"
			}
		}
		_, err := tx.ExecContext(ctx, strings.TrimSuffix(next, "; SAVEPOINT w"))
		return err
	})
	if err != nil {
		// Nothing committed: every write without an error of its own (it
		// succeeded or never ran) fails with the transaction's.
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
		}
	}
}

// call runs the caller's function, turning a panic into an error here (the
// batch must go on) and a panic again in the caller's goroutine.
func (r *writeReq) call(ctx context.Context, tx bun.Tx, p *TxPrefix) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.pnc = p
			err = fmt.Errorf("panic in write transaction: %v", p)
		}
	}()
	if r.pfn != nil {
		return r.pfn(ctx, tx, p)
	}
	return r.fn(ctx, tx)
}

// lockSQL takes the outbox lock until the transaction ends. As a DO block
// it returns no rows, so it can precede a query in one message (the driver
// reads the first result set that has rows).
var lockSQL = fmt.Sprintf("DO 'BEGIN PERFORM pg_advisory_xact_lock(%d); END'", outboxLockKey)

// TxPrefix is SQL a PostgreSQL write transaction must run before anything
// else (the outbox lock, savepoint bookkeeping), handed to a
// WriteTxPrefixed function so that it travels in the same message as the
// function's first statement instead of costing a round trip of its own.
type TxPrefix struct {
	SQL  string
	Sent bool // set by the function once a message carrying SQL was sent
}

func lockOutbox(ctx context.Context, tx bun.Tx) error {
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", outboxLockKey); err != nil {
		return fmt.Errorf("lock outbox: %w", err)
	}
	return nil
}
