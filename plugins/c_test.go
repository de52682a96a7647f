package plugins_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/internal/wasmbuild"
	"github.com/tari-payment/tps/plugins"
)

// Plugins written in C against plugins/ABI.md with the guest library in
// sdk/c: the ABI does not depend on Go.

// requireClangEnv makes the C toolchain mandatory (.ci/run sets it): without
// it, a machine lacking clang runs these tests on the committed modules.
const requireClangEnv = "TPG_TEST_REQUIRE_CLANG"

var cToolchain struct {
	once    sync.Once
	version string
	err     error
}

// cModule returns the module of the C plugin in dir (its main.c, next to the
// committed plugin.wasm). With the toolchain installed it is built from
// source, at most once per test binary, and must equal the committed module
// when the compiler is the pinned one (sdk/c/build.sh); without it the
// committed module is used, unless requireClangEnv is set.
func cModule(t testing.TB, dir string) string {
	t.Helper()
	committed := filepath.Join(repoRoot, dir, "plugin.wasm")
	cToolchain.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cToolchain.version, cToolchain.err = wasmbuild.CToolchain(ctx)
	})
	if err := cToolchain.err; err != nil {
		if os.Getenv(requireClangEnv) != "" {
			t.Fatalf("%v (%s is set: the C plugins must be built from source)", err, requireClangEnv)
		}
		t.Logf("%s: testing the committed module, not a fresh build: %v", dir, err)
		return committed
	}
	v, _ := builds.LoadOrStore("c:"+dir, &buildResult{})
	b := v.(*buildResult)
	b.once.Do(func() {
		b.path = filepath.Join(shared, "modules", "c_"+strings.ReplaceAll(dir, "/", "_")+".wasm")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if b.err = wasmbuild.BuildC(ctx, repoRoot, filepath.Join(repoRoot, dir), b.path); b.err != nil {
			return
		}
		fresh, _ := os.ReadFile(b.path)
		old, err := os.ReadFile(committed)
		switch {
		case err != nil:
			b.err = fmt.Errorf("%v: run make examples-c and commit it", err)
		case bytes.Equal(fresh, old):
		case strings.HasPrefix(cToolchain.version, wasmbuild.PinnedClang):
			b.err = fmt.Errorf("%s/plugin.wasm differs from what %s builds from its source: run make examples-c and commit it", dir, cToolchain.version)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// installCPlugin drops a C plugin's module and a manifest into dir/<id>/.
func installCPlugin(t testing.TB, dir, src string, manifest map[string]any) {
	t.Helper()
	installPlugin(t, dir, cModule(t, src), manifest)
}

func paidOrder(orderID string, total core.MicroTari) core.OrderEvent {
	o := order(orderID, core.OrderPaid)
	o.TotalPrice = total
	return core.OrderEvent{Order: o}
}

// The C example (examples/tally-c, with its own manifest) counts OrderPaid
// events and their totals in plugin state through the real dispatcher, reads
// its URL setting, logs, and POSTs the totals. A push the dashboard refuses
// fails the delivery with the plugin's own message, and the handler's state
// writes go with it: after the redelivery every order is counted once.
func TestCPluginTalliesPaidOrders(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var refuse atomic.Bool
		refuse.Store(true)
		var mu sync.Mutex
		var pushes []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if refuse.Load() {
				http.Error(w, "dashboard busy", http.StatusServiceUnavailable)
				return
			}
			if r.URL.Path != "/totals" || r.Header.Get("Content-Type") != "application/json" {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			pushes = append(pushes, string(b))
			mu.Unlock()
		}))
		defer srv.Close()
		pushed := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), pushes...) }

		dir := t.TempDir()
		wasm, err := os.ReadFile(cModule(t, "examples/tally-c"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "tally", "plugin.wasm"), wasm)
		mb, err := os.ReadFile(filepath.Join(repoRoot, "examples", "tally-c", "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "tally", "manifest.json"), mb)

		sink := &logSink{}
		cfg := baseConfig(db, envMap{"TPG_PLUGIN_TALLY_URL": srv.URL + "/totals"}, sink)
		cfg.Dir = dir
		cfg.NoDefaults = true
		cfg.ReloadInterval = -1
		cfg.Delivery.MaxAttempts = 2
		mgr := start(t, cfg)
		if p := pluginInfo(t, mgr, "tally"); p.State != plugins.StateActive {
			t.Fatalf("tally = %+v", p)
		}

		// Refused: parked with the plugin's message, nothing counted.
		appendEvent(t, db, core.EventOrderPaid, paidOrder("7001", 10_000_000))
		mgr.Notify()
		waitFor(t, "the refused push parked", 60*time.Second, func() bool { return pluginInfo(t, mgr, "tally").Failed == 1 })
		failed, err := mgr.FailedDeliveries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) != 1 || !strings.Contains(failed[0].LastError, "the dashboard answered 503: dashboard busy") {
			t.Fatalf("failed deliveries = %+v", failed)
		}
		if v, ok := stateValue(t, db, "tally", "paid/count"); ok {
			t.Fatalf("a failed handler's count was stored: %q", v)
		}
		if !sink.contains("order 7001 paid: 10000000 uT; 1 paid orders, 10000000 uT in all plugin=tally") {
			t.Fatalf("the plugin's log line is missing: %q", sink.lines)
		}

		// Accepted: the redelivery and two more orders, each counted once.
		refuse.Store(false)
		if n, err := mgr.RedeliverAll(ctx); err != nil || n != 1 {
			t.Fatalf("redeliver = %d, %v", n, err)
		}
		appendEvent(t, db, core.EventOrderPaid, paidOrder("7002", 2_500_000))
		appendEvent(t, db, core.EventNewOrder, core.OrderEvent{Order: order("7003", core.OrderNew)}) // not subscribed
		appendEvent(t, db, core.EventOrderPaid, paidOrder("7004", 1))
		mgr.Notify()
		waitFor(t, "three pushes", 60*time.Second, func() bool {
			p := pluginInfo(t, mgr, "tally")
			return len(pushed()) == 3 && p.Failed == 0 && p.Pending == 0
		})
		want := []string{
			`{"orders_paid":1,"orders_paid_total":10000000}`,
			`{"orders_paid":2,"orders_paid_total":12500000}`,
			`{"orders_paid":3,"orders_paid_total":12500001}`,
		}
		if got := pushed(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("pushes = %q, want %q", got, want)
		}
		if v, _ := stateValue(t, db, "tally", "paid/count"); v != "3" {
			t.Fatalf("paid/count = %q, want 3", v)
		}
		if v, _ := stateValue(t, db, "tally", "paid/total"); v != "12500001" {
			t.Fatalf("paid/total = %q, want 12500001", v)
		}
	})
}

