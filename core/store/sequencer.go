package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// sequencerLockKey is the PostgreSQL advisory lock only sequencers take (one
// sequencer at a time per database schema); event writers never take it.
const sequencerLockKey = 7301

// moveEventsSQL is one sequencer run: a single simple-query message, which
// PostgreSQL runs as one implicit transaction. Under the lock it moves every
// committed events_pending row into events, taking seqs in pending_id order;
// rows of transactions still open are invisible to the DELETE's snapshot and
// wait for a later run. The columns are listed explicitly: a new events column
// is added to events_pending (same migration) and to both lists here and in
// moveIfFreeQuery.
//
// The commit is asynchronous (synchronous_commit off) because losing it loses
// nothing: the DELETE and the INSERT commit or vanish together, so after a
// crash the rows are pending again and the next run moves them. Only the order
// of seqs matters, and a durable outbox cursor implies a durable move: WAL is
// flushed in order, and the cursor's commit (synchronous) comes after the move
// its reader saw. See RATIONALE.md "Events are sequenced after commit".
var (
	moveEventsHead = fmt.Sprintf("SET LOCAL synchronous_commit = off;\nSELECT pg_advisory_xact_lock(%d, %s);\n", sequencerLockKey, LockScope)
	moveEventsMove = `WITH moved AS (
	DELETE FROM events_pending
	RETURNING pending_id, id, type, payload, created_at, subscriber
)
INSERT INTO events (id, type, payload, created_at, subscriber)
SELECT id, type, payload, created_at, subscriber FROM moved ORDER BY pending_id`
	moveEventsSQL = moveEventsHead + moveEventsMove
	// moveEventsPrepared is moveEventsSQL with the move prepared (it runs
	// after every write that appended events).
	moveEventsPrepared = moveEventsHead + RegisterPostgresStatement("store_move_events", moveEventsMove).Execute
)

// moveIfFreeSQL is the sequencer run a write transaction appends to the
// message that commits it, behind the COMMIT: one statement that tries the
// sequencer lock without waiting and, if it got it, moves every committed
// events_pending row as moveEventsSQL does; it returns whether it got it.
// The lock is tried once (a materialized CTE, read by the DELETE as a
// one-time filter), so a run moves all it sees or nothing. Its snapshot is
// taken before the lock: a run that finished in between deleted rows this one
// still sees, which its DELETE then skips (deleted by a committed
// transaction), and it takes its seqs after that run committed. The writer's
// own rows, committed earlier in the message, are in the snapshot: when the
// lock was got they are readable when the message returns. When it was not,
// WriteTx falls back to DB.SequenceEvents, which waits for the lock.
var (
	moveIfFreeQuery = fmt.Sprintf(`WITH l AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(%d, %s) AS got),
moved AS (
	DELETE FROM events_pending WHERE (SELECT got FROM l)
	RETURNING pending_id, id, type, payload, created_at, subscriber
),
ins AS (
	INSERT INTO events (id, type, payload, created_at, subscriber)
	SELECT id, type, payload, created_at, subscriber FROM moved ORDER BY pending_id
)
SELECT got FROM l`, sequencerLockKey, LockScope)
	moveIfFreeSQL      = "SET LOCAL synchronous_commit = off;\n" + moveIfFreeQuery
	moveIfFreePrepared = "SET LOCAL synchronous_commit = off;\n" + RegisterPostgresStatement("store_move_events_if_free", moveIfFreeQuery).Execute
)

// moveIfFree is moveIfFreeSQL as this database sends it.
func (db *DB) moveIfFree() string {
	if db.prepared.Load() {
		return moveIfFreePrepared
	}
	return moveIfFreeSQL
}

// sequencer runs moveEventsSQL for this process, coalescing callers: a caller
// needs a run that starts after its own commit (an earlier run's snapshot may
// not see it), so it waits for the next run to start and end, and one run
// serves every caller that arrived before it started. Under load that is one
// run per in-flight run, not one per commit.
type sequencer struct {
	db *bun.DB
	// prepared is the store's DB.prepared: moveEventsPrepared may run.
	prepared *atomic.Bool

	mu      sync.Mutex
	cond    *sync.Cond
	running bool
	started uint64 // runs started so far
	ended   uint64 // runs ended so far (runs end in the order they start)
	lastErr error  // the error of run number ended
	moved   int64  // the rows run number ended moved
}

func newSequencer(db *bun.DB, prepared *atomic.Bool) *sequencer {
	s := &sequencer{db: db, prepared: prepared}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// sequenceTimeout bounds one run, which never waits for anything but the
// sequencer lock (held for one statement) and the database.
const sequenceTimeout = 30 * time.Second

// sync returns once a run that started after the call has ended, with what
// that run moved and its error (or a later run's, if the caller slept
// through its own).
func (s *sequencer) sync() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	target := s.started + 1
	for s.ended < target {
		if s.running {
			s.cond.Wait()
			continue
		}
		s.running = true
		s.started++
		n := s.started
		s.mu.Unlock()
		moved, err := s.run()
		s.mu.Lock()
		s.running = false
		s.ended, s.moved, s.lastErr = n, moved, err
		s.cond.Broadcast()
	}
	return s.moved, s.lastErr
}

func (s *sequencer) run() (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sequenceTimeout)
	defer cancel()
	q := moveEventsSQL
	if s.prepared.Load() {
		q = moveEventsPrepared
	}
	res, err := s.db.ExecContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("sequence events: %w", err)
	}
	// The message's last command, the INSERT, reports the rows moved.
	return res.RowsAffected()
}

// SequenceEvents makes the events of every transaction committed before the
// call readable (PostgreSQL: moves them from events_pending into events, see
// RATIONALE.md; SQLite writes events directly, so there is nothing to do).
// The engine calls it after each commit that wrote events, and the outbox
// dispatcher at every poll, which moves what a crashed instance left pending.
// An error leaves the rows pending for a later call; the writes that staged
// them are committed either way. A run serves several callers, so no
// caller's ctx cancels it; it is bounded by sequenceTimeout instead. moved
// counts the events that run made readable (0 on SQLite).
func (db *DB) SequenceEvents(ctx context.Context) (moved int64, err error) {
	if db.seq == nil {
		return 0, nil
	}
	return db.seq.sync()
}

// VacuumStaged makes the space of moved events_pending rows reusable
// (PostgreSQL; nothing to do on SQLite). Every move leaves the rows it took
// dead, and until a vacuum records their space as free, new rows extend the
// table, which every move scans whole: left to autovacuum, which looks once a
// minute, a busy server's moves scanned a table growing by ~30 pages a
// second. The outbox runs it at each poll. SKIP_LOCKED: if another instance
// is vacuuming it, that one suffices. A database role that does not own the
// table only gets a warning, and autovacuum is left to do it.
func (db *DB) VacuumStaged(ctx context.Context) error {
	if db.Kind != Postgres {
		return nil
	}
	_, err := db.bun.ExecContext(ctx, "VACUUM (SKIP_LOCKED) events_pending")
	return err
}
