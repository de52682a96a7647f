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
	err  error
	pnc  any           // a panic in fn, re-raised in the caller's goroutine
	done chan struct{} // closed when err is final
	lead chan struct{} // signalled when this caller must lead the next batch
}

func (b *batcher) do(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{}), lead: make(chan struct{}, 1)}
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
			if err := lockOutbox(ctx, tx); err != nil {
				return err
			}
			return r.call(ctx, tx)
		})
		return
	}
	err := b.db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		// Savepoint bookkeeping rides along with the statement before it, so
		// a grouped write costs one extra round trip, not two.
		next := fmt.Sprintf("SELECT pg_advisory_xact_lock(%d); SAVEPOINT w", outboxLockKey)
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil {
				r.err = err
				continue
			}
			if _, err := tx.ExecContext(ctx, next); err != nil {
				return err
			}
			if r.err = r.call(context.WithoutCancel(r.ctx), tx); r.err != nil {
				next = "ROLLBACK TO SAVEPOINT w; RELEASE SAVEPOINT w; SAVEPOINT w"
			} else {
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
func (r *writeReq) call(ctx context.Context, tx bun.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.pnc = p
			err = fmt.Errorf("panic in write transaction: %v", p)
		}
	}()
	return r.fn(ctx, tx)
}

func lockOutbox(ctx context.Context, tx bun.Tx) error {
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", outboxLockKey); err != nil {
		return fmt.Errorf("lock outbox: %w", err)
	}
	return nil
}
