package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// messageLog is a bun query hook recording every message sent to the server.
type messageLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *messageLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (l *messageLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, e.Query)
}

func (l *messageLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs
	l.msgs = nil
	return m
}

// pgTxFixture is a PostgreSQL store on one pooled connection (so a
// transaction left open would meet the next caller) with a table, and
// a log of the messages its writes send.
func pgTxFixture(t *testing.T) (*store.DB, *messageLog) {
	db, l, _ := pgTxFixtureURL(t)
	return db, l
}

func pgTxFixtureURL(t *testing.T) (*store.DB, *messageLog, string) {
	t.Helper()
	url := storetest.PostgresURL(t)
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(context.Background(), "CREATE TABLE side (k INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	l := &messageLog{}
	db.AddQueryHook(l)
	return db, l, url
}

func sideRows(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	// On a connection left inside a failed transaction this read fails
	// ("current transaction is aborted"); inside an open one it would see
	// that transaction's rows.
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM side").Scan(&n); err != nil {
		t.Fatalf("read after the write: %v", err)
	}
	return n
}

// TestPostgresWriteCarriesBeginAndCommit: an event-writing transaction of
// two statements costs two messages: BEGIN and the writers lock travel with
// the first statement, the statements left for the end with the COMMIT.
func TestPostgresWriteCarriesBeginAndCommit(t *testing.T) {
	db, l := pgTxFixture(t)
	ctx := context.Background()
	err := db.WriteTx(ctx, func(tx *store.Tx) error {
		tx.NoEventsAppended()
		conn, p := tx.Postgres()
		if p == nil {
			t.Fatal("no prefix handed over")
		}
		p.Sent = true
		if _, err := conn.ExecContext(tx.Context(), p.SQL+";\nINSERT INTO side VALUES (1)"); err != nil {
			return err
		}
		tx.SendWithCommit("INSERT INTO side VALUES (2);\n")
		return nil
	}, store.Parallel)
	if err != nil {
		t.Fatal(err)
	}
	msgs := l.take()
	if len(msgs) != 2 || !strings.HasPrefix(msgs[0], "BEGIN;") || !strings.HasSuffix(msgs[1], "COMMIT") {
		t.Fatalf("messages = %q, want [BEGIN; lock; INSERT] [INSERT; COMMIT]", msgs)
	}
	if !strings.Contains(msgs[0], "writers_lock_shared") && !strings.Contains(msgs[0], "pg_advisory_xact_lock_shared(7303") {
		t.Errorf("first message %q does not take the writers lock shared", msgs[0])
	}
	if n := sideRows(t, db); n != 2 {
		t.Fatalf("rows = %d, want 2", n)
	}
	l.take()

	// Only statements left for the commit: one message in all.
	err = db.WriteTx(ctx, func(tx *store.Tx) error {
		tx.NoEventsAppended()
		tx.SendWithCommit("INSERT INTO side VALUES (3);\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := l.take(); len(msgs) != 1 || !strings.HasPrefix(msgs[0], "BEGIN;") || !strings.Contains(msgs[0], "writers_lock_exclusive") || !strings.HasSuffix(msgs[0], "COMMIT") {
		t.Fatalf("messages = %q, want one: BEGIN; exclusive lock; INSERT; COMMIT", msgs)
	}
	// Nothing to do: nothing sent, not even BEGIN, and no sequencer run.
	if err := db.WriteTx(ctx, func(tx *store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if msgs := l.take(); len(msgs) != 0 {
		t.Fatalf("an empty write sent %q", msgs)
	}
	if n := sideRows(t, db); n != 3 {
		t.Fatalf("rows = %d, want 3", n)
	}
}

// TestPostgresFailedWriteLeavesNoTransactionOpen: whichever way a write
// fails (its function's error, a statement left for the commit, a panic),
// it changes nothing and the connection goes back to the pool outside any
// transaction: the next read and write on it work.
func TestPostgresFailedWriteLeavesNoTransactionOpen(t *testing.T) {
	db, _ := pgTxFixture(t)
	ctx := context.Background()
	insert := func(tx *store.Tx, k int) error {
		_, err := tx.IDB().ExecContext(tx.Context(), "INSERT INTO side VALUES (?)", k)
		return err
	}
	refused := errors.New("refused")
	cases := map[string]func(tx *store.Tx) error{
		"function error": func(tx *store.Tx) error {
			if err := insert(tx, 1); err != nil {
				return err
			}
			return refused
		},
		"statement left for the commit fails": func(tx *store.Tx) error {
			if err := insert(tx, 1); err != nil {
				return err
			}
			tx.SendWithCommit("INSERT INTO side VALUES (NULL);\n")
			return nil
		},
		"only statements left for the commit, one fails": func(tx *store.Tx) error {
			tx.SendWithCommit("INSERT INTO side VALUES (1);\nINSERT INTO side VALUES (NULL);\n")
			return nil
		},
		"statement fails": func(tx *store.Tx) error {
			if err := insert(tx, 1); err != nil {
				return err
			}
			_, err := tx.IDB().ExecContext(tx.Context(), "INSERT INTO side VALUES (NULL)")
			return err
		},
	}
	for name, fn := range cases {
		if err := db.WriteTx(ctx, fn, store.Parallel); err == nil {
			t.Fatalf("%s: the write succeeded", name)
		}
		if n := sideRows(t, db); n != 0 {
			t.Fatalf("%s: %d rows after a failed write", name, n)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not go on")
			}
		}()
		_ = db.WriteTx(ctx, func(tx *store.Tx) error {
			if err := insert(tx, 1); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if n := sideRows(t, db); n != 0 {
		t.Fatalf("panic: %d rows after the write", n)
	}
	if err := db.WriteTx(ctx, func(tx *store.Tx) error { return insert(tx, 7) }); err != nil {
		t.Fatalf("write after the failures: %v", err)
	}
	if n := sideRows(t, db); n != 1 {
		t.Fatalf("rows = %d, want 1", n)
	}
}

// TestPostgresCommitMessageSequencesEvents: an event-writing transaction's
// commit message also moves its events into the outbox when no sequencer
// holds the lock (no further message); when one does, WriteTx waits for it
// and sequences them itself, and either way the events are readable, in
// order, when WriteTx returns.
func TestPostgresCommitMessageSequencesEvents(t *testing.T) {
	db, l, url := pgTxFixtureURL(t)
	db.SetMaxOpenConns(4)
	ctx := context.Background()
	appendTwo := func() []core.Event {
		now := time.Now()
		evs := []core.Event{
			{ID: store.NewEventID(), Type: core.EventNewOrder, CreatedAt: now, Payload: []byte(`{"n":1}`)},
			{ID: store.NewEventID(), Type: core.EventOrderPaid, CreatedAt: now, Payload: []byte(`{"n":2}`)},
		}
		if err := db.WriteTx(ctx, func(stx *store.Tx) error {
			return store.AppendEvents(stx.Context(), stx.IDB(), db.Kind, evs)
		}, store.Parallel); err != nil {
			t.Error(err)
		}
		return evs
	}
	readable := func(after int64, evs []core.Event) {
		t.Helper()
		got, err := store.EventsAfter(ctx, db, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(evs) || got[0].ID != evs[0].ID || got[1].ID != evs[1].ID {
			t.Fatalf("outbox after WriteTx holds %d events, want the %d appended, in order", len(got), len(evs))
		}
	}

	l.take()
	evs := appendTwo()
	msgs := l.take()
	if len(msgs) == 0 || !strings.HasPrefix(msgs[len(msgs)-1], "COMMIT;\nSET LOCAL synchronous_commit = off") {
		t.Fatalf("messages = %q, want the last to carry COMMIT and the move, and nothing after it", msgs)
	}
	readable(0, evs)

	// A sequencer holds the lock: the commit message cannot move them, and
	// WriteTx does once the lock is free.
	before, err := store.LastEventSeq(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	holder, err := store.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := store.Bun(holder).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7301, "+store.LockScope+")"); err != nil {
		t.Fatal(err)
	}
	done := make(chan []core.Event)
	go func() { done <- appendTwo() }()
	// The write committed (its rows wait in events_pending) and waits for
	// the lock to sequence them.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM events_pending").Scan(&n); err == nil && n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the write's events never reached events_pending")
		}
	}
	select {
	case <-done:
		t.Fatal("WriteTx returned while its events could not be sequenced")
	default:
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock(7301, "+store.LockScope+")"); err != nil {
		t.Fatal(err)
	}
	readable(before, <-done)
}

// TestPostgresAutocommitWriteIsOneMessage: a store.Autocommit write is its
// statement alone (no BEGIN, no COMMIT, no writers lock), so it does not wait
// for a write that runs alone.
func TestPostgresAutocommitWriteIsOneMessage(t *testing.T) {
	db, l := pgTxFixture(t)
	db.SetMaxOpenConns(2)
	ctx := context.Background()
	release := holdWriteAlone(t, db)
	l.take()
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := db.WriteTx(short, func(tx *store.Tx) error {
		_, err := tx.IDB().ExecContext(tx.Context(), "INSERT INTO side VALUES (1)")
		return err
	}, store.Autocommit)
	msgs := l.take()
	if rerr := release(); rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatalf("autocommit write beside a write running alone: %v", err)
	}
	if len(msgs) != 1 || msgs[0] != "INSERT INTO side VALUES (1)" {
		t.Fatalf("messages = %q, want the statement alone", msgs)
	}
	if n := sideRows(t, db); n != 1 {
		t.Fatalf("rows = %d, want 1", n)
	}
}
