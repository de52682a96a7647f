package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sample reads one sample of a Prometheus text exposition.
func sample(text, series string) (float64, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}

// TestMetricsEndToEnd: the real server exposes /metrics without a token,
// with the expiry worker's runs and expired orders, the plugins' outbox
// state, and its readiness and liveness probes.
func TestMetricsEndToEnd(t *testing.T) {
	env := map[string]string{"TPG_UNCLAIMED_ORDER_TIMEOUT": "1s", "TPG_EXPIRY_CHECK_INTERVAL": "100ms",
		"TPG_PLUGIN_WEBHOOK_URLS": "http://127.0.0.1:1/events",                // nobody listens: deliveries fail and retry
		"TPG_PLUGIN_CACHE_DIR":    filepath.Join(t.TempDir(), "plugin-cache")} // not the shared ./data one
	eachDB(t, env, func(t *testing.T, s *server) {
		for _, p := range []string{"/health", "/livez"} {
			if r := s.c.Do("GET", p, nil, nil); r.Status != 200 {
				t.Fatalf("%s: %d", p, r.Status)
			}
		}
		s.order("m-1", "cust", "10", nil)
		var text string
		deadline := time.Now().Add(90 * time.Second) // the first delivery waits for the plugin to compile
		for {
			r := s.c.Do("GET", "/metrics", nil, nil)
			if r.Status != 200 {
				t.Fatalf("/metrics: %d", r.Status)
			}
			text = string(r.Body)
			expired, _ := sample(text, `tps_expired_orders_total{kind="unclaimed"}`)
			attempts := regexp.MustCompile(`(?m)^tps_outbox_(retry_attempts|failed_deliveries)\{subscriber="[^"]*webhook[^"]*"\} [1-9]`).MatchString(text)
			if expired >= 1 && attempts {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("expiry or failed webhook deliveries never showed in /metrics:\n%s\n%s\nserver log:\n%s", grepLines(text, "tps_expi"), grepLines(text, "tps_outbox"), tail(s.out.String(), 3000))
			}
			time.Sleep(100 * time.Millisecond)
		}
		if v, _ := sample(text, `tps_expiry_runs_total{result="ran"}`); v < 1 {
			t.Errorf("expiry runs: %v", v)
		}
		if v, found := sample(text, `tps_http_requests_total{method="POST",route="/shopify/webhook/checkout_create",status="200"}`); !found || v != 1 {
			t.Errorf("webhook requests: %v %v", v, found)
		}
		if v, found := sample(text, "tps_database_up"); !found || v != 1 {
			t.Errorf("database_up %v %v", v, found)
		}
		// The webhook plugin's undelivered events are its outbox depth.
		if !regexp.MustCompile(`(?m)^tps_outbox_pending_events\{subscriber="[^"]*webhook[^"]*"\} [1-9]`).MatchString(text) {
			t.Errorf("no webhook plugin outbox depth:\n%s", grepLines(text, "tps_outbox"))
		}
		if strings.Contains(s.out.String(), "GET /metrics") {
			t.Error("/metrics was access-logged")
		}
	})
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
