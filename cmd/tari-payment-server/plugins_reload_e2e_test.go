package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/internal/wasmbuild"
)

var hostileWasm struct {
	once sync.Once
	path string
	err  error
}

// hostilePlugin builds plugins/testdata/hostile (once per test binary).
func hostilePlugin(t *testing.T) string {
	t.Helper()
	hostileWasm.once.Do(func() {
		root := wasmbuild.RepoRoot()
		dir, err := os.MkdirTemp("", "tps-hostile-")
		if err != nil {
			hostileWasm.err = err
			return
		}
		hostileWasm.path = filepath.Join(dir, "hostile.wasm")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		hostileWasm.err = wasmbuild.Build(ctx, root, filepath.Join(root, "plugins/testdata/hostile"), hostileWasm.path)
	})
	if hostileWasm.err != nil {
		t.Fatal(hostileWasm.err)
	}
	return hostileWasm.path
}

// dropPlugin installs the hostile module under dir/<id>/ with a manifest, as
// a merchant copies a plugin into TPG_PLUGINS_DIR.
func dropPlugin(t *testing.T, dir, id, version string, limits map[string]any) {
	t.Helper()
	b, err := os.ReadFile(hostilePlugin(t))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := json.Marshal(map[string]any{"id": id, "version": version, "abi": 1, "events": []string{"*"},
		"http_from_config": []string{"URL"}, "limits": limits})
	// Written beside and renamed into place, as an installer would: the
	// folder watcher never sees half a file.
	tmp := filepath.Join(dir, "."+id+".tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(tmp, "plugin.wasm"), b, 0o644)
	os.WriteFile(filepath.Join(tmp, "manifest.json"), m, 0o644)
	os.RemoveAll(filepath.Join(dir, id))
	if err := os.Rename(tmp, filepath.Join(dir, id)); err != nil {
		t.Fatal(err)
	}
}

// arrivals records when each order's first event reached a receiver.
type arrivals struct {
	mu   sync.Mutex
	at   map[string]time.Time
	idRe *regexp.Regexp
}

func newArrivals(t *testing.T) (*arrivals, *httptest.Server) {
	a := &arrivals{at: map[string]time.Time{}, idRe: regexp.MustCompile(`"order_id":"([^"]+)"`)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		now := time.Now()
		if m := a.idRe.FindSubmatch(b); m != nil {
			a.mu.Lock()
			if _, ok := a.at[string(m[1])]; !ok {
				a.at[string(m[1])] = now
			}
			a.mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	return a, srv
}

func (a *arrivals) get(id string) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.at[id]
	return t, ok
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// TestMemoryBombContained runs a plugin that allocates until it traps on
// every event (its manifest asks for 1 GiB: clamped to
// TPG_PLUGIN_MAX_MEMORY_MB), re-enabled whenever it is disabled for
// crashing, beside a well-behaved plugin, while orders arrive: /health stays
// fast and the other plugin's deliveries stay on time.
func TestMemoryBombContained(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test plugin")
	}
	rec, recSrv := newArrivals(t)
	dir := t.TempDir()
	dropPlugin(t, dir, "bomb", "1", map[string]any{"memory_pages": 16384, "timeout_ms": 10000})
	dropPlugin(t, dir, "steady", "1", map[string]any{"memory_pages": 256})
	s := start(t, storetest.SQLiteURL(t), map[string]string{
		"TPG_PLUGINS_DIR": dir, "TPG_PLUGINS_DISABLE": "shopify,webhook",
		"TPG_PLUGIN_BOMB_MODE": "membomb", "TPG_PLUGIN_BOMB_URL": recSrv.URL,
		"TPG_PLUGIN_STEADY_MODE": "echo", "TPG_PLUGIN_STEADY_URL": recSrv.URL,
		"TPG_PLUGIN_CACHE_DIR": filepath.Join(t.TempDir(), "cache"),
	})
	if !strings.Contains(s.out.String(), "clamped") {
		t.Fatalf("no warning about the clamped manifest:\n%s", tail(s.out.String(), 3000))
	}

	const run = 12 * time.Second
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var health []time.Duration
	wg.Add(1)
	go func() { // /health, every 20 ms
		defer wg.Done()
		client := &http.Client{Timeout: 5 * time.Second}
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			t0 := time.Now()
			resp, err := client.Get(s.c.BaseURL + "/health")
			d := time.Since(t0)
			if err != nil {
				t.Errorf("/health: %v", err)
				return
			}
			resp.Body.Close()
			health = append(health, d)
		}
	}()
	wg.Add(1)
	go func() { // keep the bomb going: re-enable it whenever it is disabled
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			s.c.Do("POST", "/api/plugins/bomb/enable", nil, map[string]string{"tpg_access_token": s.tok})
		}
	}()
	committed := map[string]time.Time{}
	var ids []string
	deadline := time.Now().Add(run)
	for i := 0; time.Now().Before(deadline); i++ {
		id := fmt.Sprintf("mem-%d", i)
		s.order(id, "c", "1.00", nil)
		committed[id] = time.Now()
		ids = append(ids, id)
		time.Sleep(100 * time.Millisecond)
	}
	var late []time.Duration
	for _, id := range ids {
		waitUntil(t, "the steady plugin to deliver "+id, 30*time.Second, func() bool { _, ok := rec.get(id); return ok })
		at, _ := rec.get(id)
		late = append(late, at.Sub(committed[id]))
	}
	close(stop)
	wg.Wait()
	crashes := strings.Count(s.out.String(), "plugin=bomb")
	p99, maxLate := percentile(health, 0.99), percentile(late, 1)
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("memory bomb contained: %d /health probes p50 %v p99 %v max %v; %d steady deliveries p50 %v p99 %v max %v late; %d bomb log lines; loadavg %s",
		len(health), percentile(health, 0.5), p99, percentile(health, 1), len(late), percentile(late, 0.5), percentile(late, 0.99), maxLate, crashes, strings.TrimSpace(string(load)))
	if !strings.Contains(s.out.String(), "out of memory") {
		t.Fatalf("the bomb never ran out of memory:\n%s", tail(s.out.String(), 3000))
	}
	if p99 >= 50*time.Millisecond {
		t.Errorf("/health p99 %v, want < 50ms", p99)
	}
	if maxLate >= time.Second {
		t.Errorf("steady plugin delivered up to %v late, want < 1s", maxLate)
	}
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pluginStates reads GET /api/plugins as id → entry.
func (s *server) pluginStates() map[string]map[string]any {
	s.t.Helper()
	var list []map[string]any
	s.adm("GET", "/api/plugins", nil).JSON(s.t, &list)
	out := map[string]map[string]any{}
	for _, p := range list {
		out[fmt.Sprint(p["id"])] = p
	}
	return out
}

// TestPluginFolderThroughServer: through the real server, a plugin dropped
// into the folder is picked up within seconds, a broken file is reported
// (API and tps_plugin_state) without stopping anything, a removed plugin is
// "removed" and no longer pending (API and metrics), and an admin drops it
// for good with DELETE /api/plugins/{id}; POST /api/plugins/reload rescans
// at once.
func TestPluginFolderThroughServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test plugin")
	}
	_, recSrv := newArrivals(t)
	dir := t.TempDir()
	s := start(t, storetest.SQLiteURL(t), map[string]string{
		"TPG_PLUGINS_DIR": dir, "TPG_PLUGINS_DISABLE": "shopify,webhook", "TPG_PLUGINS_RELOAD_INTERVAL": "200ms",
		"TPG_PLUGIN_LATE_MODE": "echo", "TPG_PLUGIN_LATE_URL": recSrv.URL,
		"TPG_PLUGIN_CACHE_DIR": filepath.Join(t.TempDir(), "cache"),
	})
	state := func(id string) string { return fmt.Sprint(s.pluginStates()[id]["state"]) }
	metric := func(series string) float64 {
		v, _ := sample(string(s.c.Do("GET", "/metrics", nil, nil).Body), series)
		return v
	}

	dropPlugin(t, dir, "late", "1", map[string]any{})
	waitUntil(t, "the dropped plugin to load", 3*time.Minute /* compiling under -race on a cold cache is slow */, func() bool { return state("late") == "active" })
	dropPlugin(t, dir, "late", "2", map[string]any{}) // a new version
	waitUntil(t, "the new version", 60*time.Second, func() bool {
		p := s.pluginStates()["late"]
		return p["state"] == "active" && p["version"] == "2"
	})
	// A folder plugin with a shipped plugin's id, not listed in
	// TPG_PLUGINS_OVERRIDE, is refused.
	dropPlugin(t, dir, "webhook", "1", map[string]any{})
	refused := "webhook@" + filepath.Join(dir, "webhook", "manifest.json")
	waitUntil(t, "the override to be refused", 20*time.Second, func() bool { return state(refused) == "broken" })
	if e := fmt.Sprint(s.pluginStates()[refused]["error"]); !strings.Contains(e, "TPG_PLUGINS_OVERRIDE") {
		t.Fatalf("refusal: %s", e)
	}
	os.RemoveAll(filepath.Join(dir, "webhook"))
	junk := make([]byte, 4096)
	rand.Read(junk)
	os.WriteFile(filepath.Join(dir, "x.wasm"), junk, 0o644)
	waitUntil(t, "the junk file to be reported", 20*time.Second, func() bool { return state("x") == "broken" })
	if v := metric(`tps_plugin_state{plugin="x",state="broken"}`); v != 1 {
		t.Fatalf("tps_plugin_state broken = %v", v)
	}
	if !strings.Contains(s.out.String(), "x.wasm") {
		t.Fatal("no log line names x.wasm")
	}

	os.RemoveAll(filepath.Join(dir, "late"))
	os.Remove(filepath.Join(dir, "x.wasm"))
	if r := s.adm("POST", "/api/plugins/reload", nil); r.Status != 200 {
		t.Fatalf("reload: %d %s", r.Status, r.Body)
	}
	if st := state("late"); st != "removed" {
		t.Fatalf("late after reload: %s", st)
	}
	s.order("after-removal", "c", "1.00", nil)
	if p := s.pluginStates()["late"]; p["pending"] != float64(0) {
		t.Fatalf("removed plugin counts as pending: %v", p)
	}
	if v, found := sample(string(s.c.Do("GET", "/metrics", nil, nil).Body), `tps_outbox_pending_events{subscriber="late"}`); !found || v != 0 {
		t.Fatalf("tps_outbox_pending_events for the removed plugin = %v (%v)", v, found)
	}
	if v := metric(`tps_plugin_state{plugin="late",state="removed"}`); v != 1 {
		t.Fatalf("tps_plugin_state removed = %v", v)
	}
	if r := s.adm("DELETE", "/api/plugins/late", nil); r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if _, ok := s.pluginStates()["late"]; ok {
		t.Fatal("dropped plugin still listed")
	}
	if r := s.adm("DELETE", "/api/plugins/late", nil); r.Status != 404 {
		t.Fatalf("second delete: %d %s", r.Status, r.Body)
	}
}

