package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/cmd/taritools/internal/load"
	"github.com/tari-payment/tps/core/tari"
)

// bench drives a local server with order webhooks and full payment flows and
// prints throughput and latency against a baseline measured in the same run.
func newBenchCommand() *cobra.Command {
	var (
		spawn, soak, noPlugins      bool
		urls, hotKeys               []string
		hmacSecret, adminKey, pgURL string
		serverBin, fixture          string
		instances, clients, sample  int
		rate                        float64
		duration                    time.Duration
	)
	c := &cobra.Command{
		Use:   "bench",
		Short: "Load-test a local payment server: webhook and full-flow throughput and latency against a bare baseline on the same database",
		Long: `bench measures, against a bare gin + one-INSERT-per-request baseline started in the same run
(on a SQLite file, or with --spawn --postgres in the servers' own PostgreSQL database),
its one-second slices interleaved with the server's:
  webhooks    signed Shopify orders/create webhooks, closed loop
  flows_max   full flows (order claimed by its note → payment → confirmation → Paid), closed loop
  flows_paced full flows paced (open loop) at half of flows_max; latency counts from the scheduled start
and reads a sample of the orders back to check they are Paid.

--spawn builds the server, starts it on a loopback port with a fresh database (a SQLite
file in a temporary directory, or a fresh database on --postgres; --instances N servers
share it and the load goes round-robin), generated keys and HMAC secret, the shipped
plugins pointed at a local fake Shopify and webhook receiver, and stops it at the end.
Without --spawn give --url (repeatable), the HMAC secret and a super_admin key; the bench
then registers hot wallets for 127.0.0.1 (or uses --hot-key wallets), may set a USD rate
if none is set, and creates orders: use a test server.

--soak runs the paced phase for --duration (e.g. 10m) and samples the servers' memory
(RSS from /proc, Go heap from /metrics); it fails if RSS at the end exceeds 1.5× RSS
after warm-up. Only loopback servers are accepted. Exit status 1 on any error.`,
		Example: `  taritools bench --spawn
  taritools bench --spawn --postgres postgres://postgres@127.0.0.1:5432/tpg_dev --instances 2
  taritools bench --spawn --soak --duration 10m --json > soak.json
  TPG_SHOPIFY_HMAC_SECRET=... TARITOOLS_BENCH_ADMIN_KEY=... taritools bench --url http://127.0.0.1:8360`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if ctx == nil {
				ctx = context.Background()
			}
			root := load.FindRoot()
			if fixture == "" {
				fixture = load.FixturePath(root)
			}
			fx, err := os.ReadFile(fixture)
			if err != nil {
				return fmt.Errorf("--fixture: %w (give a Shopify orders/create payload)", err)
			}
			dir, err := os.MkdirTemp("", "tps-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			progress := cmd.ErrOrStderr()
			cfg := load.BenchConfig{Fixture: fx, Clients: clients, Duration: duration, Dir: dir, Soak: soak, Sample: sample, Rate: rate, Log: progress}
			var sp *load.Spawned
			dbName := "external"
			if spawn {
				fmt.Fprintln(progress, "starting the server(s)…")
				sp, err = load.Spawn(ctx, load.SpawnOptions{Root: root, ServerBin: serverBin, Postgres: pgURL, Instances: instances, Dir: dir, NoPlugins: noPlugins})
				if err != nil {
					return err
				}
				defer sp.Stop()
				cfg.Target = sp.Target
				for _, p := range sp.Procs {
					cfg.PIDs = append(cfg.PIDs, p.Process.Pid)
				}
				dbName = "sqlite"
				if pgURL != "" {
					dbName = "postgres"
					cfg.BaselinePostgres = sp.DBURL // the same database: PostgreSQL against PostgreSQL
				}
			} else {
				if len(urls) == 0 {
					return errors.New("give --spawn, or --url of a running server")
				}
				for _, u := range urls {
					if !load.IsLoopback(u) {
						return fmt.Errorf("--url %s is not a loopback address: bench only drives local servers", u)
					}
				}
				if hmacSecret != "" || adminKey != "" || len(hotKeys) > 0 {
					fmt.Fprintln(cmd.ErrOrStderr(), "warning: secrets on the command line are readable by every user of this machine (ps); prefer $TPG_SHOPIFY_HMAC_SECRET, $TARITOOLS_BENCH_ADMIN_KEY and $TARITOOLS_BENCH_HOT_KEYS")
				}
				if hmacSecret == "" {
					hmacSecret = os.Getenv("TPG_SHOPIFY_HMAC_SECRET")
				}
				if adminKey == "" {
					adminKey = os.Getenv("TARITOOLS_BENCH_ADMIN_KEY")
				}
				if len(hotKeys) == 0 && os.Getenv("TARITOOLS_BENCH_HOT_KEYS") != "" {
					hotKeys = strings.Split(os.Getenv("TARITOOLS_BENCH_HOT_KEYS"), ",")
				}
				if hmacSecret == "" || adminKey == "" {
					return errors.New("without --spawn the HMAC secret (--hmac-secret or $TPG_SHOPIFY_HMAC_SECRET) and a super_admin key (--admin-key or $TARITOOLS_BENCH_ADMIN_KEY) are needed")
				}
				t := load.Target{URLs: urls, HMACSecret: hmacSecret}
				if t.Admin, err = tari.ParseSecretKey(strings.TrimSpace(adminKey)); err != nil {
					return fmt.Errorf("admin key: %w", err)
				}
				for _, k := range hotKeys {
					hk, err := tari.ParseSecretKey(strings.TrimSpace(k))
					if err != nil {
						return fmt.Errorf("hot key: %w", err)
					}
					t.HotWallets = append(t.HotWallets, hk)
				}
				cfg.Target = t
			}
			rep, err := load.Bench(ctx, cfg)
			if err != nil {
				return err
			}
			rep.Database = dbName
			if sp != nil {
				rep.PluginCalls = sp.Hooks.Load()
			}
			if err := emit(cmd, rep, rep.Print); err != nil {
				return err
			}
			switch {
			case rep.Errors() > 0:
				return fmt.Errorf("%d errors", rep.Errors())
			case rep.Memory != nil && !rep.Memory.Within:
				return fmt.Errorf("memory grew beyond the bound (%.1f× warm-up RSS)", rep.Memory.Bound)
			}
			return nil
		},
	}
	f := c.Flags()
	f.BoolVar(&spawn, "spawn", false, "build and start the server(s) on a fresh database, stop them at the end")
	f.StringVar(&pgURL, "postgres", "", "with --spawn: PostgreSQL server URL on loopback; a fresh database is created and dropped")
	f.IntVar(&instances, "instances", 1, "with --spawn: servers sharing the database (needs --postgres above 1)")
	f.StringVar(&serverBin, "server-bin", "", "with --spawn: a built tari-payment-server (default: go build from the checkout)")
	f.BoolVar(&noPlugins, "no-plugins", false, "with --spawn: do not run the shopify and webhook plugins")
	f.StringSliceVar(&urls, "url", nil, "base URL of a running server on loopback (repeatable: round-robin)")
	f.StringVar(&hmacSecret, "hmac-secret", "", "Shopify HMAC secret of the server (default $TPG_SHOPIFY_HMAC_SECRET)")
	f.StringVar(&adminKey, "admin-key", "", "secret key of a super_admin (default $TARITOOLS_BENCH_ADMIN_KEY)")
	f.StringSliceVar(&hotKeys, "hot-key", nil, "secret key of a hot wallet registered for 127.0.0.1 (repeatable; default: register fresh ones; $TARITOOLS_BENCH_HOT_KEYS)")
	f.IntVar(&clients, "clients", 8, "concurrent clients")
	f.DurationVar(&duration, "duration", 10*time.Second, "length of each phase (with --soak: of the soak)")
	f.BoolVar(&soak, "soak", false, "run paced full flows for --duration and sample server memory")
	f.Float64Var(&rate, "rate", 0, "paced flows per second (default: half of the measured maximum)")
	f.IntVar(&sample, "sample", 50, "completed orders read back and checked Paid")
	f.StringVar(&fixture, "fixture", "", "Shopify orders/create payload used as the order shape (default: the spec fixture)")
	return c
}
