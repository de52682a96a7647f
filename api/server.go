package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/api/metrics"
	"github.com/tari-payment/tps/api/shopify"
	"github.com/tari-payment/tps/core/config"
	"github.com/tari-payment/tps/core/tari"
)

// PluginAdmin is what the plugin admin routes need from the plugin manager.
type PluginAdmin interface {
	// Plugins describes the loaded plugins (any JSON value).
	Plugins(ctx context.Context) (any, error)
	// FailedDeliveries lists deliveries parked as failed (any JSON value).
	FailedDeliveries(ctx context.Context) (any, error)
	// Redeliver re-queues one failed delivery.
	Redeliver(ctx context.Context, id int64) error
	// RedeliverAll re-queues every failed delivery and says how many.
	RedeliverAll(ctx context.Context) (int, error)
}

// ErrDeliveryNotFound may be returned (wrapped) by PluginAdmin.Redeliver for
// an unknown id; the route answers 404.
var ErrDeliveryNotFound = errDeliveryNotFound{}

type errDeliveryNotFound struct{}

func (errDeliveryNotFound) Error() string { return "delivery not found" }

// Options configures a Server.
type Options struct {
	Config config.Config
	// Engine is the payment engine (an *engine.Engine).
	Engine Engine
	// ServerKey signs access tokens (TPG_JWT_SIGNING_KEY).
	ServerKey tari.SecretKey
	// Plugins serves the plugin admin routes; nil answers 501 there.
	Plugins PluginAdmin
	// Shopify is the Admin API client; nil builds one from Config.
	Shopify *shopify.Client
	// Logger for structured logs; nil uses slog.Default().
	Logger *slog.Logger
	// AccessLog receives access-log lines; nil uses os.Stderr.
	AccessLog io.Writer
	// Now is the clock (tests); nil uses time.Now.
	Now func() time.Time
	// Metrics records the server's metrics; nil builds a fresh set on the
	// engine's database (served at /metrics unless TPG_METRICS_ENABLED=false).
	Metrics *metrics.Metrics
}

// Server holds the HTTP handlers and what they need.
type Server struct {
	cfg     config.Config
	eng     Engine
	key     tari.SecretKey
	pub     tari.PublicKey
	plugins PluginAdmin
	shop    *shopify.Client
	log     *slog.Logger
	now     func() time.Time
	router  *gin.Engine
	metrics *metrics.Metrics

	publicLimit, walletLimit *limiter

	curCache currencyCache
}

// New builds the server and its router.
func New(o Options) *Server {
	s := &Server{
		cfg: o.Config, eng: o.Engine, key: o.ServerKey, pub: o.ServerKey.PublicKey(),
		plugins: o.Plugins, shop: o.Shopify, log: o.Logger, now: o.Now, metrics: o.Metrics,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.metrics == nil {
		mo := metrics.Options{}
		if s.eng != nil {
			mo.Ping, mo.Subscribers = s.eng.Ping, s.eng.OutboxSubscribers
		}
		if ps, ok := o.Plugins.(PluginStater); ok {
			mo.PluginStates = ps.PluginStates
		}
		s.metrics = metrics.New(mo)
	}
	s.publicLimit = newLimiter(s.cfg.RateLimitPerSecond, s.cfg.RateLimitBurst, s.now)
	s.walletLimit = newLimiter(s.cfg.RateLimitWalletFailuresPerSecond, s.cfg.RateLimitWalletFailuresBurst, s.now)
	if s.shop == nil {
		s.shop = shopify.NewFromConfig(s.cfg, nil)
	}
	al := o.AccessLog
	if al == nil {
		al = os.Stderr
	}
	s.router = s.buildRouter(al)
	return s
}

// Handler is the root HTTP handler.
func (s *Server) Handler() http.Handler { return s.router }

// Metrics is the server's metrics (the expiry worker records its runs there).
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// NewHTTPServer wraps h with sane timeouts (keep-alive 600 s as the reference).
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // rescans and repricing talk to Shopify
		IdleTimeout:       600 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// recovery turns a panic into a logged 500 JSON answer.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.Error("panic in handler", "request_id", requestID(c), "path", c.Request.URL.Path, "panic", r)
			internalError(c)
		}
	}()
	c.Next()
}

// healthTimeout bounds the readiness probe's database ping.
const healthTimeout = 2 * time.Second

// health is readiness: 👍️ and a newline, with no Content-Type, as the
// reference, while the database answers a ping; 503 JSON when it does not, so
// a load balancer stops sending traffic to an instance that cannot commit.
func (s *Server) health(c *gin.Context) {
	if s.eng != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), healthTimeout)
		err := s.eng.Ping(ctx)
		cancel()
		if err != nil {
			s.log.Warn("readiness: database unreachable", "err", err)
			abortJSON(c, http.StatusServiceUnavailable, "The database is unreachable.")
			return
		}
	}
	health(c)
}

// livez is liveness: 200 while the process serves HTTP, whatever the
// database does (restarting the process would not fix the database).
func livez(c *gin.Context) {
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte("ok\n"))
}

// health writes the reference's body with no Content-Type.
func health(c *gin.Context) {
	c.Writer.Header()["Content-Type"] = nil
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write([]byte("\U0001F44D\uFE0F\n"))
}
