// Package load drives a running payment server over loopback with concurrent
// clients, the way a busy shop and its hot wallet do: signed Shopify order
// webhooks, and full flows (an order whose note claims it for a customer
// wallet, the hot wallet's payment notification, its confirmation; the order
// is Paid). It measures throughput and latency percentiles, closed-loop (as
// fast as the server answers) and open-loop (paced at a fixed rate, latency
// counted from the scheduled start so a stalled server cannot hide its
// backlog). Bench runs the whole benchmark against a baseline measured in the
// same run; Spawn starts servers on fresh databases for it.
//
// Every loop is bounded by a duration and a request count, and only loopback
// servers are accepted.
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tari-payment/tps/api/apiwire"
	"github.com/tari-payment/tps/core/tari"
)

// Target is the server (or servers sharing one database) under load.
type Target struct {
	// URLs are the servers' base URLs; requests go to them round-robin.
	URLs []string
	// HMACSecret signs the Shopify webhooks (TPG_SHOPIFY_HMAC_SECRET).
	HMACSecret string
	// Admin is a super_admin key: it registers the hot wallets (for
	// 127.0.0.1), sets a USD rate if the server has none, and reads the
	// sampled orders back.
	Admin tari.SecretKey
	// HotWallets are already registered hot-wallet keys. When empty, one
	// fresh wallet per client is registered with Admin. Each client owns
	// one wallet, so its nonces arrive in order.
	HotWallets []tari.SecretKey
}

// Options bound one phase.
type Options struct {
	Clients  int           // concurrent clients (closed loop) or workers (paced)
	Duration time.Duration // how long the phase sends
	MaxOps   int           // hard cap on operations (flows or webhooks); 0 = 1e7
	Rate     float64       // paced phases: operations started per second
}