// Hostile C plugins are contained like Go ones: a handler or a constructor
// that never returns is stopped at the deadline by the load-time rewrite
// (clang's output is instrumented, not left to wazero's guarded mode), a trap
// and an exit end the call, and malloc fails at the manifest's memory cap
// while a well-behaved C plugin keeps acknowledging events.
// (SQLite only, as TestHostilePluginsAreContained: containment does not
// depend on the database.)
func TestCHostilePluginsAreContained(t *testing.T) {
	db := storetest.SQLite(t)
	dir := t.TempDir()
	env := envMap{}
	modes := []string{"loop", "initloop", "trap", "exit", "membomb", "quote", "ok"}
	for _, m := range modes {
		env["TPG_PLUGIN_"+strings.ToUpper(m)+"_MODE"] = m
		timeout := 30000 // generous: -race and a loaded machine slow every call down
		if m == "loop" || m == "initloop" {
			timeout = 300
		}
		installCPlugin(t, dir, "plugins/testdata/hostile-c", map[string]any{"id": m, "version": "0.1.0", "abi": 1, "events": []string{"*"},
			"limits": map[string]any{"timeout_ms": timeout, "memory_pages": 32}})
	}
	sink := &logSink{}
	cfg := baseConfig(db, env, sink)
	cfg.Dir = dir
	cfg.NoDefaults = true
	cfg.ReloadInterval = -1
	cfg.CrashLimit = 2
	cfg.Delivery.MaxAttempts = 2
	mgr := start(t, cfg)
	if sink.contains("cannot be instrumented") {
		t.Fatalf("a C module fell back to wazero's guarded mode: %q", sink.lines)
	}
	if p := pluginInfo(t, mgr, "initloop"); p.State != plugins.StateBroken || !strings.Contains(p.Error, "stopped after the 300ms time limit (in _initialize)") {
		t.Fatalf("initloop = %+v", p)
	}

	ev := appendEvent(t, db, core.EventOrderPaid, paidOrder("8001", 5))
	mgr.Notify()
	waitFor(t, "the healthy C plugin acknowledged", 60*time.Second, func() bool { return pluginInfo(t, mgr, "ok").Position > 0 })
	if !sink.contains("hostile-c ok: OrderPaid " + ev.ID) {
		t.Fatal("the healthy C plugin did not log the event")
	}
	wantErr := map[string]string{
		"loop":    "time limit",
		"trap":    "unreachable",
		"exit":    "exited with code 3",
		"membomb": "malloc failed after ",
	}
	for m, want := range wantErr {
		waitFor(t, m+" reports "+want, 60*time.Second, func() bool {
			p := pluginInfo(t, mgr, m)
			return strings.Contains(p.LastError+p.Error, want)
		})
	}
	// tari_fail_permanent's message reaches the admin intact (JSON-escaped
	// by the C library) and parks the event at its first attempt.
	waitFor(t, "quote parks its event", 60*time.Second, func() bool { return pluginInfo(t, mgr, "quote").Failed == 1 })
	failed, err := mgr.FailedDeliveries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range failed {
		if f.PluginID == "quote" {
			found = true
			if want := "plugin quote: say \"µ\"\tback\\slash\nline \x01 OrderPaid"; f.LastError != want || f.Attempts != 1 {
				t.Fatalf("quote parked after %d attempts with %q, want 1 and %q", f.Attempts, f.LastError, want)
			}
		}
	}
	if !found {
		t.Fatalf("no parked delivery for quote: %+v", failed)
	}
	// 32 pages are 2 MiB, the module's data and stack included (a retry runs
	// in the same instance, its earlier allocations still held).
	p := pluginInfo(t, mgr, "membomb")
	mib := regexp.MustCompile(`malloc failed after (\d+) MiB`).FindStringSubmatch(p.LastError)
	if mib == nil {
		t.Fatalf("membomb = %+v", p)
	}
	if n, _ := strconv.Atoi(mib[1]); n > 2 {
		t.Fatalf("membomb allocated %d MiB under a 2 MiB cap", n)
	}
	waitFor(t, "the looping plugin disabled", 60*time.Second, func() bool {
		return pluginInfo(t, mgr, "loop").State == plugins.StateDisabled
	})
}

