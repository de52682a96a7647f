package plugins_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/plugins"
)

// A plugin disabled for crashing comes back through EnablePlugin (what
// POST /api/plugins/:id/enable calls): crash count reset, fresh instance,
// and the events that waited while it was disabled are delivered.
func TestEnabledPluginReceivesEventsAgain(t *testing.T) {
	db := storetest.SQLite(t)
	hostile := buildOnce(t, "plugins/testdata/hostile")
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			ID string `json:"id"`
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &ev)
		mu.Lock()
		seen[ev.ID] = true
		mu.Unlock()
	}))
	defer srv.Close()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}

	dir := t.TempDir()
	installPlugin(t, dir, hostile, map[string]any{"id": "flaky", "version": "0.1.0", "abi": 1, "events": []string{"*"},
		"http_from_config": []string{"URL"}, "limits": map[string]any{"timeout_ms": 30000, "memory_pages": 256}})
	var envMu sync.Mutex
	env := envMap{"TPG_PLUGIN_FLAKY_MODE": "exit", "TPG_PLUGIN_FLAKY_URL": srv.URL}
	cfg := baseConfig(db, env, &logSink{})
	cfg.Env = func(k string) (string, bool) {
		envMu.Lock()
		defer envMu.Unlock()
		return env.lookup(k)
	}
	cfg.Dir, cfg.NoDefaults, cfg.CrashLimit = dir, true, 2
	cfg.Delivery = fastDelivery()
	mgr := start(t, cfg)

	var evs []core.Event
	for i := 0; i < 3; i++ {
		evs = append(evs, appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("5000", core.OrderPaid)}))
	}
	mgr.Notify()
	waitFor(t, "plugin disabled", 60*time.Second, func() bool { return pluginInfo(t, mgr, "flaky").State == plugins.StateDisabled })
	if p := pluginInfo(t, mgr, "flaky"); p.Pending != 3 || count() != 0 {
		t.Fatalf("disabled plugin = %+v, %d delivered", p, count())
	}

	envMu.Lock()
	env["TPG_PLUGIN_FLAKY_MODE"] = "echo" // the cause is fixed (say, the remote end is back)
	envMu.Unlock()
	info, err := mgr.EnablePlugin(context.Background(), "flaky")
	if err != nil {
		t.Fatal(err)
	}
	if info.State != plugins.StateActive || info.ConsecutiveCrashes != 0 || info.Error != "" {
		t.Fatalf("after EnablePlugin: %+v", info)
	}
	waitFor(t, "waiting events delivered", 60*time.Second, func() bool { return count() == 3 })
	for _, ev := range evs {
		mu.Lock()
		ok := seen[ev.ID]
		mu.Unlock()
		if !ok {
			t.Fatalf("event %s not delivered after re-enabling", ev.ID)
		}
	}
	appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("5001", core.OrderPaid)})
	mgr.Notify()
	waitFor(t, "a new event", 60*time.Second, func() bool { return count() == 4 })
	if _, err := mgr.EnablePlugin(context.Background(), "nope"); err == nil {
		t.Fatal("enabling an unknown plugin should fail")
	}
}
