package outbox_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// seqHelperEnv makes the test binary a writer process that the test kills
// (see runSeqHelper): "<mode> <database url>".
const seqHelperEnv = "TPS_OUTBOX_TEST_SEQ_HELPER"

// seqTxsEnv sets how many transactions each writer of
// TestParallelWritersEventsArriveOnceInOrder commits (default 25); the long
// run uses a few hundred.
const seqTxsEnv = "TPG_TEST_SEQUENCER_TXS"

func TestMain(m *testing.M) {
	if v := os.Getenv(seqHelperEnv); v != "" {
		runSeqHelper(v) // never returns
	}
	os.Exit(m.Run())
}

// runSeqHelper is a writer in its own process. Mode "open" appends events
// in a transaction and, with the transaction still open, prints their ids
// and waits to be killed: they must never be delivered. Mode "committed"
// (PostgreSQL) commits its events without sequencing them, as if the process
// died right after COMMIT, prints their ids and waits to be killed: they must
// be delivered anyway.
func runSeqHelper(v string) {
	mode, url, _ := strings.Cut(v, " ")
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		panic(err)
	}
	now := time.Now()
	evs := make([]core.Event, 3)
	ids := make([]string, len(evs))
	for i := range evs {
		payload, _ := json.Marshal(map[string]any{"w": -1, "k": 0, "j": i, "mode": mode})
		evs[i] = core.Event{ID: store.NewEventID(), Type: core.EventNewOrder, CreatedAt: now, Payload: payload}
		ids[i] = evs[i].ID
	}
	switch mode {
	case "open":
		// The transaction stays open until the process is killed.
		go func() {
			_ = db.WriteTx(ctx, func(stx *store.Tx) error {
				if err := store.AppendEvents(stx.Context(), stx.IDB(), db.Kind, evs); err != nil {
					panic(err)
				}
				fmt.Println("ready " + strings.Join(ids, ","))
				select {}
			}, store.Parallel)
		}()
		select {}
	case "committed":
		// Committed, then killed before sequencing: NoEventsAppended skips
		// the sequencer run after the commit, as the kill would.
		err := db.WriteTx(ctx, func(stx *store.Tx) error {
			stx.NoEventsAppended()
			return store.AppendEvents(stx.Context(), stx.IDB(), db.Kind, evs)
		}, store.Parallel)
		if err != nil {
			panic(err)
		}
	default:
		panic("unknown helper mode " + mode)
	}
	fmt.Println("ready " + strings.Join(ids, ","))
	select {}
}

// startSeqHelper runs a helper process and returns the ids of its events
// once it is ready, and a function that SIGKILLs it.
func startSeqHelper(t *testing.T, mode, url string) (ids []string, kill func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), seqHelperEnv+"="+mode+" "+url)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	kill = func() {
		if !killed {
			killed = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(kill)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
			return strings.Split(rest, ","), kill
		}
	}
	t.Fatalf("helper %s ended before it was ready: %v", mode, sc.Err())
	return nil, nil
}

// seqLog is what one subscriber received, across every instance.
type seqLog struct {
	mu  sync.Mutex
	evs []core.Event
}

type seqSub struct {
	id    string
	types []core.EventType
	log   *seqLog
}

func (s *seqSub) ID() string                   { return s.id }
func (s *seqSub) EventTypes() []core.EventType { return s.types }
func (s *seqSub) Deliver(_ context.Context, ev core.Event) error {
	s.log.mu.Lock()
	s.log.evs = append(s.log.evs, ev)
	s.log.mu.Unlock()
	return nil
}

func (l *seqLog) snapshot() []core.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]core.Event(nil), l.evs...)
}

// seqEvent is an event outside the writers' numbering (w < 0).
func seqEvent(w int) core.Event {
	payload, _ := json.Marshal(seqPayload{W: w})
	return core.Event{ID: store.NewEventID(), Type: core.EventNewOrder, CreatedAt: time.Now(), Payload: payload}
}

// seqPayload is what the writers put in their events: writer, transaction
// and position in the transaction.
type seqPayload struct {
	W, K, J int
}

// TestParallelWritersEventsArriveOnceInOrder: several instances (each its
// own pool and its own outbox dispatcher) on one database, several writers
// each, write events concurrently (on PostgreSQL without any lock between
// them, some holding their transaction open for a while); meanwhile one
// writer process is SIGKILLed with its transaction open and, on PostgreSQL,
// one is killed right after committing, before sequencing, and one
// transaction stays open until an event committed after it was delivered.
// Every subscriber
// (one for every type, one for a single type) must receive every committed
// event it wants exactly once, in increasing seq, each writer's events in
// the order it wrote them, and nothing of the transaction that never
// committed. PostgreSQL ends with nothing left in events_pending.
func TestParallelWritersEventsArriveOnceInOrder(t *testing.T) {
	txs := 25
	if v := os.Getenv(seqTxsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", seqTxsEnv, v)
		}
		txs = n
	}
	urls := []struct{ name, url string }{{"sqlite", storetest.SQLiteURL(t)}}
	if os.Getenv(storetest.PostgresEnv) != "" {
		urls = append(urls, struct{ name, url string }{"postgres", storetest.PostgresURL(t)})
	}
	for _, u := range urls {
		t.Run(u.name, func(t *testing.T) { testParallelWriters(t, u.url, txs) })
	}
}

