// Command tari-payment-server runs the Tari payment server: it loads the
// configuration from the environment (and .env), runs the preflight checks,
// opens and migrates the database, and serves the HTTP API with the expiry
// worker and the plugins until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/joho/godotenv"

	"github.com/tari-payment/tps/api"
	"github.com/tari-payment/tps/api/metrics"
	"github.com/tari-payment/tps/api/shopify"
	"github.com/tari-payment/tps/core/config"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
)

func main() {
	// .env in the working directory; real environment variables win.
	if err := godotenv.Load(); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, "error: reading .env:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "🚀️ tari-payment-server failed:", err)
		os.Exit(1)
	}
}

// onListen, when set (tests), is told the bound address.
var onListen func(addr string)

// shutdownGrace bounds how long in-flight requests may take to finish.
const shutdownGrace = 30 * time.Second

// run is the whole server lifetime; it returns when ctx is cancelled (after a
// graceful shutdown) or on a startup error, which says what to fix.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return command(ctx, args, getenv, stdout)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(getenv("TPG_LOG_LEVEL"))}))

	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("preflight check failed: invalid configuration:\n%w", err)
	}
	pre, err := preflight(cfg, log)
	if err != nil {
		return fmt.Errorf("preflight check failed: %w", err)
	}
	log.Info("configuration", cfg.Summary()...)

	var openOpts []store.OpenOption
	if !cfg.PostgresPrepared {
		openOpts = append(openOpts, store.WithoutPreparedStatements)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, openOpts...)
	if err != nil {
		return fmt.Errorf("opening the database %s: %w (check TPG_DATABASE_URL)", config.RedactURL(cfg.DatabaseURL), err)
	}
	defer db.Close()
	if db.Kind == store.Postgres {
		db.SetMaxOpenConns(cfg.MaxConnections)
	}

	// wake is set once the plugin manager runs; the engine calls it after
	// every commit that appended events, so deliveries start at once.
	var wake atomic.Pointer[func()]
	eng := engine.New(db, engine.Config{
		AfterCommit: func() {
			if f := wake.Load(); f != nil {
				(*f)()
			}
		},
		StrictMode:                cfg.StrictMode,
		AutoClaim:                 true,
		DisableMemoSignatureCheck: cfg.DisableMemoSignatureCheck,
		OrderIDField:              cfg.ShopifyOrderIDField,
		UnclaimedTimeout:          cfg.UnclaimedOrderTimeout,
		UnpaidTimeout:             cfg.UnpaidOrderTimeout,
	})

	// One Admin API token source for the server's calls and the shopify plugin's.
	shopTokens := shopify.TokensFromConfig(cfg)
	actions := &pluginActions{eng: eng}
	plugins, notify, stopPlugins, err := startPlugins(ctx, cfg, getenv, db, actions, log, shopify.PluginTransport(cfg, shopTokens))
	if err != nil {
		return fmt.Errorf("starting plugins: %w", err)
	}
	defer stopPlugins()
	if notify != nil {
		wake.Store(&notify)
	}

	srv := api.New(api.Options{
		Config: cfg, Engine: eng, ServerKey: pre.serverKey, Plugins: plugins,
		Logger: log, AccessLog: stderr, Shopify: shopify.NewFromConfig(cfg, shopTokens),
	})
	actions.api.Store(srv)
	raiseFileLimit(log)
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listening on %s: %w (check TPG_HOST and TPG_PORT)", cfg.Addr(), err)
	}
	ln = api.LimitConnsPerIP(ln, cfg.MaxConnectionsPerIP)
	httpSrv := api.NewHTTPServer(cfg.Addr(), srv.Handler())
	httpSrv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }

	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		expiryWorker(workerCtx, eng, cfg.ExpiryCheckInterval, log, srv.Metrics())
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	log.Info("🚀️ Tari payment server listening", "addr", ln.Addr().String())
	if onListen != nil {
		onListen(ln.Addr().String())
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing in-flight requests")
	case err := <-serveErr:
		runErr = fmt.Errorf("serving HTTP: %w", err)
	}
	shCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := httpSrv.Shutdown(shCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("HTTP shutdown", "err", err)
	}
	stopWorker()
	wg.Wait()
	log.Info("stopped")
	return runErr
}

// expiryWorker expires stale orders now and then every interval.
func expiryWorker(ctx context.Context, eng *engine.Engine, interval time.Duration, log *slog.Logger, m *metrics.Metrics) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		log.Debug("🕰️ Running unclaimed order expiry job")
		res, err := eng.ExpireOrders(ctx, time.Now())
		if ctx.Err() == nil {
			m.ObserveExpiry(len(res.Unclaimed), len(res.Unpaid), res.Skipped, err)
		}
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("🕰️ order expiry failed", "err", err)
		case err == nil && !res.Skipped && len(res.Unclaimed)+len(res.Unpaid) > 0:
			log.Info(fmt.Sprintf("🕰️ %d orders expired", len(res.Unclaimed)+len(res.Unpaid)))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}
