// Package metrics is the server's Prometheus instrumentation: HTTP requests by
// route template and status, latency histograms, engine operations, expiry
// runs, rate-limited requests, and, read from the database at scrape time,
// outbox depth and parked delivery failures per subscriber (plugin) and
// database reachability.
//
// Each Metrics owns a private registry (nothing is registered on the global
// default one), so tests and several servers in one process never collide.
// A nil *Metrics is valid and records nothing.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tari-payment/tps/core/outbox"
)

// Namespace prefixes every metric name.
const Namespace = "tps"

// scrapeTimeout bounds the database reads of one scrape.
const scrapeTimeout = 5 * time.Second

// Options configures New.
type Options struct {
	// Ping, when set, checks the database at scrape time (tps_database_up).
	Ping func(ctx context.Context) error
	// Subscribers, when set, reads the outbox state at scrape time
	// (tps_outbox_*).
	Subscribers func(ctx context.Context) ([]outbox.SubscriberState, error)
	// NoRuntime leaves out the Go runtime and process collectors.
	NoRuntime bool
	// PluginStates, when set, reports each plugin's state at scrape time
	// (tps_plugin_state).
	PluginStates func(ctx context.Context) (map[string]string, error)
}

// Metrics holds the server's collectors and their registry.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	engineOps   *prometheus.CounterVec
	expiryRuns  *prometheus.CounterVec
	expired     *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	noRate      *prometheus.CounterVec
}

// New builds the collectors on a fresh registry.
func New(o Options) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests by route template (\"unmatched\" for unknown paths), method and status code.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "http_request_duration_seconds",
			Help:    "HTTP request latency by route template and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		engineOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "engine_operations_total",
			Help: "Engine operations reached through the API, by operation and result (ok, or error when the engine refused or failed).",
		}, []string{"operation", "result"}),
		expiryRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "expiry_runs_total",
			Help: "Order expiry runs by result: ran, skipped (another instance held the expiry lock) or error.",
		}, []string{"result"}),
		expired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "expired_orders_total",
			Help: "Orders expired by the expiry job, by kind (unclaimed or unpaid).",
		}, []string{"kind"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "rate_limited_requests_total",
			Help: "Requests answered 429 by the per-IP rate limiter, by budget (public or wallet_failures).",
		}, []string{"budget"}),
		noRate: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "shopify_orders_without_rate_total",
			Help: "Shopify orders not stored because their currency has no exchange rate, by currency (set the rate, then rescan open orders).",
		}, []string{"currency"}),
	}
	// Pre-create the fixed label values so they read 0 before the first event.
	for _, r := range []string{"ran", "skipped", "error"} {
		m.expiryRuns.WithLabelValues(r)
	}
	for _, k := range []string{"unclaimed", "unpaid"} {
		m.expired.WithLabelValues(k)
	}
	m.reg.MustRegister(m.requests, m.latency, m.engineOps, m.expiryRuns, m.expired, m.rateLimited, m.noRate)
	if !o.NoRuntime {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if o.Ping != nil || o.Subscribers != nil {
		m.reg.MustRegister(&dbCollector{ping: o.Ping, subs: o.Subscribers})
	}
	if o.PluginStates != nil {
		m.reg.MustRegister(pluginCollector(o.PluginStates))
	}
	return m
}

// Registry is the private registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// ObserveRequest records one finished HTTP request. route is the route
// template (never the raw path, so ids do not explode the label set).
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// EngineOp records one engine operation and whether it failed.
func (m *Metrics) EngineOp(op string, failed bool) {
	if m == nil {
		return
	}
	res := "ok"
	if failed {
		res = "error"
	}
	m.engineOps.WithLabelValues(op, res).Inc()
}

// ObserveExpiry records one expiry run.
func (m *Metrics) ObserveExpiry(unclaimed, unpaid int, skipped bool, err error) {
	if m == nil {
		return
	}
	switch {
	case err != nil:
		m.expiryRuns.WithLabelValues("error").Inc()
	case skipped:
		m.expiryRuns.WithLabelValues("skipped").Inc()
	default:
		m.expiryRuns.WithLabelValues("ran").Inc()
		m.expired.WithLabelValues("unclaimed").Add(float64(unclaimed))
		m.expired.WithLabelValues("unpaid").Add(float64(unpaid))
	}
}