// The C modules are rewritten with the cheap interrupt (no fallback to the
// guarded mode), and the result compiles. So is the example built with the
// features newer clangs enable by default (LLVM 19's generic CPU: bulk
// memory, multi-value, reference types, ...), when clang is here.
func TestCModulesAreInstrumented(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	modules := map[string]string{}
	for _, dir := range []string{"examples/tally-c", "plugins/testdata/hostile-c", "plugins/testdata/minimal-c", "plugins/testdata/sdkcheck-c"} {
		modules[dir] = cModule(t, dir)
	}
	if cToolchain.err == nil {
		newer := filepath.Join(t.TempDir(), "tally-newer.wasm")
		if err := wasmbuild.BuildC(ctx, repoRoot, filepath.Join(repoRoot, "examples/tally-c"), newer,
			"-mbulk-memory", "-mnontrapping-fptoint", "-msign-ext", "-mmultivalue", "-mreference-types"); err != nil {
			t.Fatal(err)
		}
		modules["examples/tally-c with newer features"] = newer
	}
	for dir, path := range modules {
		wasm, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out, err := plugins.InstrumentModule(wasm)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if !bytes.Contains(out, []byte("tari_interrupt")) || len(out) <= len(wasm) {
			t.Fatalf("%s: not instrumented (%d → %d bytes)", dir, len(wasm), len(out))
		}
		if _, err := rt.CompileModule(ctx, out); err != nil {
			t.Fatalf("%s: the rewritten module does not compile: %v", dir, err)
		}
	}
}

