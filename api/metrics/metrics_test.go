package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store/storetest"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, b)
	}
	return string(b)
}

func has(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, "\n"+l+"\n") {
			t.Errorf("missing %q", l)
		}
	}
}

func TestExpiryAndRateLimitCounters(t *testing.T) {
	m := New(Options{NoRuntime: true})
	has(t, scrape(t, m), `tps_expiry_runs_total{result="ran"} 0`, `tps_expired_orders_total{kind="unpaid"} 0`)
	m.ObserveExpiry(2, 1, false, nil)
	m.ObserveExpiry(0, 0, false, nil)
	m.ObserveExpiry(5, 5, true, nil) // another instance held the lock: nothing counted as expired
	m.ObserveExpiry(0, 0, false, errors.New("db down"))
	m.RateLimited("public")
	m.EngineOp("claim_order", false)
	m.EngineOp("claim_order", true)
	m.ObserveRequest("/order/claim", "POST", 429, 3*time.Millisecond)
	has(t, scrape(t, m),
		`tps_expiry_runs_total{result="ran"} 2`, `tps_expiry_runs_total{result="skipped"} 1`, `tps_expiry_runs_total{result="error"} 1`,
		`tps_expired_orders_total{kind="unclaimed"} 2`, `tps_expired_orders_total{kind="unpaid"} 1`,
		`tps_rate_limited_requests_total{budget="public"} 1`,
		`tps_engine_operations_total{operation="claim_order",result="ok"} 1`,
		`tps_engine_operations_total{operation="claim_order",result="error"} 1`,
		`tps_http_requests_total{method="POST",route="/order/claim",status="429"} 1`,
		`tps_http_request_duration_seconds_bucket{method="POST",route="/order/claim",le="0.005"} 1`)
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.ObserveRequest("/x", "GET", 200, time.Millisecond)
	m.EngineOp("x", true)
	m.ObserveExpiry(1, 1, false, nil)
	m.RateLimited("public")
}

func TestRegistriesAreIndependent(t *testing.T) {
	a, b := New(Options{}), New(Options{}) // would panic on a shared registry
	a.RateLimited("public")
	if strings.Contains(scrape(t, b), "tps_rate_limited_requests_total{") {
		t.Fatal("b saw a's sample")
	}
}

func TestOutboxCollector(t *testing.T) {
	db := storetest.SQLite(t)
	fail := false
	m := New(Options{Ping: db.PingContext, NoRuntime: true, Subscribers: func(ctx context.Context) ([]outbox.SubscriberState, error) {
		if fail {
			return nil, errors.New("boom")
		}
		return []outbox.SubscriberState{{ID: "webhook", Pending: 3, Failed: 2, Attempts: 4, Disabled: true}}, nil
	}})
	has(t, scrape(t, m), `tps_database_up 1`, `tps_outbox_scrape_error 0`,
		`tps_outbox_pending_events{subscriber="webhook"} 3`, `tps_outbox_failed_deliveries{subscriber="webhook"} 2`,
		`tps_outbox_retry_attempts{subscriber="webhook"} 4`, `tps_outbox_subscriber_disabled{subscriber="webhook"} 1`)
	fail = true
	db.Close()
	text := scrape(t, m)
	has(t, text, `tps_database_up 0`, `tps_outbox_scrape_error 1`)
	if strings.Contains(text, "tps_outbox_pending_events{") {
		t.Fatal("stale outbox samples after a failed read")
	}
}

// A currency label from a webhook body is bounded and stays valid UTF-8
// (cutting "É" in half would make WithLabelValues panic).
func TestOrderWithoutRateLabelIsSafe(t *testing.T) {
	m := New(Options{NoRuntime: true})
	m.OrderWithoutRate("ÉÉÉÉÉÉ")
	m.OrderWithoutRate("EUR")
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range fams {
		if f.GetName() == "tps_shopify_orders_without_rate_total" {
			n = len(f.GetMetric())
		}
	}
	if n != 2 {
		t.Fatalf("%d series", n)
	}
}
