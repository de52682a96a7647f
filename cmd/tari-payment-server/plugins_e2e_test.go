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
	"github.com/tari-payment/tps/api/shopify/shopifytest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/tari"
)

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

// TestDefaultPluginsThroughServer runs the server as a merchant connecting a
// store today would, with only the app's client id and secret (no fixed
// token, no separate HMAC secret) and the shipped shopify and webhook
// plugins: the webhooks verify with the client secret, an order paid through
// the wallet is marked paid in Shopify through GraphQL (despite a 5xx on the
// first try), an order that expires here is cancelled in Shopify with its
// stock restocked (despite a THROTTLED answer), an order Shopify refuses to
// mark paid (userErrors) is listed in the failed deliveries, nothing calls
// REST, and every outbox event reaches the webhook receiver with a valid
// signature.
func TestDefaultPluginsThroughServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the default plugins")
	}
	cache := filepath.Join(t.TempDir(), "cache") // the plugins are built once
	for name, url := range dbURLs(t) {
		t.Run(name, func(t *testing.T) { testDefaultPlugins(t, url(t), cache) })
	}
}

func testDefaultPlugins(t *testing.T, dbURL, cache string) {
	shop := shopifytest.New("app-client-id", secret)
	defer shop.Close()
	shop.AddOrder(shopifytest.Order{ID: 1001, Total: "12.50", Currency: "XTR"})
	shop.AddOrder(shopifytest.Order{ID: 1002, Total: "3.00", Currency: "XTR"})
	shop.Fail("orderMarkAsPaid", shopifytest.Fault{Status: 502})
	shop.Fail("orderCancel", shopifytest.Fault{Throttled: true})
	hook := &webhookReceiver{seen: map[string]string{}}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()

	s := start(t, dbURL, map[string]string{
		"TPG_SHOPIFY_API_URL":         shop.APIURL(),
		"TPG_SHOPIFY_CLIENT_ID":       shop.ClientID,
		"TPG_SHOPIFY_CLIENT_SECRET":   secret,
		"TPG_SHOPIFY_HMAC_SECRET":     "", // defaults to the client secret
		"TPG_PLUGIN_WEBHOOK_URLS":     hookSrv.URL + "/events",
		"TPG_PLUGIN_WEBHOOK_SECRET":   "whsec",
		"TPG_PLUGIN_CACHE_DIR":        cache,
		"TPG_UNCLAIMED_ORDER_TIMEOUT": "2s",
		"TPG_EXPIRY_CHECK_INTERVAL":   "200ms",
	})

	// The server's own Admin calls (shop currency, repricing) and the plugin's
	// share one token source: one token for the whole run.
	shop.AddVariant(31, shopifytest.Variant{ProductID: 3, Price: "2.00"})
	if r := s.adm("POST", "/api/exchange_rate", map[string]any{"currency": "USD", "rate": 4_000_000}); r.Status != 200 {
		t.Fatalf("rate: %d %s", r.Status, r.Body)
	}
	if p := shop.VariantTariPrice(31); p != "8000000" {
		t.Fatalf("variant repriced to %q", p)
	}
	cust := apitest.NewWallet()
	memo := tari.SignMemo(cust.Key, cust.Addr, "1001")
	note, _ := json.Marshal(memo)
	s.order("1001", "c1", "12.50", apitest.Str(string(note)))
	s.order("1002", "c2", "3.00", nil) // never claimed: expires
	// Shopify refuses to mark 1003 paid: parked, shown in the failed list.
	shop.AddOrder(shopifytest.Order{ID: 1003, Total: "1.00", Currency: "XTR"})
	shop.Fail("orderMarkAsPaid", shopifytest.Fault{OrderID: 1003, UserError: "Order is locked for editing"})
	cust3 := apitest.NewWallet()
	note3, _ := json.Marshal(tari.SignMemo(cust3.Key, cust3.Addr, "1003"))
	s.order("1003", "c3", "1.00", apitest.Str(string(note3)))
	s.payIn(cust3.Addr, 1_000_000, "tx-1003", nil, nil)
	s.confirm("tx-1003")
	s.payIn(cust.Addr, 12_500_000, "tx-1001", nil, nil)
	s.confirm("tx-1001")
	if st := s.status("1001"); st != "Paid" {
		t.Fatalf("order 1001: %s", st)
	}

	deadline := time.Now().Add(90 * time.Second)
	for {
		o1, _ := shop.Order(1001)
		o2, _ := shop.Order(1002)
		failed := s.adm("GET", "/api/plugins/deliveries/failed", nil)
		if o1.MarkedPaid == 1 && o2.Cancels == 1 && strings.Contains(string(failed.Body), "Order is locked for editing") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Shopify: 1001 %+v, 1002 %+v\n%s", o1, o2, s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := s.status("1002"); st != "Expired" {
		t.Fatalf("order 1002: %s", st)
	}
	o1, _ := shop.Order(1001)
	o2, _ := shop.Order(1002)
	if o1.FinancialStatus != "PAID" || o1.CancelledAt != nil {
		t.Fatalf("order 1001 in Shopify = %+v", o1)
	}
	if !o2.Restocked || o2.Refunded || o2.CancelReason == "" || !strings.Contains(o2.StaffNote, "expired") {
		t.Fatalf("order 1002 in Shopify = %+v, want cancelled with restock, no refund, a staff note", o2)
	}
	if o3, _ := shop.Order(1003); o3.MarkedPaid != 0 {
		t.Fatalf("order 1003 in Shopify = %+v", o3)
	}
	st := shop.Stats()
	if len(st.RESTCalls) != 0 || st.TokensIssued != 1 || st.Rejected != 0 || st.Count("productVariantsBulkUpdate") != 1 {
		t.Fatalf("Shopify stats = %+v", st)
	}
	if strings.Contains(s.out.String(), "shpat_fake") || strings.Contains(s.out.String(), secret) {
		t.Fatal("the log holds a token or the client secret")
	}

	db, err := store.Connect(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var events []core.Event
	for time.Now().Before(deadline) {
		if events, err = store.EventsAfter(context.Background(), db, 0, 1000); err != nil {
			t.Fatal(err)
		}
		if hook.count() >= len(events) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	hook.mu.Lock()
	if hook.badSig != 0 {
		t.Fatalf("bad signatures %d", hook.badSig)
	}
	for _, ev := range events {
		if hook.seen[ev.ID] != string(ev.Type) {
			t.Errorf("event %s (%s) not delivered to the webhook", ev.ID, ev.Type)
		}
	}
	hook.mu.Unlock()
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
