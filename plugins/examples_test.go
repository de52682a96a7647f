package plugins_test

import (
	"encoding/json"
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
	"github.com/tari-payment/tps/core/store/storetest"
)

// The example plugins, built from source and dropped into a plugin folder
// with their own manifests, work as a merchant would use them.
func TestExamplePlugins(t *testing.T) {
	if raceBuild {
		// Two more wasm builds plus slow guest calls under -race: the
		// examples only use the SDK, which the other tests cover with -race.
		t.Skip("run without -race")
	}
	db := storetest.SQLite(t)
	dir := t.TempDir()
	for _, ex := range []string{"email", "dashboard"} {
		wasm := buildOnce(t, "examples/"+ex)
		mb, err := os.ReadFile(filepath.Join(repoRoot, "examples", ex, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, ex, "manifest.json"), mb)
		b, _ := os.ReadFile(wasm)
		writeFile(t, filepath.Join(dir, ex, "plugin.wasm"), b)
	}
	var mu sync.Mutex
	var mails []map[string]string
	var pushes []map[string]any
	mail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer mail-key" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		var m map[string]string
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		mails = append(mails, m)
		mu.Unlock()
	}))
	defer mail.Close()
	dash := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		mu.Lock()
		pushes = append(pushes, m)
		mu.Unlock()
	}))
	defer dash.Close()
	env := envMap{
		"TPG_PLUGIN_EMAIL_API_URL": mail.URL + "/send", "TPG_PLUGIN_EMAIL_API_KEY": "mail-key", "TPG_PLUGIN_EMAIL_TO": "merchant@example.com",
		"TPG_PLUGIN_DASHBOARD_URL": dash.URL + "/totals",
	}
	cfg := baseConfig(db, env, &logSink{})
	cfg.Dir = dir
	cfg.NoDefaults = true
	mgr := start(t, cfg)
	appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("5001", core.OrderPaid)})
	appendEvent(t, db, core.EventPaymentReceived, core.PaymentEvent{Payment: core.Payment{TxID: "tx9", Sender: "14sender", Amount: 2_500_000,
		PaymentType: core.PaymentOnChain, Status: core.PaymentReceived, CreatedAt: time.Unix(0, 0).UTC(), UpdatedAt: time.Unix(0, 0).UTC()}})
	mgr.Notify()
	waitFor(t, "mails and pushes", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(mails) == 2 && len(pushes) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	if mails[0]["to"] != "merchant@example.com" || mails[0]["subject"] != "Order 5001 paid" || !strings.Contains(mails[0]["text"], "10.000000 XTR") {
		t.Fatalf("mail = %v", mails[0])
	}
	if mails[1]["subject"] != "Payment of 2.500000 XTR received" {
		t.Fatalf("mail = %v", mails[1])
	}
	last := pushes[1]
	if last["orders_paid"] != 1.0 || last["orders_paid_total"] != 10_000_000.0 || last["payments_received"] != 1.0 || last["payments_received_total"] != 2_500_000.0 {
		t.Fatalf("dashboard totals = %v", last)
	}
}
