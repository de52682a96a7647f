package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Rate limiting of the unauthenticated routes, per client IP (as remoteIP
// works it out, so behind a trusted proxy the forwarded address counts).
//
// Two independent token buckets per IP:
//   - public: every request to /auth, /order/claim and /wallet/send_to takes a
//     token (TPG_RATE_LIMIT_PER_SECOND, TPG_RATE_LIMIT_BURST);
//   - wallet failures: on /wallet/incoming_payment and /wallet/tx_confirmation
//     only a request that ends in a 4xx takes a token, and an IP with an empty
//     bucket is refused before its signature is verified
//     (TPG_RATE_LIMIT_WALLET_FAILURES_*). A hot wallet whose notifications
//     authenticate never spends anything, however fast it sends; someone
//     guessing signatures or replaying nonces runs dry after the burst.
//
// The buckets are separate, so hammering /auth never slows a wallet on the
// same address. Loopback clients are exempt by default
// (TPG_RATE_LIMIT_EXEMPT_LOOPBACK): they are local tools, or every customer
// of a local proxy whose forwarded header is not trusted.

const (
	budgetPublic         = "public"
	budgetWalletFailures = "wallet_failures"
	// limiterMaxKeys bounds the memory of one bucket table; past it, idle
	// (refilled) entries are dropped, and if that is not enough the table
	// starts afresh (failing open for a moment rather than growing).
	limiterMaxKeys = 100_000
)

type bucket struct {
	tokens float64
	last   time.Time
}

// limiter is a table of token buckets keyed by client IP.
type limiter struct {
	rate  float64 // tokens per second; 0 disables
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	return &limiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// refill brings b up to date; the caller holds mu.
func (l *limiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
	}
	b.last = now
}

func (l *limiter) get(key string, now time.Time) *bucket {
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= limiterMaxKeys {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	return b
}

// sweep drops the buckets that have refilled completely (they behave exactly
// like a new one); the caller holds mu.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= limiterMaxKeys {
		l.buckets = map[string]*bucket{}
	}
}

// wait is how long until one token is there again.
func (l *limiter) wait(b *bucket) time.Duration {
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// take spends a token for key; when none is left it says how long to wait.
func (l *limiter) take(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.get(key, now)
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, l.wait(b)
}

// check says whether key has a token, without spending it.
func (l *limiter) check(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		return true, 0
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, l.wait(b)
}

// charge spends a token for key, going no lower than empty.
func (l *limiter) charge(key string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.get(key, now)
	l.refill(b, now)
	b.tokens = math.Max(0, b.tokens-1)
}

// size is the number of tracked IPs (tests).
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// clientKey is the bucket key for the request's client IP; "" means the
// client is exempt: a loopback TCP peer that sent no trusted forwarding
// header (unless TPG_RATE_LIMIT_EXEMPT_LOOPBACK=false). A loopback address
// named in a trusted forwarding header is limited like any other: whoever
// reaches the proxy can write it there.
func (s *Server) clientKey(c *gin.Context) string {
	ip, forwarded := clientIP(c.Request, s.cfg.UseXForwardedFor, s.cfg.UseForwarded)
	if ip == nil {
		return c.Request.RemoteAddr
	}
	if ip.IsLoopback() && !forwarded && s.cfg.RateLimitExemptLoopback {
		return ""
	}
	return ip.String()
}

// tooMany answers 429 with a Retry-After in whole seconds (at least 1).
func (s *Server) tooMany(c *gin.Context, budget string, wait time.Duration) {
	s.metrics.RateLimited(budget)
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Header("Retry-After", strconv.Itoa(secs))
	abortJSON(c, http.StatusTooManyRequests, "Too many requests. Retry after "+strconv.Itoa(secs)+" s.")
}

// limitPublic charges every request to the public budget.
func (s *Server) limitPublic(c *gin.Context) {
	key := s.clientKey(c)
	if key == "" {
		c.Next()
		return
	}
	if okTake, wait := s.publicLimit.take(key); !okTake {
		s.tooMany(c, budgetPublic, wait)
		return
	}
	c.Next()
}

// limitWalletFailures refuses an IP whose failure budget is spent, and charges
// it for each request that ends in a 4xx.
func (s *Server) limitWalletFailures(c *gin.Context) {
	key := s.clientKey(c)
	if key == "" {
		c.Next()
		return
	}
	if okCheck, wait := s.walletLimit.check(key); !okCheck {
		s.tooMany(c, budgetWalletFailures, wait)
		return
	}
	c.Next()
	if st := c.Writer.Status(); st >= 400 && st < 500 {
		s.walletLimit.charge(key)
	}
}
