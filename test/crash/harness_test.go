package crash

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/tari"
	"github.com/tari-payment/tps/test/dbcheck"
)

const (
	shopifySecret = "shpss_crash_secret"
	webhookSecret = "whsec_crash_secret"
)

var (
	serverBin   string // built once by TestMain
	pluginCache string // shared TPG_PLUGIN_CACHE_DIR: default plugins are built once per source change
	goBinDir    string
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	goBinDir = filepath.Dir(goBin)
	tmp, err := os.MkdirTemp("", "tps-crash-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	serverBin = filepath.Join(tmp, "tari-payment-server")
	build := exec.Command(goBin, "build", "-o", serverBin, "../../cmd/tari-payment-server")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the server: %v\n%s", err, out)
		return 1
	}
	// The cache outlives the run (entries are keyed by the plugin's source
	// hash), so only the first run on a machine pays for the WASM build.
	base, err := os.UserCacheDir()
	if err != nil {
		base = tmp
	}
	pluginCache = filepath.Join(base, "tps-test-plugin-cache")
	return m.Run()
}

// envDuration reads a Go duration from the environment.
func envDuration(t *testing.T, k string, def time.Duration) time.Duration {
	if v := os.Getenv(k); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s=%q: %v", k, v, err)
		}
		return d
	}
	return def
}

func envInt(t *testing.T, k string, def int) int {
	if v := os.Getenv(k); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q is not a positive integer", k, v)
		}
		return n
	}
	return def
}

// ---------------------------------------------------------------- processes

