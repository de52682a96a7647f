package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/outbox"
)

// metricValue finds one sample in a Prometheus text exposition: name and
// the exact label set as written ({a="x",b="y"}, labels sorted).
func metricValue(t *testing.T, text, name, labels string) (float64, bool) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name+labels) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s%s: %v", name, labels, err)
	}
	return v, true
}

func wantMetric(t *testing.T, text, name, labels string, want float64) {
	t.Helper()
	v, found := metricValue(t, text, name, labels)
	if !found || v != want {
		t.Errorf("%s%s = %v (found %v), want %v", name, labels, v, found, want)
	}
}

func (h *harness) scrape() string {
	h.t.Helper()
	r := h.do("GET", "/metrics", nil, "")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		h.t.Fatalf("/metrics: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	return string(r.Body)
}

// failingSub is an outbox subscriber whose deliveries fail for good.
type failingSub struct{ id string }

func (f failingSub) ID() string                   { return f.id }
func (f failingSub) EventTypes() []core.EventType { return []core.EventType{core.EventNewOrder} }
func (f failingSub) Deliver(context.Context, core.Event) error {
	return outbox.Permanent(errors.New("receiver says 404"))
}

// TestMetrics drives real traffic and reads every metric family back from
// /metrics: requests by route template and status, latency, engine
// operations with errors, outbox depth and parked failures per subscriber,
// database reachability. /metrics needs no token and is not access-logged.
func TestMetrics(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		ctx := context.Background()
		// Two subscribers: "idle" never runs (its events pile up), "broken"
		// runs and parks every delivery.
		idle := outbox.New(h.db, outbox.Options{})
		if err := idle.Register(ctx, failingSub{"idle"}); err != nil {
			t.Fatal(err)
		}
		d := outbox.New(h.db, outbox.Options{PollInterval: 20 * time.Millisecond})
		if err := d.Register(ctx, failingSub{"broken"}); err != nil {
			t.Fatal(err)
		}
		d.Start()
		t.Cleanup(d.Close)

		h.order("m1", "cust", "10", nil)
		h.order("m2", "cust", "10", nil)
		customer := apitest.NewWallet()
		h.payIn(customer.Addr, 1_000_000, "tx-m1", apitest.Str(signMemo(customer, "m1")), nil)
		h.do("GET", "/api/order/id/m1", nil, h.adminT)
		h.do("GET", "/api/order/id/m2", nil, h.adminT)
		h.do("POST", "/api/cancel", `{"order_id":"nope","reason":"x"}`, h.adminT) // engine error (404)
		h.do("POST", "/api/cancel", `{"order_id":`, h.adminT)                     // bad JSON: not an engine op
		h.do("GET", "/no/such/path", nil, "")
		h.do("GET", "/health", nil, "")

		deadline := time.Now().Add(10 * time.Second)
		for {
			st, err := d.Subscriber(ctx, "broken")
			if err != nil {
				t.Fatal(err)
			}
			if st.Failed == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("broken subscriber state %+v", st)
			}
			time.Sleep(20 * time.Millisecond)
		}

		text := h.scrape()
		wantMetric(t, text, "tps_http_requests_total", `{method="GET",route="/api/order/id/:order_id",status="200"}`, 2)
		wantMetric(t, text, "tps_http_requests_total", `{method="POST",route="/api/cancel",status="404"}`, 1)
		wantMetric(t, text, "tps_http_requests_total", `{method="POST",route="/api/cancel",status="400"}`, 1)
		wantMetric(t, text, "tps_http_requests_total", `{method="GET",route="unmatched",status="404"}`, 1)
		wantMetric(t, text, "tps_http_requests_total", `{method="POST",route="/shopify/webhook/checkout_create",status="200"}`, 2)
		wantMetric(t, text, "tps_http_request_duration_seconds_count", `{method="GET",route="/api/order/id/:order_id"}`, 2)
		if strings.Contains(text, "/api/order/id/m1") {
			t.Error("a raw path reached a label")
		}
		if _, found := metricValue(t, text, "tps_http_request_duration_seconds_bucket", `{method="GET",route="/health",le="0.1"}`); !found {
			t.Error("no latency buckets")
		}
		wantMetric(t, text, "tps_engine_operations_total", `{operation="new_order",result="ok"}`, 2)
		wantMetric(t, text, "tps_engine_operations_total", `{operation="receive_payment",result="ok"}`, 1)
		wantMetric(t, text, "tps_engine_operations_total", `{operation="order_by_id",result="ok"}`, 2)
		wantMetric(t, text, "tps_engine_operations_total", `{operation="cancel_order",result="error"}`, 1)
		if _, found := metricValue(t, text, "tps_engine_operations_total", `{operation="cancel_order",result="ok"}`); found {
			t.Error("a bad body counted as an engine operation")
		}
		wantMetric(t, text, "tps_outbox_pending_events", `{subscriber="idle"}`, 2)
		wantMetric(t, text, "tps_outbox_pending_events", `{subscriber="broken"}`, 0)
		wantMetric(t, text, "tps_outbox_failed_deliveries", `{subscriber="broken"}`, 2)
		wantMetric(t, text, "tps_outbox_failed_deliveries", `{subscriber="idle"}`, 0)
		wantMetric(t, text, "tps_outbox_scrape_error", "", 0)
		wantMetric(t, text, "tps_database_up", "", 1)
		wantMetric(t, text, "tps_expiry_runs_total", `{result="skipped"}`, 0)
		if !strings.Contains(text, "go_goroutines ") || !strings.Contains(text, "process_resident_memory_bytes ") {
			t.Error("no runtime/process metrics")
		}
		// Scrapes are neither counted nor access-logged.
		text = h.scrape()
		if strings.Contains(text, `route="/metrics"`) {
			t.Error("/metrics counted itself")
		}
		if strings.Contains(h.access.String(), "/metrics") {
			t.Error("/metrics was access-logged")
		}
	})
}

