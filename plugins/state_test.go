package plugins_test

import (
	"context"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

func stateValue(t *testing.T, db *store.DB, plugin, key string) (string, bool) {
	t.Helper()
	var v []byte
	err := db.QueryRowContext(context.Background(), `SELECT value FROM plugin_state WHERE plugin_id = ? AND key = ?`, plugin, []byte(key)).Scan(&v)
	if store.IsNoRows(err) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(v), true
}

// The counter plugin, loaded from a plugin folder and fed by the outbox,
// counts every event exactly once in its state; events it failed on (its
// writes dropped) and then saw again after an admin redelivery count once.
func TestPluginStateCountsEventsOnce(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		installPlugin(t, dir, buildOnce(t, "plugins/testdata/counter"), map[string]any{
			"id": "counter", "version": "1", "abi": 1, "events": []string{"*"},
		})
		sink := &logSink{}
		cfg := baseConfig(db, envMap{"TPG_PLUGIN_COUNTER_MODE": "check"}, sink)
		cfg.Dir = dir
		cfg.ReloadInterval = -1
		mgr := start(t, cfg)
		const n = 5
		for i := 0; i < n; i++ {
			appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("100"+string(rune('0'+i)), core.OrderPaid)})
		}
		mgr.Notify()
		waitFor(t, "all events acknowledged", 60*time.Second, func() bool {
			p := pluginInfo(t, mgr, "counter")
			return p.Pending == 0 && p.Position > 0
		})
		if v, _ := stateValue(t, db, "counter", "count"); v != "5" {
			t.Fatalf("count = %q after %d events, want 5 (info %+v)", v, n, pluginInfo(t, mgr, "counter"))
		}
		mgr.Close()

		// Restarted with a plugin that fails after writing: the event is
		// parked and its writes never land.
		cfg.Env = envMap{"TPG_PLUGIN_COUNTER_MODE": "fail"}.lookup
		cfg.Delivery.MaxAttempts = 2
		mgr = start(t, cfg)
		ev := appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("2000", core.OrderPaid)})
		mgr.Notify()
		waitFor(t, "the failing event parked", 60*time.Second, func() bool { return pluginInfo(t, mgr, "counter").Failed == 1 })
		if v, _ := stateValue(t, db, "counter", "count"); v != "5" {
			t.Fatalf("count = %q after a failed handler, want 5", v)
		}
		if _, ok := stateValue(t, db, "counter", "seen/"+ev.ID); ok {
			t.Fatal("a failed handler's write was stored")
		}
		mgr.Close()

		// Fixed and redelivered: counted once.
		cfg.Env = envMap{}.lookup
		mgr = start(t, cfg)
		if n, err := mgr.RedeliverAll(ctx); err != nil || n != 1 {
			t.Fatalf("redeliver = %d, %v", n, err)
		}
		waitFor(t, "the redelivery acknowledged", 60*time.Second, func() bool { return pluginInfo(t, mgr, "counter").Failed == 0 })
		if v, _ := stateValue(t, db, "counter", "count"); v != "6" {
			t.Fatalf("count = %q after the redelivery, want 6", v)
		}
	})
}