func testParallelWriters(t *testing.T, url string, txs int) {
	ctx := context.Background()
	const instances, writersPer = 3, 4
	subs := []struct {
		id    string
		types []core.EventType
	}{{"every", nil}, {"paid-only", []core.EventType{core.EventOrderPaid}}}
	logs := map[string]*seqLog{}
	for _, s := range subs {
		logs[s.id] = &seqLog{}
	}
	var dbs []*store.DB
	var ds []*outbox.Dispatcher
	for range instances {
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		d := outbox.New(db, outbox.Options{PollInterval: 50 * time.Millisecond, Lease: 5 * time.Second, BatchSize: 16, Logger: quiet()})
		for _, s := range subs {
			if err := d.Register(ctx, &seqSub{id: s.id, types: s.types, log: logs[s.id]}); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(d.Close)
		dbs, ds = append(dbs, db), append(ds, d)
	}
	for _, d := range ds {
		d.Start()
	}
	kind := dbs[0].Kind

	// The committed events: by id, with their type.
	var mu sync.Mutex
	committed := map[string]core.EventType{}
	var wg sync.WaitGroup
	var failures []error
	writer := func(inst, w int) {
		defer wg.Done()
		db, d := dbs[inst], ds[inst]
		r := rand.New(rand.NewPCG(uint64(w), 7))
		for k := range txs {
			n := 1 + r.IntN(3)
			evs := make([]core.Event, n)
			for j := range evs {
				typ := core.EventNewOrder
				if r.IntN(2) == 0 {
					typ = core.EventOrderPaid
				}
				payload, _ := json.Marshal(seqPayload{W: w, K: k, J: j})
				evs[j] = core.Event{ID: store.NewEventID(), Type: typ, CreatedAt: time.Now(), Payload: payload}
			}
			hold := kind == store.Postgres && r.IntN(4) == 0
			err := db.WriteTx(ctx, func(stx *store.Tx) error {
				ctx, tx := stx.Context(), stx.IDB()
				if err := store.AppendEvents(ctx, tx, db.Kind, evs); err != nil {
					return err
				}
				if hold {
					// Commit late: later transactions of other writers
					// commit meanwhile.
					_, err := tx.ExecContext(ctx, "SELECT pg_sleep(?)", float64(r.IntN(20))/1000)
					return err
				}
				return nil
			}, store.Parallel) // as the engine's parallel writes
			if err != nil {
				mu.Lock()
				failures = append(failures, fmt.Errorf("writer %d tx %d: %w", w, k, err))
				mu.Unlock()
				return
			}
			mu.Lock()
			for _, ev := range evs {
				committed[ev.ID] = ev.Type
			}
			mu.Unlock()
			d.Notify()
		}
	}
	for inst := range instances {
		for w := range writersPer {
			wg.Add(1)
			go writer(inst, inst*writersPer+w)
		}
	}
	if kind == store.Postgres {
		// Deterministically late: a transaction stages its event, then stays
		// open until an event committed after it has been delivered. A
		// design that gave it its seq before committing would have that
		// reader past its seq by then, and never deliver it.
		wg.Add(1)
		go func() {
			defer wg.Done()
			late := seqEvent(-2)
			staged := make(chan struct{})
			marker := seqEvent(-3)
			go func() {
				<-staged
				if err := dbs[1].WriteTx(ctx, func(stx *store.Tx) error {
					ctx, tx := stx.Context(), stx.IDB()
					return store.AppendEvents(ctx, tx, kind, []core.Event{marker})
				}, store.Parallel); err != nil {
					t.Error(err)
				}
				mu.Lock()
				committed[marker.ID] = marker.Type
				mu.Unlock()
				ds[1].Notify()
			}()
			err := dbs[0].WriteTx(ctx, func(stx *store.Tx) error {
				ctx, tx := stx.Context(), stx.IDB()
				if err := store.AppendEvents(ctx, tx, kind, []core.Event{late}); err != nil {
					return err
				}
				close(staged)
				deadline := time.Now().Add(30 * time.Second)
				for !slices.ContainsFunc(logs["every"].snapshot(), func(ev core.Event) bool { return ev.ID == marker.ID }) {
					if time.Now().After(deadline) {
						return errors.New("the event committed after the open transaction was not delivered within 30 s")
					}
					time.Sleep(5 * time.Millisecond)
				}
				return nil
			}, store.Parallel)
			if err != nil {
				mu.Lock()
				failures = append(failures, fmt.Errorf("late writer: %w", err))
				mu.Unlock()
				return
			}
			mu.Lock()
			committed[late.ID] = late.Type
			mu.Unlock()
			ds[0].Notify()
		}()
	}
	// Mid-run: a writer process dies with its transaction open, and (on
	// PostgreSQL) one dies between its commit and the sequencing.
	openIDs, killOpen := startSeqHelper(t, "open", url)
	var lateIDs []string
	if kind == store.Postgres {
		var killLate func()
		lateIDs, killLate = startSeqHelper(t, "committed", url)
		killLate()
		mu.Lock()
		for _, id := range lateIDs {
			committed[id] = core.EventNewOrder
		}
		mu.Unlock()
	}
	killOpen()
	wg.Wait()
	for _, err := range failures {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	want := func(types []core.EventType) map[string]bool {
		out := map[string]bool{}
		for id, typ := range committed {
			if len(types) == 0 || typ == types[0] {
				out[id] = true
			}
		}
		return out
	}
	deadline := time.Now().Add(time.Minute)
	for _, s := range subs {
		wanted := want(s.types)
		for {
			got := logs[s.id].snapshot()
			if len(got) >= len(wanted) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d of %d events delivered after a minute", s.id, len(got), len(wanted))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for _, d := range ds {
		d.Close()
	}
	for _, s := range subs {
		wanted := want(s.types)
		got := logs[s.id].snapshot()
		seen := map[string]bool{}
		last := map[int]seqPayload{}
		var lastSeq int64
		for _, ev := range got {
			if seen[ev.ID] {
				t.Errorf("%s: event %s (seq %d) delivered twice", s.id, ev.ID, ev.Seq)
			}
			seen[ev.ID] = true
			if !wanted[ev.ID] {
				t.Errorf("%s: event %s (seq %d, %s) delivered but never committed (or not wanted)", s.id, ev.ID, ev.Seq, ev.Payload)
			}
			if ev.Seq <= lastSeq {
				t.Errorf("%s: seq %d delivered after %d", s.id, ev.Seq, lastSeq)
			}
			lastSeq = ev.Seq
			var p seqPayload
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatal(err)
			}
			if prev, ok := last[p.W]; ok && p.W >= 0 && (p.K < prev.K || p.K == prev.K && p.J <= prev.J) {
				t.Errorf("%s: writer %d's event (tx %d, #%d) delivered after its (tx %d, #%d)", s.id, p.W, p.K, p.J, prev.K, prev.J)
			}
			last[p.W] = p
		}
		if len(seen) != len(wanted) {
			t.Errorf("%s: %d distinct events delivered, %d committed", s.id, len(seen), len(wanted))
		}
		if s.types == nil {
			for _, id := range openIDs {
				if seen[id] {
					t.Errorf("event %s of the killed open transaction was delivered", id)
				}
			}
			for _, id := range lateIDs {
				if !seen[id] {
					t.Errorf("event %s committed by the process killed before sequencing was never delivered", id)
				}
			}
		}
		t.Logf("%s: %d events delivered once each, in order", s.id, len(got))
	}
	if kind == store.Postgres {
		var pending int
		if err := dbs[0].NewSelect().TableExpr("events_pending").ColumnExpr("count(*)").Scan(ctx, &pending); err != nil || pending != 0 {
			t.Errorf("events_pending holds %d rows at the end (%v)", pending, err)
		}
	}
}

// TestDispatcherSequencesWhatACrashLeftPending (PostgreSQL): events
// committed but never sequenced (their writer died in between) and no
// other write after them: only the dispatcher's poll can move them, and it
// does, so they are delivered.
func TestDispatcherSequencesWhatACrashLeftPending(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	log := &seqLog{}
	d := outbox.New(db, outbox.Options{PollInterval: 50 * time.Millisecond, Lease: 5 * time.Second, Logger: quiet()})
	if err := d.Register(ctx, &seqSub{id: "after-crash", log: log}); err != nil {
		t.Fatal(err)
	}
	evs := []core.Event{seqEvent(1), seqEvent(2)}
	// The writer "dies" between commit and sequencing: NoEventsAppended
	// skips the sequencer run after the commit.
	if err := db.WriteTx(ctx, func(stx *store.Tx) error {
		stx.NoEventsAppended()
		return store.AppendEvents(stx.Context(), stx.IDB(), db.Kind, evs)
	}, store.Parallel); err != nil {
		t.Fatal(err)
	}
	if got, err := store.EventsAfter(ctx, db, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("events readable before any sequencing: %v (%v)", got, err)
	}
	d.Start()
	defer d.Close()
	waitFor(t, "the staged events delivered", func() bool { return len(log.snapshot()) == len(evs) })
	for i, ev := range log.snapshot() {
		if ev.ID != evs[i].ID {
			t.Fatalf("delivered %s as #%d, want %s", ev.ID, i, evs[i].ID)
		}
	}
}