func TestMetricsDisabled(t *testing.T) {
	eachDB(t, map[string]string{"TPG_METRICS_ENABLED": "false"}, func(t *testing.T, h *harness) {
		if r := h.do("GET", "/metrics", nil, ""); r.Status != http.StatusNotFound {
			t.Fatalf("%d", r.Status)
		}
	})
}

// TestReadinessAndLiveness: /health is readiness (wire-compatible while the
// database answers, 503 JSON when it does not); /livez is liveness.
func TestReadinessAndLiveness(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		for _, p := range []string{"/health", "/livez"} {
			r := h.do("GET", p, nil, "")
			if r.Status != 200 {
				t.Fatalf("%s: %d", p, r.Status)
			}
		}
		r := h.do("GET", "/health", nil, "")
		if string(r.Body) != "\xF0\x9F\x91\x8D\xEF\xB8\x8F\x0A" || len(r.Header.Values("Content-Type")) != 0 {
			t.Fatalf("health body %x content-type %q", r.Body, r.Header.Values("Content-Type"))
		}

		if err := h.db.Close(); err != nil {
			t.Fatal(err)
		}
		r = h.do("GET", "/health", nil, "")
		if r.Status != http.StatusServiceUnavailable || r.Error() != "The database is unreachable." {
			t.Fatalf("health with a closed DB: %d %s", r.Status, r.Body)
		}
		sh := h.c.Do("GET", "/shopify/health", nil, map[string]string{"X-Shopify-Hmac-Sha256": ShopifyHMAC(hmacSecret, nil)})
		if sh.Status != http.StatusServiceUnavailable {
			t.Fatalf("shopify health with a closed DB: %d", sh.Status)
		}
		r = h.do("GET", "/livez", nil, "")
		if r.Status != 200 || string(r.Body) != "ok\n" {
			t.Fatalf("livez with a closed DB: %d %q", r.Status, r.Body)
		}
		text := h.scrape()
		wantMetric(t, text, "tps_database_up", "", 0)
		wantMetric(t, text, "tps_outbox_scrape_error", "", 1)
		if strings.Contains(h.access.String(), "/livez") {
			t.Error("/livez was access-logged")
		}
	})
}
