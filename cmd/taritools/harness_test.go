package main

// The test harness: the real taritools and tari-payment-server binaries,
// built once per test run, a server started per test on a loopback port with
// a fresh database, and helpers to run taritools as a user would.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
)

var (
	binDir    string
	ttBin     string
	serverBin string
	buildErr  error
	buildOnce sync.Once
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "taritools-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binaries builds taritools and the server once (without -race: they are
// exercised as black boxes).
func binaries(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() {
		ttBin = filepath.Join(binDir, "taritools")
		serverBin = filepath.Join(binDir, "tari-payment-server")
		for _, b := range []struct{ out, pkg string }{{ttBin, "."}, {serverBin, "../tari-payment-server"}} {
			cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// testServer is a running tari-payment-server. Tests seed it as a merchant
// would: orders through the Shopify webhook, the first super admin with
// `taritools setup add-user`.
type testServer struct {
	URL   string
	DBURL string
	Hot   tari.SecretKey // the authorised hot wallet's key (payment address)
}

type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func startServer(t *testing.T, dbURL string, extraEnv ...string) *testServer {
	t.Helper()
	binaries(t)
	jwt := tari.GenerateSecretKey()
	hot := tari.GenerateSecretKey()
	port := freePort(t)
	s := &testServer{URL: fmt.Sprintf("http://127.0.0.1:%d", port), DBURL: dbURL, Hot: hot}
	cmd := exec.Command(serverBin)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(),
		"TPG_DATABASE_URL="+dbURL,
		fmt.Sprintf("TPG_PORT=%d", port),
		"TPG_HOST=127.0.0.1",
		"TPG_JWT_SIGNING_KEY="+jwt.Hex(),
		"TPG_JWT_VERIFICATION_KEY="+jwt.PublicKey().Hex(),
		"TPG_PAYMENT_WALLET_ADDRESS="+tari.NewAddress(tari.Mainnet, hot.PublicKey()).Base58(),
		"TPG_SHOPIFY_HMAC_CHECKS=false",
		"TPG_PLUGINS_DIR="+filepath.Join(cmd.Dir, "plugins"),
		"TPG_EXPIRY_CHECK_INTERVAL=1h",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	logBuf := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logBuf, logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logBuf.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-done:
			t.Fatalf("server exited:\n%s", logBuf.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer /health:\n%s", logBuf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// forEachDB runs fn on SQLite and, when TPG_TEST_POSTGRES_URL is set, on a
// fresh PostgreSQL schema.
func forEachDB(t *testing.T, fn func(t *testing.T, dbURL string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, storetest.SQLiteURL(t)) })
	if os.Getenv(storetest.PostgresEnv) != "" {
		t.Run("postgres", func(t *testing.T) { fn(t, storetest.PostgresURL(t)) })
	}
}

// cli runs taritools with its own config file.
type cli struct {
	t      *testing.T
	config string
	env    []string
}

func newCLI(t *testing.T) *cli {
	binaries(t)
	return &cli{t: t, config: filepath.Join(t.TempDir(), "cfg", "profiles.json")}
}

func (c *cli) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(ttBin, args...)
	cmd.Env = append(os.Environ(), "TARITOOLS_CONFIG="+c.config, "TPG_SHOPIFY_ORDER_ID_FIELD=")
	cmd.Env = append(cmd.Env, c.env...)
	return cmd
}

// run returns stdout, stderr and the error of one invocation.
func (c *cli) run(args ...string) (string, string, error) {
	cmd := c.cmd(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// ok runs taritools and fails the test unless it succeeds.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errs, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("taritools %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errs)
	}
	return out
}

// fail runs taritools, expects a failure and returns stderr.
func (c *cli) fail(args ...string) string {
	c.t.Helper()
	out, errs, err := c.run(args...)
	if err == nil {
		c.t.Fatalf("taritools %s succeeded, want failure\nstdout:\n%s", strings.Join(args, " "), out)
	}
	return errs
}

// okJSON runs taritools with --json and decodes its output.
func (c *cli) okJSON(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "--json")...)
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		c.t.Fatalf("taritools %s --json: want one line of JSON, got:\n%s", strings.Join(args, " "), out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("taritools %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newOrder posts an orders/create webhook (HMAC checks are off in tests) for
// a numeric Shopify order id, customer id and a price in XTR such as "2.50".
func (s *testServer) newOrder(t *testing.T, id, customer int64, priceXTR string) {
	t.Helper()
	body := fmt.Sprintf(`{"id":%d,"name":"#%d","currency":"XTR","created_at":"2024-08-08T16:24:17Z","total_price":%q,
"subtotal_price":%q,"total_line_items_price":%q,"total_outstanding":%q,"note":null,"customer":{"id":%d}}`,
		id, id%100000, priceXTR, priceXTR, priceXTR, priceXTR, customer)
	resp, err := http.Post(s.URL+"/shopify/webhook/checkout_create", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Success bool   `json:"success"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 || !r.Success {
		t.Fatalf("webhook for order %d: %d %+v %v", id, resp.StatusCode, r, err)
	}
}

// grant bootstraps roles with `taritools setup add-user`, as a merchant
// does for the first super admin.
func (s *testServer) grant(t *testing.T, c *cli, address string, roles ...core.Role) {
	t.Helper()
	var names []string
	for _, r := range roles {
		names = append(names, string(r))
	}
	cmd := c.cmd("setup", "add-user", "--address", address, "--roles", strings.Join(names, ","))
	cmd.Env = append(cmd.Env, "TPG_DATABASE_URL="+s.DBURL)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("setup add-user: %v\n%s", err, out)
	}
}
