package plugins_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/plugins"
)

// webhookReceiver checks the X-Tps-Signature of every body and records the
// event ids it saw.
type webhookReceiver struct {
	secret string
	mu     sync.Mutex
	seen   map[string]int
	bodies map[string][]byte
	badSig int
	fail   atomic.Int32 // answer 503 while > 0 (then decrement)
}

func newReceiver(t testing.TB, secret string) (*webhookReceiver, *httptest.Server) {
	r := &webhookReceiver{secret: secret, seen: map[string]int{}, bodies: map[string][]byte{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *webhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if r.fail.Load() > 0 {
		r.fail.Add(-1)
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	mac := hmac.New(sha256.New, []byte(r.secret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	r.mu.Lock()
	defer r.mu.Unlock()
	if !hmac.Equal([]byte(req.Header.Get("X-Tps-Signature")), []byte(want)) {
		r.badSig++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev struct {
		ID string `json:"id"`
	}
	json.Unmarshal(body, &ev)
	r.seen[ev.ID]++
	r.bodies[ev.ID] = body
}

func (r *webhookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// The webhook body is exactly {"id","type","created_at","data"} and signed.
func TestWebhookPluginBodyAndSignature(t *testing.T) {
	db := storetest.SQLite(t)
	rec, srv := newReceiver(t, "s3cret")
	rec2, srv2 := newReceiver(t, "s3cret")
	env := envMap{"TPG_PLUGIN_WEBHOOK_URLS": srv.URL + "/hook, " + srv2.URL + "/other", "TPG_PLUGIN_WEBHOOK_SECRET": "s3cret"}
	mgr := start(t, baseConfig(db, env, &logSink{}))
	if p := pluginInfo(t, mgr, "shopify"); p.State != "unconfigured" {
		t.Fatalf("shopify without settings = %+v", p)
	}
	rec.fail.Store(1) // the first POST fails: the event is retried
	ev := appendEvent(t, db, core.EventPaymentReceived, core.PaymentEvent{Payment: core.Payment{TxID: "tx1", Sender: "14abc", Amount: 5_000_000,
		PaymentType: core.PaymentOnChain, Status: core.PaymentReceived, CreatedAt: time.Unix(0, 0).UTC(), UpdatedAt: time.Unix(0, 0).UTC()}})
	mgr.Notify()
	waitFor(t, "webhook", 20*time.Second, func() bool { return rec.count() == 1 && rec2.count() == 1 })
	rec.mu.Lock()
	body := string(rec.bodies[ev.ID])
	rec.mu.Unlock()
	want := `{"id":"` + ev.ID + `","type":"PaymentReceived","created_at":"` + ev.CreatedAt.Format(time.RFC3339Nano) + `","data":` + string(ev.Payload) + `}`
	if body != want {
		t.Fatalf("body\n got %s\nwant %s", body, want)
	}
	if _, err := time.Parse(time.RFC3339, ev.CreatedAt.Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	if rec.badSig != 0 || rec2.badSig != 0 {
		t.Fatal("bad signature")
	}
}

// Hostile plugins are contained and reported while a well-behaved plugin
// keeps receiving every event.
// (SQLite only: containment does not depend on the database, and the
// PostgreSQL delivery paths are covered by the other tests.)
func TestHostilePluginsAreContained(t *testing.T) {
	func(t *testing.T, db *store.DB) {
		hostile := buildOnce(t, "plugins/testdata/hostile")
		dir := t.TempDir()
		forbidden := atomic.Int32{}
		fsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { forbidden.Add(1) }))
		defer fsrv.Close()
		rec, srv := newReceiver(t, "k")
		env := envMap{"TPG_PLUGIN_WEBHOOK_URLS": srv.URL, "TPG_PLUGIN_WEBHOOK_SECRET": "k", "TPG_PLUGIN_FORBIDDEN_URL": fsrv.URL}
		modes := []string{"loop", "membomb", "panic", "exit", "forbidden", "bigoutput"}
		for _, m := range modes {
			env["TPG_PLUGIN_"+strings.ToUpper(m)+"_MODE"] = m
			timeout := 30000 // generous: -race and a loaded CI machine slow every call down
			if m == "loop" {
				timeout = 300
			}
			installPlugin(t, dir, hostile, map[string]any{"id": m, "version": "0.1.0", "abi": 1, "events": []string{"*"},
				"limits": map[string]any{"timeout_ms": timeout, "memory_pages": 256}})
		}
		// An init() that never returns: the load is stopped at the deadline.
		env["TPG_PLUGIN_INITLOOP_MODE"] = "initloop"
		installPlugin(t, dir, hostile, map[string]any{"id": "initloop", "version": "0.1.0", "abi": 1, "events": []string{"*"},
			"limits": map[string]any{"timeout_ms": 300, "memory_pages": 256}})
		// Wrong ABI version in the manifest, and a module that is not a plugin.
		installPlugin(t, dir, hostile, map[string]any{"id": "abi2", "version": "0.1.0", "abi": 2, "events": []string{"*"}})
		installPlugin(t, dir, "", map[string]any{"id": "nomarker", "version": "0.1.0", "abi": 1, "events": []string{"*"}})
		writeFile(t, filepath.Join(dir, "nomarker", "plugin.wasm"), []byte("\x00asm\x01\x00\x00\x00"))
		installPlugin(t, dir, hostile, map[string]any{"id": "tampered", "version": "0.1.0", "abi": 1, "events": []string{"*"}, "sha256": strings.Repeat("0", 64)})
		writeFile(t, filepath.Join(dir, "garbage.json"), []byte(`{"id": "garbage", "abi": 1, "evnts": []}`))

		sink := &logSink{}
		cfg := baseConfig(db, env, sink)
		cfg.Dir = dir
		cfg.CrashLimit = 3
		n := 6
		if raceBuild {
			cfg.CrashLimit, n = 2, 2
		}
		d := fastDelivery()
		d.MaxAttempts = 2
		cfg.Delivery = d
		mgr := start(t, cfg)

		for id, want := range map[string]string{
			"abi2":     "built for ABI version 2, this server supports version 1",
			"nomarker": "does not export tari_abi_v1",
			"tampered": "does not match the manifest",
			"garbage":  `unknown field "evnts"`,
			"initloop": "stopped after the 300ms time limit (in _initialize)",
		} {
			if p := pluginInfo(t, mgr, id); p.State != plugins.StateBroken || !strings.Contains(p.Error, want) {
				t.Fatalf("%s = %+v, want broken with %q", id, p, want)
			}
			if !sink.contains("plugin not loaded plugin=" + id) {
				t.Fatalf("broken plugin %s not logged", id)
			}
		}

		var evs []core.Event
		for i := 0; i < n; i++ {
			evs = append(evs, appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("3000", core.OrderPaid)}))
			mgr.Notify()
		}
		// The healthy webhook plugin receives every event while the others fail.
		waitFor(t, "webhook deliveries", 120*time.Second, func() bool { return rec.count() == n })
		// Writes (what the API does) are not held up by the hostile plugins.
		t0 := time.Now()
		appendEvent(t, db, core.EventNewOrder, core.OrderEvent{Order: order("3001", core.OrderNew)})
		if took := time.Since(t0); took > 2*time.Second {
			t.Fatalf("a write took %s while plugins misbehaved", took)
		}
		mgr.Notify()
		waitFor(t, "webhook deliveries", 120*time.Second, func() bool { return rec.count() == n+1 })

		wantErr := map[string]string{
			"loop":      "time limit",
			"membomb":   "out of memory",
			"exit":      "exited with code 3",
			"panic":     "plugin panicked: boom on ",
			"forbidden": "is not granted to plugin forbidden",
			"bigoutput": "over the 65536-byte limit",
		}
		deadline := time.Now().Add(60 * time.Second)
		for _, m := range modes {
			for {
				p := pluginInfo(t, mgr, m)
				if strings.Contains(p.LastError+p.Error, wantErr[m]) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("plugin %s: want error %q, state %+v", m, wantErr[m], p)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		// Crashing plugins are disabled after CrashLimit crashes in a row; failing
		// (but not crashing) ones keep running and park their events.
		waitFor(t, "crashers disabled", 120*time.Second, func() bool {
			for _, m := range []string{"loop", "membomb", "exit"} {
				if pluginInfo(t, mgr, m).State != plugins.StateDisabled {
					return false
				}
			}
			return true
		})
		for _, m := range []string{"panic", "forbidden", "bigoutput"} {
			waitFor(t, m+" parks every event", 120*time.Second, func() bool {
				p := pluginInfo(t, mgr, m)
				return p.State == plugins.StateActive && p.Failed == int64(n+1) && p.Pending == 0
			})
		}
		if got := forbidden.Load(); got != 0 {
			t.Fatalf("the non-granted host received %d requests", got)
		}
		if p := pluginInfo(t, mgr, "loop"); p.Pending == 0 || !strings.Contains(p.Error, fmt.Sprintf("crashed %d times in a row", cfg.CrashLimit)) {
			t.Fatalf("disabled plugin = %+v (its events must wait, not be dropped)", p)
		}
		if !sink.contains("plugin disabled") {
			t.Fatal("disabling was not logged")
		}
		// Re-enabling resumes delivery (it will crash again and be disabled again).
		if err := mgr.Enable(context.Background(), "loop"); err != nil {
			t.Fatal(err)
		}
		if p := pluginInfo(t, mgr, "loop"); p.State != plugins.StateActive {
			t.Fatalf("after Enable: %+v", p)
		}
		if err := mgr.Enable(context.Background(), "nope"); err == nil {
			t.Fatal("enabling an unknown plugin should fail")
		}
	}(t, storetest.SQLite(t))
}

// Stopping the host with events pending and starting it again (a restart)
// delivers every event; the receiver sees each id at least once, signed.
func TestWebhookDeliveriesSurviveRestart(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		rec, srv := newReceiver(t, "restart-secret")
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(15 * time.Millisecond)
			rec.ServeHTTP(w, r)
		}))
		defer slow.Close()
		_ = srv
		env := envMap{"TPG_PLUGIN_WEBHOOK_URLS": slow.URL, "TPG_PLUGIN_WEBHOOK_SECRET": "restart-secret"}
		cfg := baseConfig(db, env, &logSink{})
		mgr1, err := plugins.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		const n = 40
		var evs []core.Event
		for i := 0; i < n; i++ {
			evs = append(evs, appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("4000", core.OrderPaid)}))
		}
		mgr1.Notify()
		waitFor(t, "first deliveries", 20*time.Second, func() bool { return rec.count() >= 3 })
		mgr1.Close()
		before := rec.count()
		if before == n {
			t.Fatal("everything was delivered before the stop; the test proves nothing")
		}
		if p := pendingOf(t, db, "webhook"); p == 0 {
			t.Fatal("no pending deliveries after the stop")
		}
		mgr2 := start(t, cfg) // a restart: no Notify, pending work resumes on its own
		waitFor(t, "every event after the restart", 30*time.Second, func() bool { return rec.count() == n })
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, ev := range evs {
			if rec.seen[ev.ID] == 0 {
				t.Fatalf("event %s never delivered", ev.ID)
			}
		}
		if rec.badSig != 0 {
			t.Fatalf("%d bad signatures", rec.badSig)
		}
		_ = mgr2
	})
}

func pendingOf(t testing.TB, db *store.DB, id string) int64 {
	t.Helper()
	subs, err := outbox.Subscribers(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if s.ID == id {
			return s.Pending
		}
	}
	return 0
}
