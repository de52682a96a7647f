package plugins_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/plugins"
)

const childEnv = "TPS_PLUGINS_TEST_CHILD_DB"

// runChild is a server stand-in in its own process: it delivers the outbox
// to the webhook plugin until it is killed.
func runChild() {
	ctx := context.Background()
	db, err := store.Open(ctx, os.Getenv(childEnv))
	if err != nil {
		panic(err)
	}
	mgr, err := plugins.Start(ctx, plugins.Config{
		CacheDir: os.Getenv("TPS_CHILD_CACHE"),
		DB:       db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Delivery: outbox.Options{Lease: 2 * time.Second, PollInterval: 50 * time.Millisecond},
	})
	if err != nil {
		panic(err)
	}
	mgr.Notify()
	select {}
}

// Killing the process (SIGKILL, no clean shutdown, its lease left behind)
// with events pending loses nothing: the next start delivers every event
// once the dead process's lease has expired.
func TestKilledProcessLosesNoEvents(t *testing.T) {
	urls := map[string]string{"sqlite": storetest.SQLiteURL(t)}
	if os.Getenv(storetest.PostgresEnv) != "" {
		urls["postgres"] = storetest.PostgresURL(t)
	}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rec, _ := newReceiver(t, "kill-secret")
			slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(20 * time.Millisecond)
				rec.ServeHTTP(w, r)
			}))
			defer slow.Close()
			env := envMap{"TPG_PLUGIN_WEBHOOK_URLS": slow.URL, "TPG_PLUGIN_WEBHOOK_SECRET": "kill-secret"}
			cfg := baseConfig(db, env, &logSink{})
			cfg.Delivery.Lease = 2 * time.Second
			// Register the cursor (and build the module) before the events.
			start(t, cfg).Close()
			const n = 40
			var evs []core.Event
			for i := 0; i < n; i++ {
				evs = append(evs, appendEvent(t, db, core.EventPaymentConfirmed, core.PaymentEvent{Payment: core.Payment{TxID: "k", Amount: 1}}))
			}

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+url, "TPS_CHILD_CACHE="+cfg.CacheDir,
				"TPG_PLUGIN_WEBHOOK_URLS="+slow.URL, "TPG_PLUGIN_WEBHOOK_SECRET=kill-secret", "TPG_PLUGINS_DISABLE=shopify")
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the child to deliver some events", 60*time.Second, func() bool { return rec.count() >= 3 })
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			got := rec.count()
			if got == n {
				t.Fatal("the child delivered everything before it was killed; the test proves nothing")
			}
			t.Logf("killed after %d of %d events", got, n)

			mgr := start(t, cfg)
			waitFor(t, "every event after the restart", 60*time.Second, func() bool { return rec.count() == n })
			rec.mu.Lock()
			defer rec.mu.Unlock()
			for _, ev := range evs {
				if rec.seen[ev.ID] == 0 {
					t.Fatalf("event %s lost", ev.ID)
				}
			}
			if rec.badSig != 0 {
				t.Fatal("bad signature")
			}
			_ = mgr
		})
	}
}
