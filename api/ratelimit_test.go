package api

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/core/tari"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// freezeLimiters makes the buckets refill only when the test moves the clock,
// so "never limited" cannot be an artefact of a slow machine; it also forgets
// the harness's own setup login.
func (h *harness) freezeLimiters() *fakeClock {
	clk := &fakeClock{t: time.Now()}
	for _, l := range []*limiter{h.srv.publicLimit, h.srv.walletLimit} {
		if l != nil {
			l.mu.Lock()
			l.now, l.buckets = clk.Now, map[string]*bucket{}
			l.mu.Unlock()
		}
	}
	return clk
}

var strictLimits = map[string]string{
	"TPG_RATE_LIMIT_PER_SECOND": "1", "TPG_RATE_LIMIT_BURST": "3",
	"TPG_RATE_LIMIT_WALLET_FAILURES_PER_SECOND": "1", "TPG_RATE_LIMIT_WALLET_FAILURES_BURST": "3",
	"TPG_RATE_LIMIT_EXEMPT_LOOPBACK": "false", "TPG_USE_X_FORWARDED_FOR": "true",
}

func want429(t *testing.T, what string, r apitest.Response) {
	t.Helper()
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(r.Error(), "Too many requests.") || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s: %d %q Retry-After=%q", what, r.Status, r.Body, r.Header.Get("Retry-After"))
	}
}

func TestRateLimitPublicRoutes(t *testing.T) {
	eachDB(t, strictLimits, func(t *testing.T, h *harness) {
		clk := h.freezeLimiters()
		bad := map[string]string{headerLoginToken: "garbage"}
		for i := 0; i < 3; i++ {
			if r := h.c.Do("POST", "/auth", nil, bad); r.Status != http.StatusBadRequest {
				t.Fatalf("request %d within the burst: %d", i, r.Status)
			}
		}
		r := h.c.Do("POST", "/auth", nil, bad)
		want429(t, "4th /auth", r)
		if r.Header.Get("Retry-After") != "1" {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		// One budget for all public routes of an IP.
		want429(t, "claim", h.do("POST", "/order/claim", `{}`, ""))
		want429(t, "send_to", h.do("GET", "/wallet/send_to", nil, ""))
		// A valid login is limited too (it is the same unauthenticated route).
		w := apitest.NewWallet()
		want429(t, "valid login", h.c.Do("POST", "/auth", nil, map[string]string{headerLoginToken: apitest.LoginToken(t, w, 1)}))
		// Other clients are not affected; the forwarded address is the key.
		if r := h.c.Do("POST", "/auth", nil, map[string]string{headerLoginToken: "garbage", "X-Forwarded-For": "10.0.0.9"}); r.Status != http.StatusBadRequest {
			t.Fatalf("another client: %d", r.Status)
		}
		// Authenticated routes and the wallet's own budget are not touched.
		if r := h.do("GET", "/api/balance", nil, h.adminT); r.Status != 200 {
			t.Fatalf("balance: %d", r.Status)
		}
		if r := h.payIn(apitest.NewWallet().Addr, 1000, "tx-rl", nil, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"success":true`) {
			t.Fatalf("hot wallet: %d %s", r.Status, r.Body)
		}
		// The bucket refills at the configured rate.
		clk.Add(time.Second)
		if r := h.c.Do("POST", "/auth", nil, map[string]string{headerLoginToken: apitest.LoginToken(t, w, 2)}); r.Status != 200 {
			t.Fatalf("after a second: %d %s", r.Status, r.Body)
		}
		want429(t, "then empty again", h.c.Do("POST", "/auth", nil, bad))
		if v, _ := metricValue(t, h.scrape(), "tps_rate_limited_requests_total", `{budget="public"}`); v != 5 {
			t.Fatalf("rate-limited counter %v, want 5", v)
		}
	})
}

// TestHotWalletNeverLimited: with tiny budgets and a frozen clock, a hot
// wallet sends hundreds of notifications as fast as it can while one
// attacker hammers /auth from the same IP and another sends forged wallet
// notifications: the wallet is never limited; both attackers are.
func TestHotWalletNeverLimited(t *testing.T) {
	eachDB(t, strictLimits, func(t *testing.T, h *harness) {
		h.freezeLimiters()
		const n, attacks = 75, 80
		var wg sync.WaitGroup
		var authCodes, forgedCodes map[int]int
		wg.Add(2)
		go func() { // same IP as the wallet (127.0.0.1), public budget
			defer wg.Done()
			authCodes = map[int]int{}
			for i := 0; i < attacks; i++ {
				authCodes[h.c.Do("POST", "/auth", nil, map[string]string{headerLoginToken: "x.y.z"}).Status]++
			}
		}()
		go func() { // another IP, forged signatures on the wallet routes
			defer wg.Done()
			forgedCodes = map[int]int{}
			forger := apitest.Wallet{Key: tari.GenerateSecretKey(), Addr: h.hot.Addr}
			for i := 0; i < attacks; i++ {
				b := apitest.WalletConfirmationBody(forger, int64(1_000_000+i), "tx")
				forgedCodes[h.c.Do("POST", "/wallet/tx_confirmation", b, map[string]string{"X-Forwarded-For": "10.6.6.6"}).Status]++
			}
		}()
		sender := apitest.NewWallet()
		start := time.Now()
		for i := 0; i < n; i++ {
			txid := fmt.Sprintf("hot-%d", i)
			if r := h.payIn(sender.Addr, 1000, txid, nil, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"success":true`) {
				t.Fatalf("payment %d: %d %s", i, r.Status, r.Body)
			}
			if r := h.confirm(txid); r.Status != 200 || !strings.Contains(string(r.Body), `"success":true`) {
				t.Fatalf("confirmation %d: %d %s", i, r.Status, r.Body)
			}
		}
		el := time.Since(start)
		wg.Wait()
		t.Logf("hot wallet: %d notifications in %v (%.0f/s), never limited; /auth attacker %v; forger %v",
			2*n, el.Round(time.Millisecond), float64(2*n)/el.Seconds(), authCodes, forgedCodes)
		if authCodes[http.StatusTooManyRequests] != attacks-3 || authCodes[http.StatusBadRequest] != 3 {
			t.Fatalf("/auth attacker: %v", authCodes)
		}
		if forgedCodes[http.StatusTooManyRequests] != attacks-3 || forgedCodes[http.StatusUnauthorized] != 3 {
			t.Fatalf("forger: %v", forgedCodes)
		}
		// A replayed notification from the wallet's own IP is a failure like
		// any other (401, charged), and still refused.
		body := apitest.WalletConfirmationBody(h.hot, h.nonce, "hot-0")
		if r := h.do("POST", "/wallet/tx_confirmation", body, ""); r.Status != http.StatusUnauthorized {
			t.Fatalf("replay: %d", r.Status)
		}
		text := h.scrape()
		wantMetric(t, text, "tps_rate_limited_requests_total", `{budget="public"}`, attacks-3)
		wantMetric(t, text, "tps_rate_limited_requests_total", `{budget="wallet_failures"}`, attacks-3)
	})
}