// proc is one server process; it can be killed and started again on the
// same port and database.
type proc struct {
	name    string
	env     []string
	port    int
	logPath string

	cmd  *exec.Cmd
	done chan struct{}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (p *proc) base() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

// start runs the binary and waits until it listens (or fails).
func (p *proc) start(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(p.logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(logf, "==== start %s\n", time.Now().Format(time.RFC3339Nano))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(serverBin)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = w, w
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	ready := make(chan struct{})
	p.cmd, p.done = cmd, make(chan struct{})
	go func() {
		br := bufio.NewReader(r)
		signalled := false
		for {
			line, err := br.ReadString('\n')
			logf.WriteString(line)
			if !signalled && strings.Contains(line, "Tari payment server listening") {
				signalled = true
				close(ready)
			}
			if err != nil {
				break
			}
		}
		r.Close()
		cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	select {
	case <-ready:
	case <-p.done:
		t.Fatalf("%s exited during startup:\n%s", p.name, tail(p.logPath, 40))
	case <-time.After(4 * time.Minute): // a cold plugin cache builds the WASM plugins first
		p.kill()
		t.Fatalf("%s did not start:\n%s", p.name, tail(p.logPath, 40))
	}
}

func (p *proc) running() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill is SIGKILL: no shutdown code runs, in-flight requests and
// transactions are cut wherever they are.
func (p *proc) kill() {
	if p.running() {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// stop is a graceful SIGTERM, escalated to SIGKILL after 40 s.
func (p *proc) stop() {
	if !p.running() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		p.kill()
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// warm starts and stops one server so the shared plugin cache holds the
// built default plugins before parallel tests start several at once.
var warmOnce sync.Once

func warm(t *testing.T) {
	warmOnce.Do(func() {
		dir := t.TempDir()
		k := tari.GenerateSecretKey()
		p := &proc{name: "warm-up", port: freePort(t), logPath: filepath.Join(dir, "warm.log")}
		p.env = serverEnv(p.port, "sqlite://"+filepath.Join(dir, "warm.db"), k, apitest.NewWallet().Addr, "http://127.0.0.1:1/", dir, nil)
		p.start(t)
		p.stop()
	})
}

// serverEnv is the child's whole environment: the test's, minus any TPG_*
// setting, plus the server configuration.
func serverEnv(port int, dbURL string, key tari.SecretKey, payTo tari.Address, webhookURL, pluginsDir string, extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TPG_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PATH="+os.Getenv("PATH")+string(os.PathListSeparator)+goBinDir)
	vars := map[string]string{
		"TPG_HOST": "127.0.0.1", "TPG_PORT": strconv.Itoa(port), "TPG_DATABASE_URL": dbURL,
		"TPG_JWT_SIGNING_KEY": key.Hex(), "TPG_JWT_VERIFICATION_KEY": key.PublicKey().Hex(),
		"TPG_PAYMENT_WALLET_ADDRESS": payTo.Base58(), "TPG_SHOPIFY_HMAC_SECRET": shopifySecret,
		"TPG_SHOPIFY_API_URL":     "http://127.0.0.1:1/admin/api/2026-10", // no Shopify here
		"TPG_PLUGINS_DISABLE":     "shopify",
		"TPG_PLUGINS_DIR":         pluginsDir,
		"TPG_PLUGIN_CACHE_DIR":    pluginCache,
		"TPG_PLUGIN_WEBHOOK_URLS": webhookURL, "TPG_PLUGIN_WEBHOOK_SECRET": webhookSecret,
		"TPG_LOG_LEVEL": "info",
	}
	for k, v := range extra {
		vars[k] = v
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// ----------------------------------------------------------------- receiver

// receiver is the webhook plugin's target. It checks every signature,
// records every event id and type, and detects deliveries that overlap in
// time: of the same event (two deliverers of one event) and of any two
// events (two instances delivering the one subscriber's stream at once).
type receiver struct {
	srv   *httptest.Server
	delay time.Duration // each delivery is held this long at most, widening overlap windows

	mu          sync.Mutex
	got         map[string]string // event id → type
	deliveries  int
	duplicates  int
	badSig      int
	inflight    map[string]int
	overlapSame int
	active      int
	maxActive   int
	stamps      []time.Time // when each delivery finished
}

func newReceiver(t *testing.T, delay time.Duration) *receiver {
	rc := &receiver{delay: delay, got: map[string]string{}, inflight: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.handle))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) handle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if !hmac.Equal([]byte(r.Header.Get("X-Tps-Signature")), []byte(want)) || json.Unmarshal(body, &ev) != nil || ev.ID == "" {
		rc.mu.Lock()
		rc.badSig++
		rc.mu.Unlock()
		http.Error(w, "bad signature or body", http.StatusUnauthorized)
		return
	}
	rc.mu.Lock()
	rc.inflight[ev.ID]++
	if rc.inflight[ev.ID] > 1 {
		rc.overlapSame++
	}
	rc.active++
	rc.maxActive = max(rc.maxActive, rc.active)
	rc.mu.Unlock()
	if rc.delay > 0 {
		time.Sleep(rand.N(rc.delay))
	}
	rc.mu.Lock()
	rc.inflight[ev.ID]--
	rc.active--
	rc.deliveries++
	if _, ok := rc.got[ev.ID]; ok {
		rc.duplicates++
	}
	rc.got[ev.ID] = ev.Type
	rc.stamps = append(rc.stamps, time.Now())
	rc.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (rc *receiver) snapshot() map[string]string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	m := make(map[string]string, len(rc.got))
	for k, v := range rc.got {
		m[k] = v
	}
	return m
}

// rateSince is the delivery rate (per second) of the deliveries finished
// after t0, from the first of them to the last.
func (rc *receiver) rateSince(t0 time.Time) float64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var first, last time.Time
	n := 0
	for _, s := range rc.stamps {
		if s.After(t0) {
			if n == 0 {
				first = s
			}
			last, n = s, n+1
		}
	}
	if n < 2 {
		return 0
	}
	return float64(n-1) / last.Sub(first).Seconds()
}

// ---------------------------------------------------------------------- rig

// rig is one database, its server processes, the receiver and the record
// of everything the servers acknowledged.
type rig struct {
	t        *testing.T
	dbURL    string
	key      tari.SecretKey
	admin    apitest.Wallet
	payTo    apitest.Wallet
	hot      []apitest.Wallet
	rcv      *receiver
	procs    []*proc
	baseline int64 // last event seq before the first start (bootstrap writes; no subscriber yet)
	token    string
	http     *http.Client
	next     atomic.Uint64 // round-robin over procs

	acks acks
	// counters of what the load saw
	requests, netErrors, status5xx, unexpected atomic.Int64
}

// acks is what the servers acknowledged (2xx with success): all of it must
// survive any crash.
type acks struct {
	mu       sync.Mutex
	orders   map[string]core.OrderStatus // order id → status it must end in ("" = any)
	payments map[string]bool             // txid → confirmation acknowledged
	payer    map[string]tari.Address     // txid → sender, for the API check
	credits  int
	unknown  int // steps cut by a kill whose outcome is unknown (either is fine)
}

func (a *acks) order(id string, st core.OrderStatus) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cur, ok := a.orders[id]; !ok || st != "" || cur == "" {
		a.orders[id] = st
	}
}

type rigOptions struct {
	instances  int
	hotWallets int
	env        map[string]string
	appNames   bool // PostgreSQL: application_name=<instance> on each URL
	setupDB    func(db *store.DB)
}

func newRig(t *testing.T, dbURL string, o rigOptions) *rig {
	t.Helper()
	warm(t)
	r := &rig{
		t: t, dbURL: dbURL, key: tari.GenerateSecretKey(), admin: apitest.NewWallet(), payTo: apitest.NewWallet(),
		rcv:  newReceiver(t, 3*time.Millisecond),
		http: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}},
		acks: acks{orders: map[string]core.OrderStatus{}, payments: map[string]bool{}, payer: map[string]tari.Address{}},
	}
	// Bootstrap as a merchant does (taritools setup add-user, wallet
	// registration): straight into the database, before any server runs.
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(db, engine.DefaultConfig())
	if err := eng.AssignRoles(ctx, r.admin.Addr, []core.Role{core.RoleSuperAdmin}, nil); err != nil {
		t.Fatal(err)
	}
	for range o.hotWallets {
		w := apitest.NewWallet()
		if err := eng.RegisterWallet(ctx, w.Addr, "127.0.0.1", 0); err != nil {
			t.Fatal(err)
		}
		r.hot = append(r.hot, w)
	}
	if o.setupDB != nil {
		o.setupDB(db)
	}
	if r.baseline, err = store.LastEventSeq(ctx, db); err != nil {
		t.Fatal(err)
	}
	db.Close()

	dir := t.TempDir()
	pluginsDir := filepath.Join(dir, "plugins")
	os.Mkdir(pluginsDir, 0o755)
	for i := range o.instances {
		name := fmt.Sprintf("tps-%d", i+1)
		u := dbURL
		if o.appNames {
			pu, _ := url.Parse(dbURL)
			q := pu.Query()
			q.Set("application_name", name)
			pu.RawQuery = q.Encode()
			u = strings.ReplaceAll(pu.String(), "%2C", ",")
		}
		p := &proc{name: name, port: freePort(t), logPath: filepath.Join(dir, name+".log")}
		p.env = serverEnv(p.port, u, r.key, r.payTo.Addr, r.rcv.srv.URL+"/hook", pluginsDir, o.env)
		r.procs = append(r.procs, p)
	}
	t.Cleanup(func() {
		for _, p := range r.procs {
			p.kill()
		}
		if t.Failed() {
			for _, p := range r.procs {
				t.Logf("---- %s log tail (%s):\n%s", p.name, p.logPath, tail(p.logPath, 30))
			}
		}
	})
	return r
}

// login gets a super_admin access token; it stays valid across restarts
// (same signing key).
func (r *rig) login() {
	r.t.Helper()
	tok := apitest.LoginToken(r.t, r.admin, apitest.NextNonce(), "super_admin")
	st, b, err := r.call(context.Background(), r.procs[0].base(), "POST", "/auth", nil, map[string]string{"tpg_auth_token": tok})
	if err != nil || st != 200 {
		r.t.Fatalf("login: %d %s %v", st, b, err)
	}
	r.token = strings.Trim(strings.TrimSpace(string(b)), `"`)
	if strings.HasPrefix(r.token, "{") {
		var v struct {
			AccessToken string `json:"access_token"`
		}
		json.Unmarshal(b, &v)
		r.token = v.AccessToken
	}
}

func (r *rig) call(ctx context.Context, base, method, path string, body any, hdr map[string]string) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(j)
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
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// pick spreads requests over the instances.
func (r *rig) pick() string {
	return r.procs[int(r.next.Add(1))%len(r.procs)].base()
}

// ------------------------------------------------------------------- load

// worker drives full flows one step at a time as one hot wallet (its nonces
// must arrive in order, as from a real wallet), retrying a step until the
// server acknowledges it: a kill only delays the flow.
type worker struct {
	r     *rig
	id    int
	hot   apitest.Wallet
	nonce int64
	seq   int
	flows []string
	tick  <-chan time.Time // nil: no pacing
}

var errGiveUp = errors.New("unexpected answer")

// step calls until ok says the answer is an acknowledgement. It returns
// false when the load stops first or the answer was unexpected.
func (w *worker) step(ctx context.Context, what string, call func(base string) (int, []byte, error), ok func(int, []byte) bool) bool {
	for ctx.Err() == nil {
		w.r.requests.Add(1)
		st, b, err := call(w.r.pick())
		switch {
		case err != nil:
			w.r.netErrors.Add(1) // the server is down or was killed mid-request
		case ok(st, b):
			return true
		case st >= 500:
			w.r.status5xx.Add(1)
			w.r.t.Errorf("%s: %d %s", what, st, b)
			return false
		case st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable:
		default:
			w.r.unexpected.Add(1)
			w.r.t.Errorf("%s: %d %s", what, st, b)
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}

func success(st int, b []byte) bool { return st == 200 && bytes.Contains(b, []byte(`"success":true`)) }

func (w *worker) orderBody(id, customer string, xtr int64, note *string) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "name": "#" + id, "currency": "XTR", "created_at": time.Now().UTC().Format(time.RFC3339),
		"total_price": strconv.FormatInt(xtr, 10), "customer": map[string]any{"id": customer}, "note": note})
	return b
}

func (w *worker) order(ctx context.Context, id, customer string, xtr int64, note *string) bool {
	body := w.orderBody(id, customer, xtr, note)
	return w.step(ctx, "order "+id, func(base string) (int, []byte, error) {
		return w.r.call(ctx, base, "POST", "/shopify/webhook/checkout_create", body, apitest.ShopifyHeaders(shopifySecret, body))
	}, success)
}

func (w *worker) pay(ctx context.Context, sender tari.Address, amount int64, txid string) bool {
	return w.step(ctx, "payment "+txid, func(base string) (int, []byte, error) {
		w.nonce++
		return w.r.call(ctx, base, "POST", "/wallet/incoming_payment",
			apitest.WalletPaymentBody(w.hot, w.nonce, apitest.NewPayment{Sender: sender, Amount: amount, TxID: txid}), nil)
	}, success)
}

func (w *worker) confirm(ctx context.Context, txid string) bool {
	return w.step(ctx, "confirm "+txid, func(base string) (int, []byte, error) {
		w.nonce++
		return w.r.call(ctx, base, "POST", "/wallet/tx_confirmation", apitest.WalletConfirmationBody(w.hot, w.nonce, txid), nil)
	}, success)
}

func (w *worker) run(ctx context.Context) {
	for ctx.Err() == nil {
		if w.tick != nil {
			select {
			case <-w.tick:
			case <-ctx.Done():
				return
			}
		}
		w.seq++
		id := strconv.Itoa((w.id+1)*10_000_000 + w.seq)
		xtr := int64(1 + rand.IntN(50))
		switch w.flows[w.seq%len(w.flows)] {
		case "paid": // memo-claimed order, payment, confirmation → Paid
			cust := apitest.NewWallet()
			memo := tari.SignMemo(cust.Key, cust.Addr, id).JSON()
			if !w.order(ctx, id, "cust-"+id, xtr, &memo) {
				continue
			}
			w.r.acks.order(id, "")
			txid := "tx-" + id
			if !w.pay(ctx, cust.Addr, xtr*1_000_000, txid) {
				continue
			}
			w.r.acks.mu.Lock()
			w.r.acks.payments[txid] = false
			w.r.acks.payer[txid] = cust.Addr
			w.r.acks.mu.Unlock()
			if !w.confirm(ctx, txid) {
				continue
			}
			w.r.acks.mu.Lock()
			w.r.acks.payments[txid] = true
			w.r.acks.mu.Unlock()
			w.r.acks.order(id, core.OrderPaid)
		case "cancel": // claimed order cancelled by an admin
			cust := apitest.NewWallet()
			memo := tari.SignMemo(cust.Key, cust.Addr, id).JSON()
			if !w.order(ctx, id, "cust-"+id, xtr, &memo) {
				continue
			}
			w.r.acks.order(id, "")
			cut := false // an earlier attempt died with the server: it may have committed
			if w.step(ctx, "cancel "+id, func(base string) (int, []byte, error) {
				st, b, err := w.r.call(ctx, base, "POST", "/api/cancel", map[string]any{"order_id": id, "reason": "crash test"}, apitest.Auth(w.r.token))
				if err != nil {
					cut = true
				} else if cut && st == http.StatusBadRequest {
					// "forbidden change": is it because the cut attempt
					// did cancel it? Then that is the acknowledgement.
					if gs, gb, gerr := w.r.call(ctx, base, "GET", "/api/order/id/"+id, nil, apitest.Auth(w.r.token)); gerr == nil && gs == 200 &&
						bytes.Contains(gb, []byte(`"status":"Cancelled"`)) {
						return 200, gb, nil
					}
				}
				return st, b, err
			}, func(st int, _ []byte) bool { return st == 200 }) {
				w.r.acks.order(id, core.OrderCancelled)
			}
		case "credit": // credit note first; the customer's order is then paid from it on arrival
			cust := "credit-" + id
			body := map[string]any{"customer_id": cust, "amount": xtr * 1_000_000, "reason": "crash test"}
			w.r.requests.Add(1)
			st, b, err := w.r.call(ctx, w.r.pick(), "POST", "/api/credit", body, apitest.Auth(w.r.token))
			credited := err == nil && st == 200
			switch {
			case err != nil: // not retried: a credit note is not idempotent
				w.r.netErrors.Add(1)
				w.r.acks.mu.Lock()
				w.r.acks.unknown++
				w.r.acks.mu.Unlock()
			case st != 200:
				w.r.unexpected.Add(1)
				w.r.t.Errorf("credit %s: %d %s", cust, st, b)
			}
			if !w.order(ctx, id, cust, xtr, nil) {
				continue
			}
			if credited {
				w.r.acks.mu.Lock()
				w.r.acks.credits++
				w.r.acks.mu.Unlock()
				w.r.acks.order(id, core.OrderPaid)
			} else {
				w.r.acks.order(id, "")
			}
		case "unclaimed": // left alone: expires when the unclaimed timeout is short
			if w.order(ctx, id, "anon-"+id, xtr, nil) {
				w.r.acks.order(id, "")
			}
		}
	}
}

// load runs one worker per hot wallet until stop is called, starting at
// most TPG_CRASH_RATE flows per second in all (default 40; 0 = as fast as
// the server answers). The cap keeps CI short: every event committed has to
// be delivered to the webhook before the checks end.
func (r *rig) load(flows ...string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var tick <-chan time.Time
	stopTicker := func() {}
	if rate := envRate(r.t, "TPG_CRASH_RATE", 40); rate > 0 {
		tk := time.NewTicker(time.Second / time.Duration(rate))
		tick, stopTicker = tk.C, tk.Stop
	}
	var wg sync.WaitGroup
	for i, h := range r.hot {
		w := &worker{r: r, id: i, hot: h, nonce: time.Now().UnixMicro(), flows: flows, tick: tick}
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx) }()
	}
	return func() { cancel(); wg.Wait(); stopTicker() }
}

