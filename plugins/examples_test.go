package plugins_test

import (
	"context"
	"encoding/json"
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
	"github.com/tari-payment/tps/plugins"
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
	env := envMap{
		"TPG_PLUGIN_EMAIL_API_URL": mail.URL + "/send", "TPG_PLUGIN_EMAIL_API_KEY": "mail-key", "TPG_PLUGIN_EMAIL_TO": "merchant@example.com",
	}
	cfg := baseConfig(db, env, &logSink{})
	cfg.Dir = dir
	cfg.NoDefaults = true
	mgr := start(t, cfg)
	appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("5001", core.OrderPaid)})
	last := appendEvent(t, db, core.EventPaymentReceived, core.PaymentEvent{Payment: core.Payment{TxID: "tx9", Sender: "14sender", Amount: 2_500_000,
		PaymentType: core.PaymentOnChain, Status: core.PaymentReceived, CreatedAt: time.Unix(0, 0).UTC(), UpdatedAt: time.Unix(0, 0).UTC()}})
	mgr.Notify()
	waitFor(t, "mails and dashboard totals", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		p := pluginInfo(t, mgr, "dashboard")
		return len(mails) == 2 && p.Pending == 0 && p.Position >= last.Seq
	})
	mu.Lock()
	defer mu.Unlock()
	if mails[0]["to"] != "merchant@example.com" || mails[0]["subject"] != "Order 5001 paid" || !strings.Contains(mails[0]["text"], "10.000000 XTR") {
		t.Fatalf("mail = %v", mails[0])
	}
	if mails[1]["subject"] != "Payment of 2.500000 XTR received" {
		t.Fatalf("mail = %v", mails[1])
	}
	resp, err := mgr.ServeRoute(context.Background(), "dashboard", plugins.RouteRequest{Method: "GET", Path: "/totals.json"})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Totals map[string]int64 `json:"totals"`
		Days   []map[string]any `json:"days"`
	}
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatalf("totals.json %s: %v", resp.Body, err)
	}
	if tt := got.Totals; tt["orders_paid"] != 1 || tt["orders_paid_total"] != 10_000_000 || tt["payments_received"] != 1 ||
		tt["payments_received_total"] != 2_500_000 || len(got.Days) != 1 {
		t.Fatalf("dashboard totals = %s (%+v)", resp.Body, pluginInfo(t, mgr, "dashboard"))
	}
	page, err := mgr.ServeRoute(context.Background(), "dashboard", plugins.RouteRequest{Method: "GET", Path: "/", Nonce: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if body := string(page.Body); page.Header["Content-Type"] != "text/html; charset=utf-8" || !strings.Contains(body, `<style nonce="abc">`) ||
		!strings.Contains(body, `<dd id="orders-paid-total">10.000000 XTR</dd>`) || strings.Count(body, "<svg") != 2 {
		t.Fatalf("dashboard page = %v\n%s", page.Header, body)
	}
}