// TestConfiguredShippedPluginFailsClosed: the server does not start without
// a shipped plugin the merchant configured (here the webhook, with a memory
// budget too small for it); the error names the plugin and what to do. A
// broken folder plugin beside it would not have stopped anything.
func TestConfiguredShippedPluginFailsClosed(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.wasm"), []byte("not wasm at all"), 0o644)
	vars := map[string]string{"TPG_PORT": "0", "TPG_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "tari_store.db"),
		"TPG_PLUGINS_DIR": dir, "TPG_PLUGIN_WEBHOOK_URLS": "http://127.0.0.1:1/events", "TPG_PLUGINS_DISABLE": "shopify",
		"TPG_PLUGINS_MEMORY_BUDGET_MB": "1", "TPG_PLUGIN_CACHE_DIR": filepath.Join(t.TempDir(), "cache")}
	runMu.Lock()
	defer runMu.Unlock()
	listened := false
	onListen = func(string) { listened = true }
	defer func() { onListen = nil }()
	var out lockedBuf
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := run(ctx, nil, func(k string) string { return vars[k] }, &out, &out)
	if err == nil || listened {
		t.Fatalf("the server started without its configured webhook plugin (err %v)\n%s", err, out.String())
	}
	for _, want := range []string{"shipped plugin webhook", "memory budget", "TPG_PLUGINS_DISABLE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if !strings.Contains(out.String(), "x.wasm") {
		t.Errorf("the broken folder plugin was not reported:\n%s", out.String())
	}

	// Without the shipped plugin's configuration problem the same folder
	// starts: the broken x.wasm alone never stops the server.
	delete(vars, "TPG_PLUGINS_MEMORY_BUDGET_MB")
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	onListen = func(string) { listened = true; cancel2() }
	if err := run(ctx2, nil, func(k string) string { return vars[k] }, &out, &out); err != nil || !listened {
		t.Fatalf("with only a broken folder plugin: %v (listened %v)\n%s", err, listened, out.String())
	}
}
