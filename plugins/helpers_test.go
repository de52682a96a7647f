package plugins_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/internal/wasmbuild"
	"github.com/tari-payment/tps/plugins"
)

var (
	repoRoot string // module root: plugin sources are built from here
	shared   string // per test binary: built modules and the warm compile cache
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runChild() // never returns
	}
	repoRoot = wasmbuild.RepoRoot()
	if repoRoot == "" {
		fmt.Fprintln(os.Stderr, "cannot find the module root")
		os.Exit(1)
	}
	var err error
	if shared, err = os.MkdirTemp("", "tps-plugins-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(shared)
	os.Exit(code)
}

var builds sync.Map // package dir → *buildResult

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// buildOnce compiles a plugin package from source at most once per test
// binary (a Go wasm build takes seconds).
func buildOnce(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &buildResult{})
	b := v.(*buildResult)
	b.once.Do(func() {
		b.path = filepath.Join(shared, "modules", strings.ReplaceAll(pkg, "/", "_")+".wasm")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		b.err = wasmbuild.Build(ctx, repoRoot, filepath.Join(repoRoot, pkg), b.path)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// installPlugin drops module + manifest into dir/<id>/ as a merchant would.
func installPlugin(t testing.TB, dir, wasm string, manifest map[string]any) {
	t.Helper()
	id := manifest["id"].(string)
	d := filepath.Join(dir, id)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if wasm != "" {
		b, err := os.ReadFile(wasm)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "plugin.wasm"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mb, _ := json.Marshal(manifest)
	if err := os.WriteFile(filepath.Join(d, "manifest.json"), mb, 0o644); err != nil {
		t.Fatal(err)
	}
}

type envMap map[string]string

func (e envMap) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

// logSink keeps log lines so tests can check that problems are reported.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	s.mu.Lock()
	s.lines = append(s.lines, b.String())
	s.mu.Unlock()
	return nil
}
func (s *logSink) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrSink{s, as}
}
func (s *logSink) WithGroup(string) slog.Handler { return s }
func (s *logSink) contains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

type attrSink struct {
	s  *logSink
	as []slog.Attr
}

func (a *attrSink) Enabled(context.Context, slog.Level) bool { return true }
func (a *attrSink) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(a.as...)
	return a.s.Handle(ctx, r)
}
func (a *attrSink) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrSink{a.s, append(append([]slog.Attr{}, a.as...), as...)}
}
func (a *attrSink) WithGroup(string) slog.Handler { return a }

func fastDelivery() outbox.Options {
	return outbox.Options{PollInterval: 100 * time.Millisecond, BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
		MaxAttempts: 4, Lease: 30 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// baseConfig is a manager config on the shared build and compile caches.
func baseConfig(db *store.DB, env envMap, sink *logSink) plugins.Config {
	return plugins.Config{
		Dir:        "",
		CacheDir:   filepath.Join(shared, "cache"),
		DB:         db,
		Env:        env.lookup,
		Logger:     slog.New(sink),
		Delivery:   fastDelivery(),
		CrashLimit: 100,
	}
}

func start(t testing.TB, cfg plugins.Config) *plugins.Manager {
	t.Helper()
	mgr, err := plugins.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mgr.Close() })
	return mgr
}

func appendEvent(t testing.TB, db *store.DB, typ core.EventType, payload any) core.Event {
	t.Helper()
	var ev core.Event
	err := db.WriteTx(context.Background(), func(stx *store.Tx) error {
		ctx, tx := stx.Context(), stx.IDB()
		var err error
		ev, err = store.AppendEvent(ctx, tx, db.Kind, time.Now(), typ, payload)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// WriteTx returns once the event is readable; on PostgreSQL its seq is
	// given only then.
	if err := db.NewSelect().TableExpr("events").Column("seq").Where("id = ?", ev.ID).Scan(context.Background(), &ev.Seq); err != nil {
		t.Fatal(err)
	}
	return ev
}

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pluginInfo(t testing.TB, mgr *plugins.Manager, id string) plugins.PluginInfo {
	t.Helper()
	all, err := mgr.Plugins(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("plugin %s not listed in %+v", id, all)
	return plugins.PluginInfo{}
}

func str(s string) *string { return &s }

func order(orderID string, status core.OrderStatus) core.Order {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	return core.Order{ID: 7, OrderID: orderID, AltID: str("#" + orderID), CustomerID: "42", TotalPrice: 10_000_000,
		OriginalPrice: str("10.00"), Currency: "USD", CreatedAt: now, UpdatedAt: now, Status: status, AmountOutstanding: str("10.00")}
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