func envRate(t *testing.T, k string, def int) int {
	if v := os.Getenv(k); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("%s=%q is not a non-negative integer", k, v)
		}
		return n
	}
	return def
}

// ------------------------------------------------------------------ checks

// waitDelivered waits until every committed event reached the receiver,
// for as long as deliveries make progress. After a SIGKILL the dead
// instance's lease on the webhook cursor (60 s) has to run out first, so
// "stuck" means no new delivery for stall.
func (r *rig) waitDelivered(db *store.DB, stall time.Duration) (bad []string, took time.Duration) {
	r.t.Helper()
	start := time.Now()
	last, progress := -1, time.Now()
	for {
		evs, err := dbcheck.AllEvents(context.Background(), db)
		if err != nil {
			r.t.Fatal(err)
		}
		got := r.rcv.snapshot()
		bad := dbcheck.Delivered(evs, r.baseline, got)
		if len(got) != last {
			last, progress = len(got), time.Now()
		}
		if len(bad) == 0 || time.Since(progress) > stall {
			return bad, time.Since(start)
		}
		time.Sleep(time.Second)
	}
}

// verify checks everything from the database and the API with the servers
// still running, then stops them gracefully.
func (r *rig) verify(db *store.DB) string {
	t := r.t
	t.Helper()
	ctx := context.Background()
	waitFrom := time.Now()
	bad, took := r.waitDelivered(db, 90*time.Second)
	catchUp := r.rcv.rateSince(waitFrom)
	if len(bad) > 0 {
		t.Errorf("%d delivery problems, first: %s", len(bad), strings.Join(bad[:min(10, len(bad))], "\n"))
	}
	bad, err := dbcheck.Invariants(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error(b)
	}
	r.annulledOnce(db)

	var orders []struct {
		OrderID string `bun:"order_id"`
		Status  string `bun:"status"`
	}
	if err := db.NewRaw("SELECT order_id, status FROM orders").Scan(ctx, &orders); err != nil && !errors.Is(err, store.ErrNoRows) {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, o := range orders {
		status[o.OrderID] = o.Status
	}
	var payments []struct {
		TxID   string `bun:"txid"`
		Status string `bun:"status"`
	}
	if err := db.NewRaw("SELECT txid, status FROM payments").Scan(ctx, &payments); err != nil && !errors.Is(err, store.ErrNoRows) {
		t.Fatal(err)
	}
	pstatus := map[string]string{}
	for _, p := range payments {
		pstatus[p.TxID] = p.Status
	}

	r.acks.mu.Lock()
	defer r.acks.mu.Unlock()
	lost := 0
	for id, want := range r.acks.orders {
		got, ok := status[id]
		switch {
		case !ok:
			lost++
			t.Errorf("acknowledged order %s is missing", id)
		case want != "" && got != string(want):
			lost++
			t.Errorf("order %s is %s, want %s", id, got, want)
		}
	}
	for txid, confirmed := range r.acks.payments {
		got, ok := pstatus[txid]
		switch {
		case !ok:
			lost++
			t.Errorf("acknowledged payment %s is missing", txid)
		case confirmed && got != string(core.PaymentConfirmed):
			lost++
			t.Errorf("payment %s is %s after an acknowledged confirmation", txid, got)
		}
	}

	// The same through the API, on every instance that runs.
	for _, p := range r.procs {
		if !p.running() {
			continue
		}
		n := 0
		for id, want := range r.acks.orders {
			if n++; n > 200 {
				break // a sample per instance is plenty: the DB check covered all
			}
			st, b, err := r.call(ctx, p.base(), "GET", "/api/order/id/"+id, nil, apitest.Auth(r.token))
			var o core.Order
			if err != nil || st != 200 || json.Unmarshal(b, &o) != nil || o.OrderID != id || (want != "" && o.Status != want) {
				t.Errorf("%s: GET order %s: %d %s %v (want %q)", p.name, id, st, b, err, want)
			}
		}
		n = 0
		for txid, addr := range r.acks.payer {
			if n++; n > 100 {
				break
			}
			st, b, err := r.call(ctx, p.base(), "GET", "/api/payments/"+addr.Base58(), nil, apitest.Auth(r.token))
			if err != nil || st != 200 || !bytes.Contains(b, []byte(`"`+txid+`"`)) {
				t.Errorf("%s: payment %s not listed for its sender: %d %s %v", p.name, txid, st, b, err)
			}
		}
	}
	r.rcv.mu.Lock()
	defer r.rcv.mu.Unlock()
	if r.rcv.badSig > 0 {
		t.Errorf("%d webhook deliveries with a bad signature or body", r.rcv.badSig)
	}
	if r.rcv.overlapSame > 0 {
		t.Errorf("%d deliveries overlapped another delivery of the same event", r.rcv.overlapSame)
	}
	if n := r.status5xx.Load(); n > 0 {
		t.Errorf("%d answers were 5xx", n)
	}
	sum, _ := dbcheck.Summary(ctx, db)
	confirmed := 0
	for _, c := range r.acks.payments {
		if c {
			confirmed++
		}
	}
	return fmt.Sprintf("acknowledged: %d orders, %d payments (%d confirmed), %d credit notes; unknown outcomes %d; lost %d; db: %s (bootstrap events before the first start: %d); "+
		"webhook: %d deliveries of %d distinct events (%d duplicates), all delivered %v after the load stopped (catch-up at %.0f events/s); requests %d, connection errors %d, 5xx %d",
		len(r.acks.orders), len(r.acks.payments), confirmed, r.acks.credits, r.acks.unknown, lost, sum, r.baseline,
		r.rcv.deliveries, len(r.rcv.got), r.rcv.duplicates, took.Round(time.Second), catchUp, r.requests.Load(), r.netErrors.Load(), r.status5xx.Load())
}

// annulledOnce: every Expired or Cancelled order has exactly one
// OrderAnnulled event with that status (the load never resets an order), so
// an expiry or cancel cut by a kill was neither lost nor applied twice.
func (r *rig) annulledOnce(db *store.DB) {
	t := r.t
	ctx := context.Background()
	evs, err := dbcheck.AllEvents(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	annulled := map[string]int{}
	for _, ev := range evs {
		if ev.Type == core.EventOrderAnnulled {
			var a core.OrderAnnulledEvent
			if err := json.Unmarshal(ev.Payload, &a); err != nil {
				t.Fatal(err)
			}
			annulled[a.Order.OrderID+"/"+string(a.Status)]++
		}
	}
	var orders []struct {
		OrderID string `bun:"order_id"`
		Status  string `bun:"status"`
	}
	if err := db.NewRaw("SELECT order_id, status FROM orders WHERE status IN ('Expired', 'Cancelled')").Scan(ctx, &orders); err != nil && !errors.Is(err, store.ErrNoRows) {
		t.Fatal(err)
	}
	for _, o := range orders {
		if n := annulled[o.OrderID+"/"+o.Status]; n != 1 {
			t.Errorf("%s order %s has %d OrderAnnulled(%s) events", o.Status, o.OrderID, n, o.Status)
		}
	}
	if len(orders) != len(annulled) {
		t.Errorf("%d annulled orders, %d distinct OrderAnnulled events", len(orders), len(annulled))
	}
}

func dbcheckInvariants(db *store.DB) ([]string, error) {
	return dbcheck.Invariants(context.Background(), db)
}
