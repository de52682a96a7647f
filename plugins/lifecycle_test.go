package plugins_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/plugins"
)

// echoReceiver counts the events the hostile plugin's echo mode forwards.
type echoReceiver struct {
	mu   sync.Mutex
	seen map[string]int
}

func newEchoReceiver(t testing.TB) (*echoReceiver, *httptest.Server) {
	r := &echoReceiver{seen: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var ev struct {
			ID string `json:"id"`
		}
		b, _ := io.ReadAll(req.Body)
		json.Unmarshal(b, &ev)
		r.mu.Lock()
		r.seen[ev.ID]++
		r.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *echoReceiver) times(id string) int { r.mu.Lock(); defer r.mu.Unlock(); return r.seen[id] }

func echoManifest(id, version string) map[string]any {
	return map[string]any{"id": id, "version": version, "abi": 1, "events": []string{"*"},
		"http_from_config": []string{"URL"}, "limits": map[string]any{"timeout_ms": 30000, "memory_pages": 256}}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// Broken folder plugins never stop the server: each is listed as broken with
// the reason, and one log line names its file.
func TestBrokenFolderPluginsAreReported(t *testing.T) {
	db := storetest.SQLite(t)
	dir := t.TempDir()
	m, _ := json.Marshal(echoManifest("junk", "1"))
	writeFile(t, filepath.Join(dir, "junk.json"), m)
	writeFile(t, filepath.Join(dir, "junk.wasm"), randomBytes(4096))
	writeFile(t, filepath.Join(dir, "x.wasm"), randomBytes(4096)) // no manifest at all
	writeFile(t, filepath.Join(dir, "typo.json"), []byte(`{"id":"typo","abi":1,"events":["*"],"limitz":{}}`))
	sink := &logSink{}
	cfg := baseConfig(db, envMap{}, sink)
	cfg.Dir, cfg.NoDefaults = dir, true
	mgr := start(t, cfg)
	for id, why := range map[string]string{"junk": "junk.wasm is not a WebAssembly module", "x": "x.wasm has no manifest", "typo": "limitz"} {
		p := pluginInfo(t, mgr, id)
		if p.State != plugins.StateBroken || !strings.Contains(p.Error, why) {
			t.Errorf("%s: %+v, want broken because %q", id, p, why)
		}
	}
	for _, file := range []string{"junk.wasm", "x.wasm", "typo.json"} {
		if !sink.contains("plugin not loaded") || !sink.contains(file) {
			t.Errorf("no log line names %s", file)
		}
	}
}

// A shipped plugin that is configured but cannot load stops the start, and
// the error says what to do.
func TestShippedPluginFailsClosed(t *testing.T) {
	db := storetest.SQLite(t)
	cfg := baseConfig(db, envMap{"TPG_PLUGIN_WEBHOOK_URLS": "http://127.0.0.1:1/x"}, &logSink{})
	cfg.MemoryBudgetMB = 1 // smaller than the shipped webhook plugin asks for
	mgr, err := plugins.Start(context.Background(), cfg)
	if err == nil {
		mgr.Close()
		t.Fatal("Start succeeded without its configured shipped plugin")
	}
	for _, want := range []string{"shipped plugin webhook", "memory budget", "TPG_PLUGINS_DISABLE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// Unconfigured shipped plugins (shopify here) are not a reason to fail.
	cfg.Env = envMap{}.lookup
	start(t, cfg)
}

// A folder plugin with a shipped plugin's id replaces it only when
// TPG_PLUGINS_OVERRIDE lists the id, and then only with the shipped
// plugin's env keys and hosts.
func TestOverrideNeedsToBeListed(t *testing.T) {
	hostile := buildOnce(t, "plugins/testdata/hostile")
	rec, srv := newEchoReceiver(t)
	env := envMap{"TPG_PLUGIN_WEBHOOK_URLS": srv.URL, "TPG_PLUGIN_WEBHOOK_URL": srv.URL, "TPG_PLUGIN_WEBHOOK_MODE": "echo",
		"TPG_SHOPIFY_ADMIN_ACCESS_TOKEN": "shpat_secret"}
	override := map[string]any{"id": "webhook", "version": "9", "abi": 1, "events": []string{"*"}, "http_from_config": []string{"URLS"}}

	t.Run("not listed", func(t *testing.T) {
		db := storetest.SQLite(t)
		dir := t.TempDir()
		installPlugin(t, dir, hostile, override)
		sink := &logSink{}
		cfg := baseConfig(db, env, sink)
		cfg.Dir = dir
		mgr := start(t, cfg)
		if p := pluginInfo(t, mgr, "webhook"); p.State != plugins.StateActive || p.Source != "default" {
			t.Fatalf("shipped webhook = %+v", p)
		}
		refused := pluginInfo(t, mgr, "webhook@"+filepath.Join(dir, "webhook", "manifest.json"))
		if refused.State != plugins.StateBroken || !strings.Contains(refused.Error, "TPG_PLUGINS_OVERRIDE") {
			t.Fatalf("refused override = %+v", refused)
		}
		if !sink.contains("add webhook to TPG_PLUGINS_OVERRIDE") {
			t.Fatal("no log line says how to allow the override")
		}
	})
	t.Run("listed", func(t *testing.T) {
		db := storetest.SQLite(t)
		dir := t.TempDir()
		installPlugin(t, dir, hostile, override)
		cfg := baseConfig(db, env, &logSink{})
		cfg.Dir, cfg.Override = dir, []string{"webhook"}
		mgr := start(t, cfg)
		if p := pluginInfo(t, mgr, "webhook"); p.State != plugins.StateActive || p.Source != "directory" || p.Version != "9" {
			t.Fatalf("override = %+v", p)
		}
		ev := appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("9001", core.OrderPaid)})
		mgr.Notify()
		waitFor(t, "the override to deliver", 30*time.Second, func() bool { return rec.times(ev.ID) == 1 })
	})
	t.Run("listed but asking for more", func(t *testing.T) {
		db := storetest.SQLite(t)
		dir := t.TempDir()
		greedy := map[string]any{"id": "webhook", "version": "9", "abi": 1, "events": []string{"*"}, "http_from_config": []string{"URLS"},
			"env": []string{"TPG_SHOPIFY_ADMIN_ACCESS_TOKEN"}, "http": []string{"evil.example.com"}, "actions": []string{"rates:write"}}
		installPlugin(t, dir, hostile, greedy)
		sink := &logSink{}
		cfg := baseConfig(db, env, sink)
		cfg.Dir, cfg.Override = dir, []string{"webhook"}
		mgr := start(t, cfg)
		p := pluginInfo(t, mgr, "webhook")
		if p.State != plugins.StateActive || p.Source != "default" {
			t.Fatalf("webhook = %+v, want the shipped one running", p)
		}
		if !sink.contains("env TPG_SHOPIFY_ADMIN_ACCESS_TOKEN") || !sink.contains("http evil.example.com") || !sink.contains("action rates:write") {
			t.Fatal("the refusal does not name what the override asked for")
		}
	})
}

// A manifest asking for more memory than the operator cap is clamped, with a
// warning; the memory budget across plugins refuses the plugin that would
// pass it.
func TestMemoryCapAndBudget(t *testing.T) {
	hostile := buildOnce(t, "plugins/testdata/hostile")
	db := storetest.SQLite(t)
	dir := t.TempDir()
	for _, id := range []string{"big-a", "big-b"} {
		m := echoManifest(id, "1")
		m["limits"] = map[string]any{"memory_pages": 16384}
		installPlugin(t, dir, hostile, m)
	}
	sink := &logSink{}
	cfg := baseConfig(db, envMap{"TPG_PLUGIN_BIG_A_URL": "http://127.0.0.1:1", "TPG_PLUGIN_BIG_B_URL": "http://127.0.0.1:1"}, sink)
	cfg.Dir, cfg.NoDefaults, cfg.MaxMemoryMB, cfg.MemoryBudgetMB = dir, true, 32, 48
	mgr := start(t, cfg)
	if !sink.contains("clamped") || !sink.contains("asked_mb=1024") {
		t.Fatal("no warning about the clamped manifest")
	}
	a, b := pluginInfo(t, mgr, "big-a"), pluginInfo(t, mgr, "big-b")
	if a.State != plugins.StateActive || b.State != plugins.StateBroken || !strings.Contains(b.Error, "memory budget") {
		t.Fatalf("big-a = %s %s, big-b = %s %s; want the second over the 48 MB budget", a.State, a.Error, b.State, b.Error)
	}
}

// Hot reload: plugins added, replaced and removed in the folder take effect
// without a restart; a replacement continues from the cursor; a broken new
// file leaves the old version running; a removed plugin is "removed", not
// pending, keeps its cursor, continues from it when it comes back, and can be
// dropped for good.
func TestHotReload(t *testing.T) {
	hostile := buildOnce(t, "plugins/testdata/hostile")
	rec, srv := newEchoReceiver(t)
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		sink := &logSink{}
		cfg := baseConfig(db, envMap{"TPG_PLUGIN_HOT_MODE": "echo", "TPG_PLUGIN_HOT_URL": srv.URL}, sink)
		cfg.Dir, cfg.NoDefaults, cfg.ReloadInterval = dir, true, 100*time.Millisecond
		mgr := start(t, cfg)
		ctx := context.Background()
		// The first load compiles the module (slow under -race on a cold
		// cache); later changes reuse the compile cache.
		timeout := 3 * time.Minute
		within := func(what string, cond func(p plugins.PluginInfo) bool) {
			t.Helper()
			waitFor(t, what, timeout, func() bool {
				all, err := mgr.Plugins(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range all {
					if p.ID == "hot" {
						return cond(p)
					}
				}
				return cond(plugins.PluginInfo{})
			})
		}
		event := func(n string) core.Event {
			ev := appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order(n, core.OrderPaid)})
			mgr.Notify()
			return ev
		}

		installPlugin(t, dir, hostile, echoManifest("hot", "1"))
		within("the added plugin to load", func(p plugins.PluginInfo) bool { return p.State == plugins.StateActive && p.Version == "1" })
		timeout = 10 * time.Second // hot reload within a few seconds
		e1 := event("1")
		waitFor(t, "e1 delivered", 20*time.Second, func() bool { return rec.times(e1.ID) == 1 })

		installPlugin(t, dir, hostile, echoManifest("hot", "2")) // replaced
		within("the new version", func(p plugins.PluginInfo) bool { return p.State == plugins.StateActive && p.Version == "2" })
		e2 := event("2")
		waitFor(t, "e2 delivered by the new version", 20*time.Second, func() bool { return rec.times(e2.ID) == 1 })
		if n := rec.times(e1.ID); n != 1 {
			t.Fatalf("the new version did not continue from the cursor: e1 delivered %d times", n)
		}

		writeFile(t, filepath.Join(dir, "hot", "plugin.wasm"), randomBytes(2048)) // a broken new file
		within("the broken file to be reported", func(p plugins.PluginInfo) bool { return strings.Contains(p.Error, "new version") })
		if p := pluginInfo(t, mgr, "hot"); p.State != plugins.StateActive || p.Version != "2" {
			t.Fatalf("the old version should keep running: %+v", p)
		}
		e3 := event("3")
		waitFor(t, "e3 delivered by the old version", 20*time.Second, func() bool { return rec.times(e3.ID) == 1 })

		if err := os.RemoveAll(filepath.Join(dir, "hot")); err != nil {
			t.Fatal(err)
		}
		within("the plugin to be removed", func(p plugins.PluginInfo) bool { return p.State == plugins.StateRemoved })
		e4 := event("4")
		if p := pluginInfo(t, mgr, "hot"); p.Pending != 0 || p.Position != e3.Seq {
			t.Fatalf("removed plugin = %+v, want nothing pending and the cursor kept at %d", p, e3.Seq)
		}
		if err := mgr.Remove(ctx, "nope"); !errors.Is(err, plugins.ErrNotFound) {
			t.Fatalf("Remove(unknown) = %v", err)
		}

		installPlugin(t, dir, hostile, echoManifest("hot", "3")) // it comes back
		within("the plugin to come back", func(p plugins.PluginInfo) bool { return p.State == plugins.StateActive && p.Version == "3" })
		waitFor(t, "e4 delivered from the kept cursor", 20*time.Second, func() bool { return rec.times(e4.ID) == 1 })
		if err := mgr.Remove(ctx, "hot"); !errors.Is(err, plugins.ErrInstalled) {
			t.Fatalf("Remove(installed) = %v", err)
		}

		os.RemoveAll(filepath.Join(dir, "hot"))
		if _, err := mgr.Reload(ctx); err != nil { // forced rescan
			t.Fatal(err)
		}
		if p := pluginInfo(t, mgr, "hot"); p.State != plugins.StateRemoved {
			t.Fatalf("after Reload: %+v", p)
		}
		if err := mgr.Remove(ctx, "hot"); err != nil {
			t.Fatal(err)
		}
		all, _ := mgr.Plugins(ctx)
		for _, p := range all {
			if p.ID == "hot" {
				t.Fatalf("dropped plugin still listed: %+v", p)
			}
		}
		for _, ev := range []core.Event{e1, e2, e3, e4} {
			if n := rec.times(ev.ID); n != 1 {
				t.Errorf("event %s delivered %d times, want once", ev.ID, n)
			}
		}
	})
}

