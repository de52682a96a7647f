package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/config"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/tari"
)

// SpawnOptions says how to start the servers under test.
type SpawnOptions struct {
	Root      string // repository root (to build the server and its default plugins)
	ServerBin string // prebuilt server binary; "" builds one from Root
	Postgres  string // PostgreSQL server URL: a fresh database on it; "" = a SQLite file
	Instances int    // servers on the one database (PostgreSQL for more than one)
	Dir       string // scratch directory (SQLite file, logs, binary)
	NoPlugins bool   // do not configure the shopify and webhook plugins
	Env       map[string]string
}

// Spawned is a set of running servers with their target.
type Spawned struct {
	Target  Target
	Procs   []*exec.Cmd
	Logs    []string
	DBURL   string
	Hooks   *atomic.Int64 // plugin HTTP calls received by the fake Shopify and webhook receiver
	stopFns []func()
}

// FindRoot walks up from the working directory to this module's root.
func FindRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/tari-payment/tps\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// BuildServer compiles cmd/tari-payment-server into dir.
func BuildServer(ctx context.Context, root, dir string) (string, error) {
	if root == "" {
		return "", errors.New("not inside the repository: give --server-bin or run from the checkout")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	out := filepath.Join(dir, "tari-payment-server")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/tari-payment-server")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the server: %v: %s", err, b)
	}
	return out, nil
}

// Spawn starts opt.Instances servers on a fresh database with generated
// keys, an HMAC secret, a super_admin (written to the database first, as
// `taritools setup add-user` does) and, unless NoPlugins, the shipped
// shopify and webhook plugins pointed at a loopback fake Shopify and webhook
// receiver. Stop ends everything.
func Spawn(ctx context.Context, opt SpawnOptions) (_ *Spawned, err error) {
	if opt.Instances < 1 {
		opt.Instances = 1
	}
	if opt.Instances > 1 && opt.Postgres == "" {
		return nil, errors.New("several instances need a shared PostgreSQL database (--postgres)")
	}
	s := &Spawned{Hooks: new(atomic.Int64)}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	bin := opt.ServerBin
	if bin == "" {
		if bin, err = BuildServer(ctx, opt.Root, opt.Dir); err != nil {
			return nil, err
		}
	}
	if opt.Postgres != "" {
		if s.DBURL, err = freshDatabase(opt.Postgres, s); err != nil {
			return nil, err
		}
	} else {
		s.DBURL = "sqlite://" + filepath.Join(opt.Dir, "tari_store.db")
	}
	admin := tari.GenerateSecretKey()
	db, err := store.Open(ctx, s.DBURL)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", config.RedactURL(s.DBURL), err)
	}
	err = engine.New(db, engine.DefaultConfig()).AssignRoles(ctx, tari.NewAddress(tari.Mainnet, admin.PublicKey()), []core.Role{core.RoleSuperAdmin}, nil)
	db.Close()
	if err != nil {
		return nil, err
	}
	jwt := tari.GenerateSecretKey()
	pay := tari.GenerateSecretKey()
	secret := "bench-hmac-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	env := map[string]string{
		"TPG_HOST": "127.0.0.1", "TPG_DATABASE_URL": s.DBURL,
		"TPG_JWT_SIGNING_KEY": jwt.Hex(), "TPG_JWT_VERIFICATION_KEY": jwt.PublicKey().Hex(),
		"TPG_PAYMENT_WALLET_ADDRESS": tari.NewAddress(tari.Mainnet, pay.PublicKey()).Base58(),
		"TPG_SHOPIFY_HMAC_SECRET":    secret,
		"TPG_PLUGINS_DIR":            filepath.Join(opt.Dir, "plugins"),
		"TPG_PLUGIN_CACHE_DIR":       pluginCache(opt.Dir),
		"TPG_LOG_LEVEL":              "warn",
	}
	// The API asks Shopify for the shop currency and products when a rate is set.
	hooks, stopHooks, err := fakeReceivers(s.Hooks)
	if err != nil {
		return nil, err
	}
	s.stopFns = append(s.stopFns, stopHooks)
	env["TPG_SHOPIFY_API_URL"] = hooks + "/admin/api/2026-10"
	env["TPG_SHOPIFY_SHOP"] = "bench.myshopify.com"
	env["TPG_SHOPIFY_ADMIN_ACCESS_TOKEN"] = "shpat_bench"
	if !opt.NoPlugins {
		env["TPG_PLUGIN_WEBHOOK_URLS"] = hooks + "/hook"
	} else {
		env["TPG_PLUGINS_DISABLE"] = "shopify,webhook"
	}
	for k, v := range opt.Env {
		env[k] = v
	}
	for i := 0; i < opt.Instances; i++ {
		// One at a time: the first applies the migrations.
		u, err := s.start(ctx, bin, opt, env, i)
		if err != nil {
			return nil, err
		}
		s.Target.URLs = append(s.Target.URLs, u)
	}
	s.Target.HMACSecret = secret
	s.Target.Admin = admin
	return s, nil
}