func TestRateLimitDefaults(t *testing.T) {
	// Loopback clients are exempt by default; others get the default budget.
	eachDB(t, map[string]string{"TPG_USE_X_FORWARDED_FOR": "true"}, func(t *testing.T, h *harness) {
		h.freezeLimiters()
		codes := map[int]int{}
		for i := 0; i < 60; i++ {
			codes[h.c.Do("POST", "/auth", nil, map[string]string{headerLoginToken: "garbage"}).Status]++
		}
		if codes[http.StatusTooManyRequests] != 0 {
			t.Fatalf("loopback limited: %v", codes)
		}
		codes = map[int]int{}
		for i := 0; i < 60; i++ {
			codes[h.c.Do("POST", "/auth", nil, map[string]string{headerLoginToken: "garbage", "X-Forwarded-For": "203.0.113.5"}).Status]++
		}
		if codes[http.StatusTooManyRequests] != 20 || codes[http.StatusBadRequest] != 40 {
			t.Fatalf("default burst 40: %v", codes)
		}
	})
	// 0 disables.
	eachDB(t, map[string]string{"TPG_RATE_LIMIT_PER_SECOND": "0", "TPG_RATE_LIMIT_WALLET_FAILURES_PER_SECOND": "0",
		"TPG_RATE_LIMIT_EXEMPT_LOOPBACK": "false"}, func(t *testing.T, h *harness) {
		for i := 0; i < 100; i++ {
			if r := h.c.Do("POST", "/auth", nil, map[string]string{headerLoginToken: "garbage"}); r.Status != http.StatusBadRequest {
				t.Fatalf("disabled limiter answered %d", r.Status)
			}
		}
	})
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	l := newLimiter(1, 2, clk.Now)
	for i := 0; i < limiterMaxKeys+500; i++ {
		l.take(fmt.Sprintf("k%d", i)) // each key keeps a used bucket
		if l.size() > limiterMaxKeys {
			t.Fatalf("%d keys", l.size())
		}
	}
	// Once refilled, idle keys are dropped at the next sweep rather than the
	// whole table.
	clk.Add(10 * time.Second)
	l.take("busy")
	l.take("busy")
	l.mu.Lock()
	l.sweep(clk.Now())
	l.mu.Unlock()
	if l.size() != 1 {
		t.Fatalf("%d keys after the sweep", l.size())
	}
	if newLimiter(0, 5, clk.Now) != nil {
		t.Fatal("rate 0 must disable")
	}
}