// OrderWithoutRate records one Shopify order not stored for want of an
// exchange rate for its currency.
func (m *Metrics) OrderWithoutRate(currency string) {
	if m == nil {
		return
	}
	if len(currency) > 10 { // a label value from a webhook body: bounded,
		currency = currency[:10] // and kept valid UTF-8 (WithLabelValues panics otherwise)
	}
	currency = strings.ToValidUTF8(currency, "?")
	m.noRate.WithLabelValues(currency).Inc()
}

// RateLimited records one request refused by the rate limiter.
func (m *Metrics) RateLimited(budget string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(budget).Inc()
}

// dbCollector reads the database at scrape time, so every instance sharing a
// PostgreSQL database reports the same outbox state.
type dbCollector struct {
	ping func(ctx context.Context) error
	subs func(ctx context.Context) ([]outbox.SubscriberState, error)
}

var (
	descDBUp = prometheus.NewDesc(Namespace+"_database_up",
		"1 when the database answered a ping during this scrape, else 0.", nil, nil)
	descPending = prometheus.NewDesc(Namespace+"_outbox_pending_events",
		"Committed events a subscriber (plugin) wants and has not acknowledged yet (outbox depth).", []string{"subscriber"}, nil)
	descFailed = prometheus.NewDesc(Namespace+"_outbox_failed_deliveries",
		"Deliveries parked as failed for a subscriber (plugin) after their attempts ran out; an admin can redeliver them.", []string{"subscriber"}, nil)
	descAttempts = prometheus.NewDesc(Namespace+"_outbox_retry_attempts",
		"Failed attempts so far on the subscriber's current event (0 when healthy).", []string{"subscriber"}, nil)
	descDisabled = prometheus.NewDesc(Namespace+"_outbox_subscriber_disabled",
		"1 when delivery to the subscriber is paused (crashing plugin or admin action).", []string{"subscriber"}, nil)
	descScrapeErr = prometheus.NewDesc(Namespace+"_outbox_scrape_error",
		"1 when the outbox state could not be read during this scrape.", nil, nil)
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descDBUp
	ch <- descPending
	ch <- descFailed
	ch <- descAttempts
	ch <- descDisabled
	ch <- descScrapeErr
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if c.ping != nil {
		up := 0.0
		if c.ping(ctx) == nil {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descDBUp, prometheus.GaugeValue, up)
	}
	if c.subs == nil {
		return
	}
	states, err := c.subs(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descScrapeErr, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(descScrapeErr, prometheus.GaugeValue, 0)
	for _, s := range states {
		disabled := 0.0
		if s.Disabled {
			disabled = 1
		}
		ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(s.Pending), s.ID)
		ch <- prometheus.MustNewConstMetric(descFailed, prometheus.GaugeValue, float64(s.Failed), s.ID)
		ch <- prometheus.MustNewConstMetric(descAttempts, prometheus.GaugeValue, float64(s.Attempts), s.ID)
		ch <- prometheus.MustNewConstMetric(descDisabled, prometheus.GaugeValue, disabled, s.ID)
	}
}

// PluginStateNames are the states tps_plugin_state reports, one series each
// (1 for the plugin's current state, 0 for the others), so an alert on
// state="broken" also sees the plugin recover.
var PluginStateNames = []string{"active", "disabled", "unconfigured", "broken", "off", "removed"}

var descPluginState = prometheus.NewDesc(Namespace+"_plugin_state",
	"1 for the plugin's current state (active, disabled, unconfigured, broken, off, removed), 0 for the others.", []string{"plugin", "state"}, nil)

// pluginCollector reads the plugin host's states at scrape time.
type pluginCollector func(ctx context.Context) (map[string]string, error)

func (pluginCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descPluginState }

func (f pluginCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	states, err := f(ctx)
	if err != nil {
		return // tps_outbox_scrape_error reports an unreadable database
	}
	for id, state := range states {
		for _, name := range PluginStateNames {
			v := 0.0
			if name == state {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descPluginState, prometheus.GaugeValue, v, id, name)
		}
	}
}