// A C plugin that uses only the host functions tari_v1 had before state
// (events, config, log) imports nothing else, so it loads on any tari_v1
// server; it handles the events it gets and skips the others.
func TestCPluginOlderABISubsetLoads(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		wasm, err := os.ReadFile(cModule(t, "plugins/testdata/minimal-c"))
		if err != nil {
			t.Fatal(err)
		}
		rt := wazero.NewRuntime(ctx)
		defer rt.Close(ctx)
		compiled, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		original := map[string]bool{"event_read": true, "result_write": true, "log": true, "config_get": true}
		for _, f := range compiled.ImportedFunctions() {
			mod, name, _ := f.Import()
			if mod == "tari_v1" && !original[name] {
				t.Fatalf("minimal-c imports tari_v1.%s", name)
			}
		}

		dir := t.TempDir()
		installCPlugin(t, dir, "plugins/testdata/minimal-c", map[string]any{"id": "minimal", "version": "0.1.0", "abi": 1,
			"events": []string{"*"}, "limits": map[string]any{"memory_pages": 4}})
		sink := &logSink{}
		cfg := baseConfig(db, envMap{"TPG_PLUGIN_MINIMAL_GREETING": "hello from C:"}, sink)
		cfg.Dir = dir
		cfg.NoDefaults = true
		cfg.ReloadInterval = -1
		mgr := start(t, cfg)
		appendEvent(t, db, core.EventNewOrder, core.OrderEvent{Order: order("9001", core.OrderNew)})
		// Go's encoder writes <, &, > as \u escapes: the C library must undo them.
		appendEvent(t, db, core.EventOrderPaid, paidOrder(`9001 <&> "q" \ é`, 10))
		mgr.Notify()
		waitFor(t, "both events acknowledged", 60*time.Second, func() bool {
			p := pluginInfo(t, mgr, "minimal")
			return p.Pending == 0 && p.Position > 0
		})
		if p := pluginInfo(t, mgr, "minimal"); p.State != plugins.StateActive || p.Failed != 0 {
			t.Fatalf("minimal = %+v", p)
		}
		if !sink.contains(`hello from C: OrderPaid 9001 <&> "q" \ é plugin=minimal`) {
			t.Fatalf("log lines: %q", sink.lines)
		}
	})
}

// sdk/c's helpers against the real host (plugins/testdata/sdkcheck-c checks
// them from inside the guest and fails naming the first that does not hold):
// JSON reading and quoting, config values longer than the first buffer,
// state get/set/list/delete and integer overflow, HTTP with a binary body
// both ways and a refused host. Two events: the second runs on the state the
// first committed.
func TestCSDKHelpers(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/echo" {
				b, _ := io.ReadAll(r.Body)
				w.Write(b)
				return
			}
			w.Header().Set("X-Check", "yes")
			w.WriteHeader(http.StatusCreated)
			for i := 0; i < 256; i++ {
				w.Write([]byte{byte(i)})
			}
		}))
		defer srv.Close()
		var forbiddenHits atomic.Int32
		forbidden := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { forbiddenHits.Add(1) }))
		defer forbidden.Close()

		dir := t.TempDir()
		installCPlugin(t, dir, "plugins/testdata/sdkcheck-c", map[string]any{"id": "sdkcheck", "version": "0.1.0", "abi": 1,
			"events": []string{"*"}, "http_from_config": []string{"URL"}, "limits": map[string]any{"memory_pages": 16}})
		sink := &logSink{}
		cfg := baseConfig(db, envMap{"TPG_PLUGIN_SDKCHECK_LONG": strings.Repeat("0123456789", 100),
			"TPG_PLUGIN_SDKCHECK_URL": srv.URL, "TPG_PLUGIN_SDKCHECK_FORBIDDEN_URL": forbidden.URL}, sink)
		cfg.Dir = dir
		cfg.NoDefaults = true
		cfg.ReloadInterval = -1
		mgr := start(t, cfg)
		evs := []core.Event{appendEvent(t, db, core.EventOrderPaid, paidOrder("9101", 1)),
			appendEvent(t, db, core.EventNewOrder, core.OrderEvent{Order: order("9102", core.OrderNew)})}
		mgr.Notify()
		waitFor(t, "both events handled", 60*time.Second, func() bool {
			p := pluginInfo(t, mgr, "sdkcheck")
			return p.Pending == 0 && p.Position > 0
		})
		if p := pluginInfo(t, mgr, "sdkcheck"); p.Failed != 0 {
			failed, _ := mgr.FailedDeliveries(ctx)
			t.Fatalf("sdkcheck failed: %+v", failed)
		}
		for _, ev := range evs {
			if !sink.contains("checks passed on " + ev.ID) {
				t.Fatalf("no success line for event %s: %q", ev.ID, sink.lines)
			}
		}
		if v, _ := stateValue(t, db, "sdkcheck", "k/2"); v != strings.Repeat("b", 300) {
			t.Fatalf("k/2 = %q", v)
		}
		if v, _ := stateValue(t, db, "sdkcheck", "n"); v != "0" {
			t.Fatalf("n = %q", v)
		}
		for _, k := range []string{"k/1", "huge"} {
			if _, ok := stateValue(t, db, "sdkcheck", k); ok {
				t.Fatalf("%s is stored", k)
			}
		}
		if n := forbiddenHits.Load(); n != 0 {
			t.Fatalf("the non-granted host got %d requests", n)
		}
	})
}
