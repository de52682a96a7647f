package plugins_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/plugins"
)

// mutableEnv is plugin configuration a test changes while the manager runs.
type mutableEnv struct {
	mu sync.Mutex
	m  map[string]string
}

func (e *mutableEnv) lookup(k string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.m[k]
	return v, ok
}

func (e *mutableEnv) set(k, v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[k] = v
}

func stateInt(t *testing.T, db *store.DB, plugin, key string) int {
	t.Helper()
	v, ok := stateValue(t, db, plugin, key)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("state %s/%s = %q", plugin, key, v)
	}
	return n
}

// tickEvents lists the Tick events addressed to subscriber, oldest first.
func tickEvents(t *testing.T, db *store.DB, subscriber string) []core.TickEvent {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT payload FROM events WHERE type = 'Tick' AND subscriber = ? ORDER BY seq`, subscriber)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []core.TickEvent
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		var te core.TickEvent
		if err := json.Unmarshal([]byte(p), &te); err != nil {
			t.Fatal(err)
		}
		out = append(out, te)
	}
	return out
}

// Two server instances (two managers, each with its own dispatcher) on one
// database both run a plugin scheduled every second: each period gets one
// Tick, delivered once, and a plugin subscribed to every event type ("*")
// receives none of another plugin's Ticks.
func TestScheduleOneTickPerPeriodAcrossInstances(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		installPlugin(t, dir, buildOnce(t, "plugins/testdata/scheduled"), map[string]any{
			"id": "scheduled", "version": "1", "abi": 1, "schedule": map[string]string{"every": "1s"},
		})
		installPlugin(t, dir, buildOnce(t, "plugins/testdata/counter"), map[string]any{
			"id": "counter", "version": "1", "abi": 1, "events": []string{"*"},
		})
		var mgrs []*plugins.Manager
		for range 2 {
			cfg := baseConfig(db, envMap{}, &logSink{})
			cfg.Dir = dir
			cfg.ReloadInterval = -1
			mgrs = append(mgrs, start(t, cfg))
		}
		waitFor(t, "four ticks", 60*time.Second, func() bool { return stateInt(t, db, "scheduled", "ticks") >= 4 })
		for _, m := range mgrs {
			m.Close()
		}
		ticks := tickEvents(t, db, "scheduled")
		seen := map[time.Time]bool{}
		for i, te := range ticks {
			if seen[te.PeriodStart] {
				t.Fatalf("period %s has two Ticks: %+v", te.PeriodStart, ticks)
			}
			seen[te.PeriodStart] = true
			if te.PeriodSeconds != 1 || !te.PeriodStart.Equal(te.PeriodStart.Truncate(time.Second)) {
				t.Fatalf("tick %d = %+v", i, te)
			}
		}
		// Closed managers finish their in-flight delivery: whatever was
		// appended is delivered or still pending, never twice.
		delivered := stateInt(t, db, "scheduled", "ticks")
		if delivered < 4 || delivered > len(ticks) || stateInt(t, db, "scheduled", "dupes") != 0 {
			t.Fatalf("%d ticks appended, %d delivered, %d duplicate periods", len(ticks), delivered, stateInt(t, db, "scheduled", "dupes"))
		}
		if n := stateInt(t, db, "counter", "count"); n != 0 {
			t.Fatalf("the counter plugin (events *) received %d events, want none of another plugin's Ticks", n)
		}
		var rows int
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox_ticks WHERE subscriber_id = 'scheduled'`).Scan(&rows); err != nil || rows != len(ticks) {
			t.Fatalf("outbox_ticks rows = %d (%v), ticks = %d", rows, err, len(ticks))
		}
	})
}

// A Tick whose handler fails is retried, then parked like any event (its
// state writes dropped); an admin redelivery runs it again once fixed.
func TestScheduledTickParkedAndRedelivered(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		installPlugin(t, dir, buildOnce(t, "plugins/testdata/scheduled"), map[string]any{
			// One period a week: the test sees the current period's Tick only.
			"id": "scheduled", "version": "1", "abi": 1, "events": []string{"OrderPaid"}, "schedule": map[string]string{"every": "168h"},
		})
		env := &mutableEnv{m: map[string]string{"TPG_PLUGIN_SCHEDULED_MODE": "fail"}}
		cfg := baseConfig(db, nil, &logSink{})
		cfg.Env = env.lookup
		cfg.Dir = dir
		cfg.ReloadInterval = -1
		mgr := start(t, cfg)
		var failed []plugins.FailedDelivery
		waitFor(t, "the failing Tick parked", 60*time.Second, func() bool {
			var err error
			failed, err = mgr.FailedDeliveries(ctx)
			return err == nil && len(failed) == 1
		})
		if f := failed[0]; f.EventType != "Tick" || f.PluginID != "scheduled" || f.Attempts != cfg.Delivery.MaxAttempts {
			t.Fatalf("parked %+v", f)
		}
		if n := stateInt(t, db, "scheduled", "ticks"); n != 0 {
			t.Fatalf("a failed Tick handler's writes were stored: ticks = %d", n)
		}
		// Other events still flow past the parked Tick.
		appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("t-1", core.OrderPaid)})
		mgr.Notify()
		waitFor(t, "the OrderPaid event", 30*time.Second, func() bool { return stateInt(t, db, "scheduled", "events") == 1 })

		env.set("TPG_PLUGIN_SCHEDULED_MODE", "")
		if n, err := mgr.RedeliverAll(ctx); err != nil || n != 1 {
			t.Fatalf("redeliver = %d, %v", n, err)
		}
		waitFor(t, "the redelivered Tick", 30*time.Second, func() bool { return stateInt(t, db, "scheduled", "ticks") == 1 })
		if len(tickEvents(t, db, "scheduled")) != 1 {
			t.Fatalf("ticks appended: %+v", tickEvents(t, db, "scheduled"))
		}
		// A restart within the period appends no second Tick.
		mgr.Close()
		mgr = start(t, cfg)
		appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("t-2", core.OrderPaid)})
		mgr.Notify()
		waitFor(t, "the second OrderPaid event", 30*time.Second, func() bool { return stateInt(t, db, "scheduled", "events") == 2 })
		if n := len(tickEvents(t, db, "scheduled")); n != 1 {
			t.Fatalf("%d Ticks after a restart within the period, want 1", n)
		}
	})
}

func TestScheduleManifestChecks(t *testing.T) {
	for _, m := range []string{
		`{"id":"a","version":"1","abi":1,"schedule":{"every":"500ms"}}`,
		`{"id":"a","version":"1","abi":1,"schedule":{"every":"1.5s"}}`,
		`{"id":"a","version":"1","abi":1,"schedule":{"every":"soon"}}`,
		`{"id":"a","version":"1","abi":1,"events":["Tick"]}`,
		`{"id":"a","version":"1","abi":1,"events":["*"],"actions":["rates:delete"]}`,
		`{"id":"a","version":"1","abi":1}`,
	} {
		if err := plugins.CheckManifest([]byte(m)); err == nil {
			t.Errorf("manifest %s accepted", m)
		}
	}
	for _, m := range []string{
		`{"id":"a","version":"1","abi":1,"schedule":{"every":"5m"}}`,
		`{"id":"a","version":"1","abi":1,"events":["OrderPaid"],"schedule":{"every":"1h"},"actions":["rates:write","orders:read","payments:read"]}`,
	} {
		if err := plugins.CheckManifest([]byte(m)); err != nil {
			t.Errorf("manifest %s refused: %v", m, err)
		}
	}
}
