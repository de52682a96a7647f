package enginetest_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/plugins"
)

// Orders created, paid (by an admin fulfil and by a credit note) and
// cancelled through the engine reach Shopify through the shopify plugin, once
// each, with the access token; the first attempts fail with 500 and 429.
func TestEngineEventsReachShopify(t *testing.T) {
	cacheDir := t.TempDir() // shared by the subtests: the plugin is built once
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var mu sync.Mutex
		calls := map[string]int{}
		failed := map[string]bool{}
		var bodies []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if r.Header.Get("X-Shopify-Access-Token") != "shpat_e2e" {
				http.Error(w, "no token", http.StatusUnauthorized)
				return
			}
			key := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/admin/api/2024-04")
			if r.Method == "POST" && !failed[key] { // each write fails once first
				failed[key] = true
				status := http.StatusInternalServerError
				if strings.HasSuffix(key, "cancel.json") {
					status = http.StatusTooManyRequests
				}
				http.Error(w, "later", status)
				return
			}
			calls[key]++
			if r.Method == "POST" {
				b, _ := io.ReadAll(r.Body)
				bodies = append(bodies, key+" "+string(b))
			}
			switch {
			case strings.HasSuffix(key, "transactions.json") && r.Method == "GET":
				io.WriteString(w, `{"transactions":[]}`)
			case r.Method == "GET":
				io.WriteString(w, `{"order":{"cancelled_at":null}}`)
			default:
				io.WriteString(w, `{}`)
			}
		}))
		defer srv.Close()

		var wake atomic.Pointer[func()]
		cfg := engine.DefaultConfig()
		cfg.AfterCommit = func() {
			if f := wake.Load(); f != nil {
				(*f)()
			}
		}
		eng := engine.New(db, cfg)
		env := map[string]string{"TPG_SHOPIFY_API_URL": srv.URL + "/admin/api/2024-04", "TPG_SHOPIFY_ADMIN_ACCESS_TOKEN": "shpat_e2e"}
		mgr, err := plugins.Start(ctx, plugins.Config{
			CacheDir: filepath.Join(cacheDir, "cache"), DB: db,
			Env:      func(k string) (string, bool) { v, ok := env[k]; return v, ok },
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			Delivery: outbox.Options{BackoffMin: 20 * time.Millisecond, BackoffMax: 50 * time.Millisecond, PollInterval: time.Hour},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer mgr.Close()
		notify := mgr.Notify
		wake.Store(&notify) // PollInterval is an hour: only AfterCommit wakes delivery

		price := func(s string) *string { return &s }
		for _, id := range []string{"7001", "7002", "7003"} {
			if _, err := eng.NewOrder(ctx, engine.NewOrder{OrderID: id, CustomerID: "cust-" + id, TotalPrice: core.Tari(10),
				OriginalPrice: price("10.00"), Currency: "XTR", AmountOutstanding: price("10.00")}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := eng.FulfilOrder(ctx, "7001", "paid by bank transfer"); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.CancelOrder(ctx, "7002", "customer asked"); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.IssueCreditNote(ctx, "cust-7003", core.Tari(10), nil); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			done := calls["POST /orders/7001/transactions.json"] == 1 && calls["POST /orders/7002/cancel.json"] == 1 &&
				calls["POST /orders/7003/transactions.json"] == 1
			mu.Unlock()
			if done {
				break
			}
			if time.Now().After(deadline) {
				mu.Lock()
				t.Fatalf("Shopify calls = %v", calls)
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		for k, n := range calls {
			if strings.HasPrefix(k, "POST") && n != 1 {
				t.Fatalf("%s succeeded %d times", k, n)
			}
		}
		var paidBody map[string]map[string]any
		for _, b := range bodies {
			if strings.HasPrefix(b, "POST /orders/7001/transactions.json ") {
				json.Unmarshal([]byte(strings.TrimPrefix(b, "POST /orders/7001/transactions.json ")), &paidBody)
			}
		}
		if tx := paidBody["transaction"]; tx == nil || tx["amount"] != "10.00" || tx["currency"] != "XTR" || tx["kind"] != "capture" {
			t.Fatalf("mark paid body = %v (all: %v)", paidBody, bodies)
		}
	})
}
