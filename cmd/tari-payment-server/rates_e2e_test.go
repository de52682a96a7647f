package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/shopify/shopifytest"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/internal/wasmbuild"
)

// priceSource is a fake price API: {"tari":{"usd":…,"eur":…}}.
type priceSource struct {
	mu       sync.Mutex
	prices   map[string]string // currency (lower case) → price of one Tari, a JSON number
	requests atomic.Int64
}

func (p *priceSource) set(cur, price string) { p.mu.Lock(); p.prices[cur] = price; p.mu.Unlock() }

func (p *priceSource) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	doc := map[string]json.RawMessage{}
	for k, v := range p.prices {
		doc[k] = json.RawMessage(v)
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"tari": doc})
	p.requests.Add(1)
}

// TestRatesPluginThroughServer runs the rates example in the real server,
// scheduled every second against a fake price source on loopback: the
// plugin sets the USD and EUR rates through its rates:write action (which
// reprices the shop's products as the admin route does), follows the price
// as it moves within the merchant's 10%, refuses (and logs) a jump past it,
// leaving the rate as it was, refuses a first price past the merchant's
// absolute bound, and every rate it set is in the plugin_actions
// audit trail under its name. On PostgreSQL a second server instance runs
// beside the first, and each period still has one Tick.
func TestRatesPluginThroughServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the rates example")
	}
	wasm := filepath.Join(t.TempDir(), "rates.wasm")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root := wasmbuild.RepoRoot()
	if err := wasmbuild.Build(ctx, root, filepath.Join(root, "examples/rates"), wasm); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(t.TempDir(), "cache")
	for name, url := range dbURLs(t) {
		t.Run(name, func(t *testing.T) { testRatesPlugin(t, url(t), wasm, cache) })
	}
}