// pluginCache keeps compiled plugins across runs when the user has a cache
// directory, so a spawn does not rebuild the default plugins every time.
func pluginCache(dir string) string {
	if c, err := os.UserCacheDir(); err == nil {
		return filepath.Join(c, "tps-bench", "plugin-cache")
	}
	return filepath.Join(dir, "plugin-cache")
}

func (s *Spawned) start(ctx context.Context, bin string, opt SpawnOptions, env map[string]string, i int) (string, error) {
	logPath := filepath.Join(opt.Dir, fmt.Sprintf("server-%d.log", i+1))
	logf, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(bin)
	cmd.Dir = opt.Root // the default plugins are built from the checkout
	if cmd.Dir == "" {
		cmd.Dir = opt.Dir
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TPG_") { // the user's settings must not leak in
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout = logf
	cmd.Stderr = logf
	port, err := freePort()
	if err != nil {
		logf.Close()
		return "", err
	}
	cmd.Env = append(cmd.Env, "TPG_PORT="+strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		logf.Close()
		return "", err
	}
	s.Procs = append(s.Procs, cmd)
	s.Logs = append(s.Logs, logPath)
	exited := make(chan struct{})
	s.stopFns = append(s.stopFns, func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(40 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		logf.Close()
	})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	hc := http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(4 * time.Minute) // a cold build of the default plugins takes a while
	for {
		if resp, err := hc.Get(base + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, nil
			}
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			return "", fmt.Errorf("server %d exited at startup:\n%s", i+1, tail(b, 2000))
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			return "", fmt.Errorf("server %d did not start within 4 minutes:\n%s", i+1, tail(b, 2000))
		}
	}
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// freshDatabase creates a database on the PostgreSQL server at base and
// returns its URL; Stop drops it. A database of its own (not a schema in a
// shared one) also keeps the server's advisory locks, which are per
// database, apart from other users of that database.
func freshDatabase(base string, s *Spawned) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	if h := u.Hostname(); h != "localhost" && (net.ParseIP(h) == nil || !net.ParseIP(h).IsLoopback()) {
		return "", fmt.Errorf("PostgreSQL at %s is not on loopback", h)
	}
	name := fmt.Sprintf("tps_bench_%d_%d", time.Now().Unix(), os.Getpid())
	admin, err := store.Connect(base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	s.stopFns = append(s.stopFns, func() {
		if a, err := store.Connect(base); err == nil {
			_, _ = a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			a.Close()
		}
	})
	u.Path = "/" + name
	return u.String(), nil
}

// fakeReceivers serves a shop with no products and the GraphQL calls of the
// shopify plugin (orders pending; marking paid and cancelling succeed) and
// the webhook plugin's POSTs, counting them.
func fakeReceivers(n *atomic.Int64) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/graphql.json"):
			var q struct {
				Query string `json:"query"`
			}
			_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&q)
			empty := `{"pageInfo":{"hasNextPage":false,"endCursor":null},"nodes":[]}`
			switch {
			case strings.Contains(q.Query, "shop {"):
				_, _ = io.WriteString(w, `{"data":{"shop":{"currencyCode":"USD"}}}`)
			case strings.Contains(q.Query, "productVariants("):
				_, _ = io.WriteString(w, `{"data":{"productVariants":`+empty+`}}`)
			case strings.Contains(q.Query, "orders("):
				_, _ = io.WriteString(w, `{"data":{"orders":`+empty+`}}`)
			case strings.Contains(q.Query, "orderMarkAsPaid("):
				_, _ = io.WriteString(w, `{"data":{"orderMarkAsPaid":{"order":{"id":"gid://shopify/Order/1","displayFinancialStatus":"PAID"},"userErrors":[]}}}`)
			case strings.Contains(q.Query, "orderCancel("):
				_, _ = io.WriteString(w, `{"data":{"orderCancel":{"job":{"id":"gid://shopify/Job/1","done":false},"orderCancelUserErrors":[]}}}`)
			case strings.Contains(q.Query, "order("):
				_, _ = io.WriteString(w, `{"data":{"order":{"id":"gid://shopify/Order/1","cancelledAt":null,"displayFinancialStatus":"PENDING","canMarkAsPaid":true,"transactions":[]}}}`)
			default:
				_, _ = io.WriteString(w, `{"errors":[{"message":"not faked"}]}`)
			}
		default:
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
			_, _ = io.WriteString(w, `{}`)
		}
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// Stop ends the servers (SIGTERM, then SIGKILL after 40 s), the receivers,
// and drops a PostgreSQL database, in reverse order of creation.
func (s *Spawned) Stop() {
	for i := len(s.stopFns) - 1; i >= 0; i-- {
		s.stopFns[i]()
	}
	s.stopFns = nil
}

// RSS is a process's resident set size in bytes, from /proc/<pid>/status.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, err := strconv.ParseInt(f[1], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, errors.New("no VmRSS")
}
