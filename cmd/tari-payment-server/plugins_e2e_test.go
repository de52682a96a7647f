package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
)

// fakeShopifyREST records the Admin REST calls the shopify plugin makes and
// fails the first "mark paid" with a 500 and the first cancel with a 429, so
// the test also proves the retry path delivers exactly one effective call.
type fakeShopifyREST struct {
	mu        sync.Mutex
	calls     []string
	tx        map[string][]map[string]any
	cancelled map[string]bool
	failed500 bool
	failed429 bool
	badTokens int
}

func (f *fakeShopifyREST) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("X-Shopify-Access-Token") != "shpat_test" {
		f.badTokens++
		http.Error(w, `{"errors":"bad token"}`, http.StatusUnauthorized)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/admin/api/2024-04")
	parts := strings.Split(strings.Trim(path, "/"), "/") // orders, <id>, transactions.json | cancel.json
	if len(parts) < 2 || parts[0] != "orders" {
		http.NotFound(w, r)
		return
	}
	id := strings.TrimSuffix(parts[1], ".json")
	switch {
	case r.Method == "GET" && len(parts) == 3 && parts[2] == "transactions.json":
		json.NewEncoder(w).Encode(map[string]any{"transactions": f.tx[id]})
	case r.Method == "POST" && len(parts) == 3 && parts[2] == "transactions.json":
		if !f.failed500 {
			f.failed500 = true
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		var body struct {
			Transaction map[string]any `json:"transaction"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		t := body.Transaction
		t["id"], t["status"] = len(f.tx[id])+1, "success"
		f.tx[id] = append(f.tx[id], t)
		f.calls = append(f.calls, "paid "+id+" "+t["amount"].(string))
		w.Write([]byte(`{"transaction":{}}`))
	case r.Method == "GET" && len(parts) == 2:
		var at any
		if f.cancelled[id] {
			at = "2024-03-01T10:00:00Z"
		}
		json.NewEncoder(w).Encode(map[string]any{"order": map[string]any{"id": id, "cancelled_at": at}})
	case r.Method == "POST" && len(parts) == 3 && parts[2] == "cancel.json":
		if !f.failed429 {
			f.failed429 = true
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		f.cancelled[id] = true
		f.calls = append(f.calls, "cancel "+id)
		w.Write([]byte(`{"order":{}}`))
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeShopifyREST) snapshot() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// webhookReceiver checks each delivery's signature and records event ids.
type webhookReceiver struct {
	mu     sync.Mutex
	seen   map[string]string // event id → type
	badSig int
}

func (h *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	mac := hmac.New(sha256.New, []byte("whsec"))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	json.Unmarshal(body, &ev)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !hmac.Equal([]byte(r.Header.Get("X-Tps-Signature")), []byte(want)) || ev.ID == "" {
		h.badSig++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	h.seen[ev.ID] = ev.Type
}

func (h *webhookReceiver) count() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.seen) }

// TestDefaultPluginsThroughServer runs the server as a merchant would, with
// the shipped shopify and webhook plugins configured: a paid order is marked
// paid on Shopify once (despite a 500 on the first try), a cancelled order is
// cancelled once (despite a 429), and every outbox event reaches the webhook
// receiver with a valid signature.
func TestDefaultPluginsThroughServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the default plugins")
	}
	shop := &fakeShopifyREST{tx: map[string][]map[string]any{}, cancelled: map[string]bool{}}
	shopSrv := httptest.NewServer(shop)
	defer shopSrv.Close()
	hook := &webhookReceiver{seen: map[string]string{}}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()

	dbURL := storetest.SQLiteURL(t)
	s := start(t, dbURL, map[string]string{
		"TPG_SHOPIFY_API_URL":            shopSrv.URL + "/admin/api/2024-04",
		"TPG_SHOPIFY_ADMIN_ACCESS_TOKEN": "shpat_test",
		"TPG_PLUGIN_WEBHOOK_URLS":        hookSrv.URL + "/events",
		"TPG_PLUGIN_WEBHOOK_SECRET":      "whsec",
		"TPG_PLUGIN_CACHE_DIR":           filepath.Join(t.TempDir(), "cache"),
	})

	cust := apitest.NewWallet()
	memo := tari.SignMemo(cust.Key, cust.Addr, "1001")
	note, _ := json.Marshal(memo)
	s.order("1001", "c1", "12.50", apitest.Str(string(note)))
	s.order("1002", "c2", "3.00", nil)
	s.payIn(cust.Addr, 12_500_000, "tx-1001", nil, nil)
	s.confirm("tx-1001")
	if st := s.status("1001"); st != "Paid" {
		t.Fatalf("order 1001: %s", st)
	}
	if r := s.adm("POST", "/api/cancel", map[string]any{"order_id": "1002", "reason": "customer asked"}); r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}

	db, err := store.Connect(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	events, err := store.EventsAfter(context.Background(), db, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) && (len(shop.snapshot()) < 2 || hook.count() < len(events)) {
		time.Sleep(100 * time.Millisecond)
	}
	calls := shop.snapshot()
	if strings.Join(calls, ";") != "paid 1001 12.50;cancel 1002" && strings.Join(calls, ";") != "cancel 1002;paid 1001 12.50" {
		t.Fatalf("Shopify calls = %q, want one mark-paid of 1001 and one cancel of 1002\n%s", calls, s.out.String())
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if hook.badSig != 0 || shop.badTokens != 0 {
		t.Fatalf("bad signatures %d, bad tokens %d", hook.badSig, shop.badTokens)
	}
	for _, ev := range events {
		if hook.seen[ev.ID] != string(ev.Type) {
			t.Errorf("event %s (%s) not delivered to the webhook", ev.ID, ev.Type)
		}
	}
	if len(hook.seen) != len(events) {
		t.Errorf("webhook saw %d events, outbox has %d", len(hook.seen), len(events))
	}
	// The admin API reports both plugins active.
	r := s.adm("GET", "/api/plugins", nil)
	if r.Status != 200 || strings.Count(string(r.Body), `"state":"active"`) != 2 {
		t.Fatalf("plugins: %d %s", r.Status, r.Body)
	}
	// Re-enabling is wired through to the manager: a known plugin comes back
	// active, an unknown one is a 404.
	if r := s.adm("POST", "/api/plugins/webhook/enable", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"state":"active"`) {
		t.Fatalf("enable webhook: %d %s", r.Status, r.Body)
	}
	if r := s.adm("POST", "/api/plugins/nosuch/enable", nil); r.Status != 404 {
		t.Fatalf("enable unknown plugin: %d %s", r.Status, r.Body)
	}
}