func testRatesPlugin(t *testing.T, dbURL, wasm, cache string) {
	// The example's own manifest, with the schedule shortened for the test.
	var m map[string]any
	b, err := os.ReadFile(filepath.Join(wasmbuild.RepoRoot(), "examples/rates/manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["schedule"] = map[string]string{"every": "1s"}
	dir := t.TempDir()
	mb, _ := json.Marshal(m)
	code, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "rates"), 0o755)
	os.WriteFile(filepath.Join(dir, "rates", "manifest.json"), mb, 0o644)
	os.WriteFile(filepath.Join(dir, "rates", "plugin.wasm"), code, 0o644)

	src := &priceSource{prices: map[string]string{"usd": "0.004", "eur": "0.005", "gbp": "5"}}
	srcSrv := httptest.NewServer(src)
	defer srcSrv.Close()
	shop := shopifytest.New("app-client-id", secret) // the shop's currency is USD
	defer shop.Close()
	shop.AddVariant(31, shopifytest.Variant{ProductID: 3, Price: "2.00"})

	env := map[string]string{
		"TPG_PLUGINS_DIR":                     dir,
		"TPG_PLUGINS_DISABLE":                 "shopify,webhook",
		"TPG_PLUGIN_CACHE_DIR":                cache,
		"TPG_PLUGIN_RATES_PRICE_URL":          srcSrv.URL + "/simple/price?ids=tari&vs_currencies=usd,eur",
		"TPG_PLUGIN_RATES_CURRENCIES":         "USD, EUR,GBP",
		"TPG_PLUGIN_RATES_MAX_PRICE":          "1",
		"TPG_PLUGIN_RATES_MAX_CHANGE_PERCENT": "10",
		"TPG_SHOPIFY_API_URL":                 shop.APIURL(),
		"TPG_SHOPIFY_CLIENT_ID":               shop.ClientID,
		"TPG_SHOPIFY_CLIENT_SECRET":           secret,
		"TPG_SHOPIFY_HMAC_SECRET":             "",
		"TPG_PLUGINS_RELOAD_INTERVAL":         "0",
	}
	s := start(t, dbURL, env)
	logs := []*lockedBuf{s.out}
	if strings.HasPrefix(dbURL, "postgres") {
		// A second instance on the same database runs the plugin too: still
		// one Tick per period, and the plugin's deliveries never overlap.
		logs = append(logs, start(t, dbURL, env).out)
	}
	logged := func(sub string) bool {
		for _, l := range logs {
			if strings.Contains(l.String(), sub) {
				return true
			}
		}
		return false
	}
	rate := func(cur string) int64 {
		r := s.adm("GET", "/api/exchange_rate/"+cur, nil)
		if r.Status != 200 {
			return 0
		}
		var v struct{ Rate int64 }
		r.JSON(t, &v)
		return v.Rate
	}
	waitRate := func(cur string, want int64) {
		t.Helper()
		waitUntil(t, fmt.Sprintf("the %s rate %d", cur, want), 60*time.Second, func() bool { return rate(cur) == want })
	}
	// 1 Tari = 0.004 USD: 250 000 000 µT per USD; 0.005 EUR: 200 000 000.
	waitRate("USD", 250_000_000)
	waitRate("EUR", 200_000_000)
	// The admin route's repricing ran: the USD variant costs 2.00 × rate.
	waitUntil(t, "the variant repriced", 30*time.Second, func() bool { return shop.VariantTariPrice(31) == "500000000" })

	// A first price outside the merchant's absolute bound is refused too.
	waitUntil(t, "the GBP refusal logged", 30*time.Second, func() bool {
		return logged("refused price 5: outside the merchant's bound MAX_PRICE=1")
	})
	if r := s.adm("GET", "/api/exchange_rate/GBP", nil); r.Status == 200 {
		t.Fatalf("GBP rate set from an out-of-bounds price: %s", r.Body)
	}

	// Within 10%: followed.
	src.set("usd", "0.0042")
	waitRate("USD", 238_095_238)
	waitUntil(t, "the variant repriced again", 30*time.Second, func() bool { return shop.VariantTariPrice(31) == "476190476" })

	// A jump of 43%: refused and logged, the rate stays; EUR still follows.
	src.set("usd", "0.006")
	src.set("eur", "0.0051")
	waitRate("EUR", 196_078_431)
	waitUntil(t, "the refusal logged", 30*time.Second, func() bool {
		return logged("refused price 0.006: it moved 42.86% since the last accepted price 0.0042")
	})
	seen := src.requests.Load()
	waitUntil(t, "two more periods", 30*time.Second, func() bool { return src.requests.Load() >= seen+2 })
	if got := rate("USD"); got != 238_095_238 {
		t.Fatalf("USD rate %d after an out-of-bounds price, want 238095238 kept", got)
	}
	if p := shop.VariantTariPrice(31); p != "476190476" {
		t.Fatalf("variant repriced to %s after a refused price", p)
	}

	// Back within bounds of the last accepted price: followed again.
	src.set("usd", "0.0044")
	waitRate("USD", 227_272_727)

	db, err := store.Connect(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), `SELECT plugin_id, action, outcome, request, detail FROM plugin_actions ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	// A call that failed (refused while the server was still starting, a
	// timeout on a loaded machine) leaves that currency's state as it was:
	// the plugin goes on with the other currencies, and a later Tick makes
	// the same change again. Allowed, as long as it then succeeds.
	var sets []string
	failed := map[string]bool{}
	for rows.Next() {
		var id, action, outcome, req, detail string
		if err := rows.Scan(&id, &action, &outcome, &req, &detail); err != nil {
			t.Fatal(err)
		}
		if id != "rates" || action != "rates.set" || (outcome != "ok" && outcome != "failed") {
			t.Fatalf("audit row %s %s %s %s: %s", id, action, outcome, req, detail)
		}
		if outcome == "failed" {
			t.Logf("a rates.set call failed; a later Tick must make it again: %s: %s", req, detail)
			failed[req] = true
			continue
		}
		delete(failed, req)
		sets = append(sets, req)
	}
	for req := range failed {
		t.Fatalf("rates.set %s failed and was never made again", req)
	}
	// One row per rate change (an unchanged price sets nothing): USD ×3, EUR ×2.
	if len(sets) != 5 {
		t.Fatalf("audit trail holds %d rate changes, want 5: %v", len(sets), sets)
	}
	// Each Tick is one outbox event addressed to the plugin, one per period
	// whatever the number of instances; none was parked.
	var ticks, periods int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT payload) FROM events WHERE type = 'Tick' AND subscriber = 'rates'`).Scan(&ticks, &periods); err != nil || ticks < 4 || periods != ticks {
		t.Fatalf("%d Tick events for %d periods (%v)", ticks, periods, err)
	}
	if r := s.adm("GET", "/api/plugins/deliveries/failed", nil); r.Status != 200 || strings.Contains(string(r.Body), "rates") {
		t.Fatalf("failed deliveries: %d %s", r.Status, r.Body)
	}
}
