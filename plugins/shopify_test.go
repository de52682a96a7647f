package plugins_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// fakeShopify is the Admin REST API subset the shopify plugin uses, with
// state (transactions, cancellations) and injectable failures.
type fakeShopify struct {
	t     testing.TB
	token string

	mu        sync.Mutex
	nextID    int64
	txs       map[string][]map[string]any
	cancelled map[string]bool
	fail      map[string][]int // "METHOD /path" → statuses to answer first
	calls     []string
	markPaid  map[string][]map[string]any // successful mark-as-paid bodies
	captures  map[string][]int64          // captured authorisation ids
	cancels   map[string]int
	badToken  int
}

func newFakeShopify(t testing.TB) (*fakeShopify, *httptest.Server) {
	f := &fakeShopify{t: t, token: "shpat_test_token", nextID: 9000, txs: map[string][]map[string]any{}, cancelled: map[string]bool{},
		fail: map[string][]int{}, markPaid: map[string][]map[string]any{}, captures: map[string][]int64{}, cancels: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

const apiPrefix = "/admin/api/2024-04"

func (f *fakeShopify) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := r.Method + " " + strings.TrimPrefix(r.URL.Path, apiPrefix)
	f.calls = append(f.calls, key)
	if r.Header.Get("X-Shopify-Access-Token") != f.token {
		f.badToken++
		http.Error(w, `{"errors":"[API] Invalid API key or access token"}`, http.StatusUnauthorized)
		return
	}
	if q := f.fail[key]; len(q) > 0 {
		f.fail[key] = q[1:]
		if q[0] == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0.1")
		}
		http.Error(w, `{"errors":"try later"}`, q[0])
		return
	}
	path := strings.TrimPrefix(r.URL.Path, apiPrefix+"/orders/")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == "GET" && strings.HasSuffix(path, "/transactions.json"):
		id := strings.TrimSuffix(path, "/transactions.json")
		txs := f.txs[id]
		if txs == nil {
			txs = []map[string]any{}
		}
		json.NewEncoder(w).Encode(map[string]any{"transactions": txs})
	case r.Method == "POST" && strings.HasSuffix(path, "/transactions.json"):
		id := strings.TrimSuffix(path, "/transactions.json")
		var body struct {
			Transaction map[string]any `json:"transaction"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Transaction["kind"] != "capture" {
			http.Error(w, `{"errors":"bad transaction"}`, http.StatusUnprocessableEntity)
			return
		}
		tx := body.Transaction
		f.nextID++
		stored := map[string]any{"id": f.nextID, "kind": "capture", "status": "success", "parent_id": tx["parent_id"], "amount": tx["amount"], "currency": tx["currency"]}
		f.txs[id] = append(f.txs[id], stored)
		if tx["parent_id"] == nil {
			f.markPaid[id] = append(f.markPaid[id], tx)
		} else {
			f.captures[id] = append(f.captures[id], int64(tx["parent_id"].(float64)))
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"transaction": stored})
	case r.Method == "GET" && strings.HasSuffix(path, ".json"):
		id := strings.TrimSuffix(path, ".json")
		var at any
		if f.cancelled[id] {
			at = "2026-11-25T12:00:00Z"
		}
		json.NewEncoder(w).Encode(map[string]any{"order": map[string]any{"id": id, "cancelled_at": at}})
	case r.Method == "POST" && strings.HasSuffix(path, "/cancel.json"):
		id := strings.TrimSuffix(path, "/cancel.json")
		if b, _ := io.ReadAll(r.Body); len(b) != 0 {
			http.Error(w, `{"errors":"unexpected body"}`, http.StatusBadRequest)
			return
		}
		f.cancels[id]++
		f.cancelled[id] = true
		json.NewEncoder(w).Encode(map[string]any{"order": map[string]any{"id": id}})
	default:
		http.Error(w, `{"errors":"Not Found"}`, http.StatusNotFound)
	}
}

func (f *fakeShopify) snapshot() (markPaid map[string]int, captures map[string][]int64, cancels map[string]int, bad int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	markPaid = map[string]int{}
	for k, v := range f.markPaid {
		markPaid[k] = len(v)
	}
	captures = map[string][]int64{}
	for k, v := range f.captures {
		captures[k] = append([]int64{}, v...)
	}
	cancels = map[string]int{}
	for k, v := range f.cancels {
		cancels[k] = v
	}
	return markPaid, captures, cancels, f.badToken
}

// Paid and annulled orders become the reference's Admin API calls, with the
// access token, exactly once per event even when Shopify first answers 500
// or 429, and a redelivered OrderPaid neither captures nor marks paid twice.
func TestShopifyPluginMarksPaidCapturesAndCancelsExactlyOnce(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		fake, srv := newFakeShopify(t)
		fake.txs["1001"] = []map[string]any{{"id": 555, "kind": "authorization", "status": "success", "parent_id": nil, "amount": "10.00", "currency": "USD", "test": true}}
		fake.fail["POST /orders/1001/transactions.json"] = []int{500}
		fake.fail["GET /orders/1002.json"] = []int{429}
		fake.fail["GET /orders/1003/transactions.json"] = []int{503, 429}
		env := envMap{
			"TPG_SHOPIFY_API_URL":            srv.URL + apiPrefix,
			"TPG_SHOPIFY_ADMIN_ACCESS_TOKEN": fake.token,
			"TPG_SHOPIFY_CAPTURE_PAYMENTS":   "yes",
		}
		sink := &logSink{}
		mgr := start(t, baseConfig(db, env, sink))
		if p := pluginInfo(t, mgr, "shopify"); p.State != "active" || len(p.HTTPHosts) != 1 || !strings.HasPrefix(srv.URL, "http://"+p.HTTPHosts[0]) {
			t.Fatalf("shopify plugin = %+v", p)
		}
		// The webhook plugin has no URL: reported, and subscribed to nothing.
		if p := pluginInfo(t, mgr, "webhook"); p.State != "unconfigured" || !strings.Contains(p.Error, "TPG_PLUGIN_WEBHOOK_URLS") {
			t.Fatalf("webhook plugin = %+v", p)
		}
		if !sink.contains("plugin not configured") {
			t.Fatal("missing configuration was not logged")
		}

		paid := order("1001", core.OrderPaid)
		appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: paid})
		appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("not-a-shopify-id", core.OrderPaid)})
		cancelled := order("1002", core.OrderCancelled)
		appendEvent(t, db, core.EventOrderAnnulled, core.OrderAnnulledEvent{Order: cancelled, Status: core.OrderCancelled})
		o3 := order("1003", core.OrderPaid)
		o3.OriginalPrice, o3.AmountOutstanding = str("15.90"), nil
		appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: o3})
		// Events the plugin does not subscribe to are not delivered.
		appendEvent(t, db, core.EventNewOrder, core.OrderEvent{Order: order("1004", core.OrderNew)})
		mgr.Notify()

		waitFor(t, "Shopify calls", 30*time.Second, func() bool {
			mp, _, c, _ := fake.snapshot()
			return mp["1001"] == 1 && mp["1003"] == 1 && c["1002"] == 1
		})
		// The same OrderPaid again (a redelivery): Shopify already shows the
		// order paid and the authorisation captured, so nothing is repeated.
		appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: paid})
		appendEvent(t, db, core.EventOrderAnnulled, core.OrderAnnulledEvent{Order: cancelled, Status: core.OrderCancelled})
		mgr.Notify()
		waitFor(t, "all delivered", 30*time.Second, func() bool { p := pluginInfo(t, mgr, "shopify"); return p.Pending == 0 })

		mp, caps, cancels, bad := fake.snapshot()
		if mp["1001"] != 1 || mp["1003"] != 1 || len(mp) != 2 {
			t.Fatalf("mark-as-paid calls = %v, want one each for 1001 and 1003", mp)
		}
		if len(caps["1001"]) != 1 || caps["1001"][0] != 555 || len(caps) != 1 {
			t.Fatalf("captures = %v, want authorisation 555 captured once", caps)
		}
		if cancels["1002"] != 1 || len(cancels) != 1 {
			t.Fatalf("cancels = %v", cancels)
		}
		if bad != 0 {
			t.Fatalf("%d requests without the access token", bad)
		}
		fake.mu.Lock()
		body1001 := fake.markPaid["1001"][0]
		body1003 := fake.markPaid["1003"][0]
		fake.mu.Unlock()
		// Capture mode records amount_outstanding; otherwise original_price
		// (falling back to amount_outstanding), in the order's currency.
		if body1001["amount"] != "10.00" || body1001["currency"] != "USD" || body1001["kind"] != "capture" || body1001["parent_id"] != nil {
			t.Fatalf("mark paid body = %v", body1001)
		}
		if body1003["amount"] != "15.90" {
			t.Fatalf("mark paid body = %v", body1003)
		}
		if p := pluginInfo(t, mgr, "shopify"); p.Failed != 0 || p.LastError != "" {
			t.Fatalf("state after success = %+v", p)
		}
		fails, _ := mgr.FailedDeliveries(t.Context())
		if len(fails) != 0 {
			t.Fatalf("failed deliveries: %+v", fails)
		}
	})
}

// A 404 from Shopify is not worth retrying: the delivery is parked at once
// and can be redelivered by an admin.
func TestShopifyPermanentErrorIsParkedAndRedeliverable(t *testing.T) {
	db := storetest.SQLite(t)
	fake, srv := newFakeShopify(t)
	env := envMap{"TPG_SHOPIFY_SHOP": "ignored.myshopify.com", "TPG_SHOPIFY_API_URL": srv.URL + apiPrefix, "TPG_SHOPIFY_ADMIN_ACCESS_TOKEN": fake.token}
	cfg := baseConfig(db, env, &logSink{})
	mgr := start(t, cfg)
	fake.mu.Lock()
	fake.fail["GET /orders/2001/transactions.json"] = []int{404}
	fake.mu.Unlock()
	ev := appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("2001", core.OrderPaid)})
	mgr.Notify()
	var fails []pluginsFailed
	waitFor(t, "parked", 20*time.Second, func() bool {
		f, _ := mgr.FailedDeliveries(t.Context())
		fails = fails[:0]
		for _, x := range f {
			fails = append(fails, pluginsFailed{x.ID, x.PluginID, x.EventID, x.Attempts, x.LastError})
		}
		return len(f) == 1
	})
	if fails[0].plugin != "shopify" || fails[0].event != ev.ID || fails[0].attempts != 1 || !strings.Contains(fails[0].err, "HTTP 404") {
		t.Fatalf("failed = %+v", fails)
	}
	if n, err := mgr.RedeliverAll(t.Context()); err != nil || n != 1 {
		t.Fatalf("redeliver all: %d %v", n, err)
	}
	waitFor(t, "redelivered", 20*time.Second, func() bool { mp, _, _, _ := fake.snapshot(); return mp["2001"] == 1 })
	waitFor(t, "failure cleared", 20*time.Second, func() bool { f, _ := mgr.FailedDeliveries(t.Context()); return len(f) == 0 })
	if err := mgr.Redeliver(t.Context(), 424242); err == nil {
		t.Fatal("redelivering an unknown failure should fail")
	}
}

type pluginsFailed struct {
	id       int64
	plugin   string
	event    string
	attempts int
	err      string
}