// Result is one phase's figures. Latencies are per HTTP request; flow
// latencies cover the three requests of a flow.
type Result struct {
	Name       string  `json:"name"`
	Clients    int     `json:"clients"`
	Seconds    float64 `json:"seconds"`
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	Flows      int64   `json:"flows,omitempty"`
	ReqPerSec  float64 `json:"req_per_sec"`
	FlowsPerS  float64 `json:"flows_per_sec,omitempty"`
	TargetRate float64 `json:"target_rate,omitempty"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	FlowP50ms  float64 `json:"flow_p50_ms,omitempty"`
	FlowP99ms  float64 `json:"flow_p99_ms,omitempty"`
	FirstError string  `json:"first_error,omitempty"`
	// OrderIDs is a spread sample of completed flows' orders.
	OrderIDs []string `json:"-"`

	req, flow *histogram
}

// Merge adds o (another slice of the same phase) to r.
func (r *Result) Merge(o Result) {
	if r.req == nil {
		*r = o
		r.OrderIDs = append([]string(nil), o.OrderIDs...)
		return
	}
	r.Seconds += o.Seconds
	r.Requests += o.Requests
	r.Errors += o.Errors
	r.Flows += o.Flows
	if r.FirstError == "" {
		r.FirstError = o.FirstError
	}
	r.OrderIDs = append(r.OrderIDs, o.OrderIDs...)
	r.req.merge(o.req)
	r.flow.merge(o.flow)
	r.finish()
}

func (r *Result) finish() {
	r.ReqPerSec = float64(r.Requests) / r.Seconds
	r.P50ms, r.P99ms = r.req.quantile(0.50), r.req.quantile(0.99)
	if r.Flows > 0 {
		r.FlowsPerS = float64(r.Flows) / r.Seconds
		r.FlowP50ms, r.FlowP99ms = r.flow.quantile(0.50), r.flow.quantile(0.99)
	}
}

// IsLoopback reports whether a base URL names a loopback host.
func IsLoopback(base string) bool {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Client sends requests to the target's servers round-robin.
type Client struct {
	urls []string
	next atomic.Uint64
	http *http.Client
}

// NewClient returns a client with keep-alive connections for conns clients.
func NewClient(urls []string, conns int) (*Client, error) {
	if len(urls) == 0 {
		return nil, errors.New("no server URL")
	}
	for i, u := range urls {
		if !IsLoopback(u) {
			return nil, fmt.Errorf("%s is not a loopback address: the load command only drives local servers", u)
		}
		urls[i] = strings.TrimRight(u, "/")
	}
	tr := &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	return &Client{urls: urls, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

// Close drops idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Do sends one request and returns the status and body.
func (c *Client) Do(ctx context.Context, method, path string, body []byte, hdr map[string]string) (int, []byte, error) {
	base := c.urls[int(c.next.Add(1)%uint64(len(c.urls)))]
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// ok is a 200 whose JSON says success (webhooks and wallet notifications).
func (c *Client) ok(ctx context.Context, path string, body []byte, hdr map[string]string) error {
	st, b, err := c.Do(ctx, http.MethodPost, path, body, hdr)
	if err != nil {
		return err
	}
	if st != http.StatusOK || !bytes.Contains(b, []byte(`"success":true`)) {
		return fmt.Errorf("POST %s: %d %.200s", path, st, b)
	}
	return nil
}

// Login exchanges a login token of key for an access token.
func (c *Client) Login(ctx context.Context, key tari.SecretKey, roles ...string) (string, error) {
	addr := tari.NewAddress(tari.Mainnet, key.PublicKey())
	tok, err := tari.NewLoginToken(key, addr, apiwire.NextNonce(), roles)
	if err != nil {
		return "", err
	}
	st, b, err := c.Do(ctx, http.MethodPost, "/auth", nil, map[string]string{"tpg_auth_token": tok})
	if err != nil {
		return "", err
	}
	if st != http.StatusOK {
		return "", fmt.Errorf("login as %s %v: %d %.200s", addr.Base58(), roles, st, b)
	}
	return string(b), nil
}

// histogram counts latencies in log buckets with 64 sub-buckets per power of
// two of microseconds (1.6% resolution), so a long soak needs no sample list.
type histogram struct {
	n      int64
	counts [2048]int64
}

func bucket(us int64) int {
	if us < 64 {
		if us < 0 {
			us = 0
		}
		return int(us)
	}
	e := bits.Len64(uint64(us)) - 7
	i := 64 + e*64 + int(us>>e) - 64
	if i >= 2048 {
		i = 2047
	}
	return i
}

func bucketValue(i int) int64 {
	if i < 64 {
		return int64(i)
	}
	e := (i - 64) / 64
	sub := (i - 64) % 64
	return int64(64+sub) << e
}

func (h *histogram) add(d time.Duration) {
	h.n++
	h.counts[bucket(d.Microseconds())]++
}

func (h *histogram) merge(o *histogram) {
	h.n += o.n
	for i, c := range o.counts {
		h.counts[i] += c
	}
}

// quantile returns the q-th latency in milliseconds (bucket upper bound).
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return float64(bucketValue(i+1)) / 1000
		}
	}
	return float64(bucketValue(len(h.counts))) / 1000
}

// worker is one client's state: its own hot wallet (nonces in order) and its
// counters. Every order has a new customer (and every flow a new customer
// wallet), as in a shop with many buyers.
type worker struct {
	hot       apiwire.Wallet
	nonce     int64
	req, flow histogram
	reqs      int64
	errs      int64
	flows     int64
	firstErr  error
	done      []string // completed flows' order ids (sampled)
}

func (w *worker) fail(err error) {
	w.errs++
	if w.firstErr == nil {
		w.firstErr = err
	}
}

// Runner holds what the phases share: the client, the signed webhook
// template, the workers' wallets and a unique order-id sequence.
type Runner struct {
	T       Target
	C       *Client
	tmpl    []byte // fixture with placeholders
	price   int64  // µT an order of the fixture costs
	token   string // admin access token
	hots    []apiwire.Wallet
	seq     atomic.Int64
	idBase  int64
	runID   string
	Verbose io.Writer
}

const (
	phID   = "4242424242424242"
	phName = "#4242424242424242"
	phCust = "7373737373737373"
	phNote = "__BENCH_NOTE__"
)

// FixturePath finds the Shopify orders/create fixture: the shared specs next
// to the checkout (root/../shared), else the server's testdata copy.
func FixturePath(root string) string {
	for _, p := range []string{
		filepath.Join(root, "..", "shared", "fixtures", "shopify", "checkout_create.json"),
		filepath.Join(root, "cmd/tari-payment-server/testdata/checkout_create.json"),
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// NewRunner logs in as admin, makes sure the server prices the fixture, and
// registers hot wallets for up to maxClients clients.
func NewRunner(ctx context.Context, t Target, fixture []byte, maxClients int) (*Runner, error) {
	c, err := NewClient(t.URLs, maxClients)
	if err != nil {
		return nil, err
	}
	r := &Runner{T: t, C: c, runID: strconv.FormatInt(time.Now().UnixNano(), 36)}
	// Numeric Shopify-style ids, unique across runs on the same database and
	// exact as float64 (< 2^53).
	r.idBase = (time.Now().Unix() % 100_000) * 10_000_000_000
	if r.tmpl, err = template(fixture); err != nil {
		return nil, err
	}
	if r.token, err = c.Login(ctx, t.Admin, "super_admin"); err != nil {
		return nil, err
	}
	if err := r.probePrice(ctx); err != nil {
		return nil, err
	}
	if len(t.HotWallets) > 0 {
		for _, k := range t.HotWallets {
			r.hots = append(r.hots, apiwire.Wallet{Key: k, Addr: tari.NewAddress(tari.Mainnet, k.PublicKey())})
		}
	} else {
		for i := 0; i < maxClients; i++ {
			w := apiwire.NewWallet()
			body, _ := json.Marshal(map[string]any{"address": w.Addr.Base58(), "ip_address": "127.0.0.1"})
			st, b, err := c.Do(ctx, http.MethodPost, "/api/wallets", body, apiwire.Auth(r.token))
			if err != nil || st != http.StatusOK {
				return nil, fmt.Errorf("registering hot wallet: %d %.200s %v", st, b, err)
			}
			r.hots = append(r.hots, w)
		}
	}
	return r, nil
}

// template turns the fixture into a body with placeholders for the order id,
// name, customer and note, so each order costs one string replacement.
func template(fixture []byte) ([]byte, error) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(fixture))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	m["id"] = json.Number(phID)
	m["name"] = phName
	m["note"] = phNote
	cust, _ := m["customer"].(map[string]any)
	if cust == nil {
		cust = map[string]any{}
	}
	cust["id"] = json.Number(phCust)
	m["customer"] = cust
	return json.Marshal(m)
}

// orderBody is the fixture for order id, customer and note ("" = null).
func (r *Runner) orderBody(id, cust, note string) []byte {
	n := "null"
	if note != "" {
		b, _ := json.Marshal(note)
		n = string(b)
	}
	return []byte(strings.NewReplacer(`"`+phNote+`"`, n, phName, "#"+id, phID, id, phCust, cust).Replace(string(r.tmpl)))
}

func (r *Runner) nextID() string { return strconv.FormatInt(r.idBase+r.seq.Add(1), 10) }

func (r *Runner) webhook(ctx context.Context, body []byte) error {
	return r.C.ok(ctx, "/shopify/webhook/checkout_create", body, apiwire.ShopifyHeaders(r.T.HMACSecret, body))
}

// probePrice sends one order and reads back its price in µT; without a USD
// rate on the server it sets one (1 USD = 1 XTR) first.
func (r *Runner) probePrice(ctx context.Context) error {
	id := r.nextID()
	if err := r.webhook(ctx, r.orderBody(id, "1", "")); err != nil {
		body, _ := json.Marshal(map[string]any{"currency": "USD", "rate": 1_000_000})
		st, b, err2 := r.C.Do(ctx, http.MethodPost, "/api/exchange_rate", body, apiwire.Auth(r.token))
		if err2 != nil || st != http.StatusOK {
			return fmt.Errorf("first order failed (%v) and setting a USD rate too: %d %.200s %v", err, st, b, err2)
		}
		if err := r.webhook(ctx, r.orderBody(id, "1", "")); err != nil {
			return fmt.Errorf("first order: %w", err)
		}
	}
	o, err := r.Order(ctx, id)
	if err != nil {
		return err
	}
	if o.TotalPrice <= 0 {
		return fmt.Errorf("order %s has price %d", id, o.TotalPrice)
	}
	r.price = o.TotalPrice
	return nil
}

// OrderView is what the bench reads back of an order.
type OrderView struct {
	OrderID    string `json:"order_id"`
	Status     string `json:"status"`
	TotalPrice int64  `json:"total_price"`
}

// Order reads an order through the admin API.
func (r *Runner) Order(ctx context.Context, id string) (OrderView, error) {
	var o OrderView
	st, b, err := r.C.Do(ctx, http.MethodGet, "/api/order/id/"+id, nil, apiwire.Auth(r.token))
	if err != nil {
		return o, err
	}
	if st != http.StatusOK {
		return o, fmt.Errorf("GET order %s: %d %.200s", id, st, b)
	}
	if err := json.Unmarshal(b, &o); err != nil || o.OrderID != id {
		return o, fmt.Errorf("GET order %s: %.200s", id, b)
	}
	return o, nil
}

// Verify reads every id back and returns how many are Paid and the first
// that is not.
func (r *Runner) Verify(ctx context.Context, ids []string) (paid int, err error) {
	for _, id := range ids {
		o, gerr := r.Order(ctx, id)
		if gerr == nil && o.Status != "Paid" {
			gerr = fmt.Errorf("order %s is %s, want Paid", id, o.Status)
		}
		if gerr != nil {
			if err == nil {
				err = gerr
			}
			continue
		}
		paid++
	}
	return paid, err
}

func (r *Runner) newWorkers(n int) []*worker {
	ws := make([]*worker, n)
	for i := range ws {
		ws[i] = &worker{nonce: time.Now().UnixMicro()}
		if len(r.hots) > 0 { // none for the baseline, which takes no payments
			ws[i].hot = r.hots[i%len(r.hots)]
		}
	}
	return ws
}

// timed runs one request and records its latency and outcome.
// queued is time already spent waiting (paced phases) and counts too.
func (w *worker) timed(queued time.Duration, f func() error) bool {
	s := time.Now()
	err := f()
	w.req.add(queued + time.Since(s))
	w.reqs++
	if err != nil {
		w.fail(err)
		return false
	}
	return true
}

// order posts a plain order (no note): the webhook-ingest operation.
func (r *Runner) order(ctx context.Context, w *worker) {
	id := r.nextID()
	body := r.orderBody(id, id, "")
	w.timed(0, func() error { return r.webhook(ctx, body) })
}

// flow is the full payment: order claimed by its note, payment, confirmation.
// queued is how long the flow waited for a worker after its scheduled start.
func (r *Runner) flow(ctx context.Context, w *worker, queued time.Duration) bool {
	id := r.nextID()
	cust := apiwire.NewWallet()
	memo := tari.SignMemo(cust.Key, cust.Addr, id).JSON()
	body := r.orderBody(id, id, memo)
	if !w.timed(queued, func() error { return r.webhook(ctx, body) }) {
		return false
	}
	txid := "bench-" + r.runID + "-" + id
	w.nonce = max(w.nonce+1, time.Now().UnixMicro())
	pay, _ := json.Marshal(apiwire.WalletPaymentBody(w.hot, w.nonce, apiwire.NewPayment{Sender: cust.Addr, Amount: r.price, TxID: txid}))
	if !w.timed(0, func() error { return r.C.ok(ctx, "/wallet/incoming_payment", pay, nil) }) {
		return false
	}
	w.nonce = max(w.nonce+1, time.Now().UnixMicro())
	conf, _ := json.Marshal(apiwire.WalletConfirmationBody(w.hot, w.nonce, txid))
	if !w.timed(0, func() error { return r.C.ok(ctx, "/wallet/tx_confirmation", conf, nil) }) {
		return false
	}
	w.flows++
	if w.flows <= 4 || w.flows%64 == 0 {
		w.done = append(w.done, id)
	}
	return true
}

// Closed runs op as fast as the server answers on o.Clients clients.
func (r *Runner) Closed(ctx context.Context, name string, o Options, full bool) Result {
	ws := r.newWorkers(o.Clients)
	maxOps := int64(o.MaxOps)
	if maxOps <= 0 {
		maxOps = 10_000_000
	}
	var ops atomic.Int64
	ctx, cancel := context.WithTimeout(ctx, o.Duration+20*time.Second)
	defer cancel()
	deadline := time.Now().Add(o.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ops.Add(1) <= maxOps && ctx.Err() == nil && w.errs < 100 {
				if full {
					s := time.Now()
					if r.flow(ctx, w, 0) {
						w.flow.add(time.Since(s))
					}
				} else {
					r.order(ctx, w)
				}
			}
		}()
	}
	wg.Wait()
	return summarize(name, o, time.Since(start), ws, full)
}

// Paced starts o.Rate flows per second for o.Duration on up to o.Clients
// workers; each latency counts from the flow's scheduled start, so queueing
// behind a slow server is measured (no coordinated omission).
func (r *Runner) Paced(ctx context.Context, name string, o Options, sample func()) Result {
	ws := r.newWorkers(o.Clients)
	total := int(o.Rate * o.Duration.Seconds())
	if o.MaxOps > 0 && total > o.MaxOps {
		total = o.MaxOps
	}
	ctx, cancel := context.WithTimeout(ctx, o.Duration+30*time.Second)
	defer cancel()
	sched := make(chan time.Time, 1024)
	start := time.Now()
	interval := time.Duration(float64(time.Second) / o.Rate)
	go func() {
		defer close(sched)
		for i := 0; i < total; i++ {
			at := start.Add(time.Duration(i) * interval)
			if d := time.Until(at); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return
				}
			}
			select {
			case sched <- at:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for at := range sched {
				if ctx.Err() != nil || w.errs >= 100 {
					continue // drain
				}
				// The first request's latency includes any wait for a free worker.
				if r.flow(ctx, w, time.Since(at)) {
					w.flow.add(time.Since(at))
				}
			}
		}()
	}
	if sample != nil {
		go func() {
			t := time.NewTicker(5 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					sample()
				}
			}
		}()
	}
	wg.Wait()
	res := summarize(name, o, time.Since(start), ws, true)
	res.TargetRate = o.Rate
	return res
}

func summarize(name string, o Options, el time.Duration, ws []*worker, full bool) Result {
	res := Result{Name: name, Clients: o.Clients, Seconds: el.Seconds(), req: &histogram{}, flow: &histogram{}}
	for _, w := range ws {
		res.req.merge(&w.req)
		res.flow.merge(&w.flow)
		res.Requests += w.reqs
		res.Errors += w.errs
		res.Flows += w.flows
		if w.firstErr != nil && res.FirstError == "" {
			res.FirstError = w.firstErr.Error()
		}
		res.OrderIDs = append(res.OrderIDs, w.done...)
	}
	res.finish()
	return res
}

// Procs is GOMAXPROCS, reported with the figures.
func Procs() int { return runtime.GOMAXPROCS(0) }