// Two instances on one PostgreSQL database, each reloading its own folder
// while events flow: replacing the plugin on both, again and again, never
// has two deliveries of the subscriber in flight at once, and every event
// arrives.
func TestReloadOnSeveralInstancesDeliversOneAtATime(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip(storetest.PostgresEnv + " not set")
	}
	hostile := buildOnce(t, "plugins/testdata/hostile")
	db := storetest.Postgres(t)
	var mu sync.Mutex
	inFlight, maxInFlight := 0, 0
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var ev struct {
			ID string `json:"id"`
		}
		b, _ := io.ReadAll(req.Body)
		json.Unmarshal(b, &ev)
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		mu.Unlock()
		time.Sleep(15 * time.Millisecond) // long enough for an overlap to show
		mu.Lock()
		inFlight--
		seen[ev.ID]++
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	env := envMap{"TPG_PLUGIN_SHARED_MODE": "echo", "TPG_PLUGIN_SHARED_URL": srv.URL}
	var dirs []string
	var mgrs []*plugins.Manager
	for i := 0; i < 2; i++ {
		dir := t.TempDir()
		installPlugin(t, dir, hostile, echoManifest("shared", "1"))
		cfg := baseConfig(db, env, &logSink{})
		cfg.Dir, cfg.NoDefaults, cfg.ReloadInterval = dir, true, 50*time.Millisecond
		cfg.Delivery.Lease = 3 * time.Second
		dirs, mgrs = append(dirs, dir), append(mgrs, start(t, cfg))
	}
	var evs []core.Event
	for i := 0; i < 60; i++ {
		evs = append(evs, appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order(strings.Repeat("9", 1+i%5), core.OrderPaid)}))
		for _, m := range mgrs {
			m.Notify()
		}
		if i%10 == 5 { // a new version on both instances
			for _, dir := range dirs {
				installPlugin(t, dir, hostile, echoManifest("shared", string(rune('a'+i/10))))
			}
		}
		if i%10 == 8 {
			mgrs[i%2].Reload(context.Background())
		}
		time.Sleep(25 * time.Millisecond)
	}
	waitFor(t, "every event delivered", 60*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range evs {
			if seen[ev.ID] == 0 {
				return false
			}
		}
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	if maxInFlight != 1 {
		t.Fatalf("%d deliveries of one subscriber in flight at once, want 1", maxInFlight)
	}
	dup := 0
	for _, ev := range evs {
		if seen[ev.ID] > 1 {
			dup++
		}
	}
	t.Logf("%d events, %d delivered more than once (at-least-once after a replaced version's cancelled call)", len(evs), dup)
}
