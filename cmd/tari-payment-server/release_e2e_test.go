package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/api/shopify/shopifytest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/tari"
	"github.com/tari-payment/tps/internal/wasmbuild"
)

// orderReachedShopify reports whether the fake Shopify recorded order id as
// marked paid (GraphQL orderMarkAsPaid).
func orderReachedShopify(shop *shopifytest.Fake, id int64) bool {
	o, ok := shop.Order(id)
	return ok && o.MarkedPaid >= 1
}

// TestReleaseBinaryRunsShippedPlugins is the merchant's deployment: a static
// -trimpath build copied alone to an empty folder and started there with no
// Go toolchain on PATH, Shopify and the webhook configured against servers on
// loopback. An order paid through the wallet reaches Shopify and every event
// reaches the webhook receiver: the shipped plugins are inside the binary.
func TestReleaseBinaryRunsShippedPlugins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go toolchain to build the release with")
	}
	root := wasmbuild.RepoRoot()
	if root == "" {
		t.Skip("not run from a checkout")
	}
	buildDir := t.TempDir()
	bin := filepath.Join(buildDir, "tari-payment-server")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", bin, "./cmd/tari-payment-server")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("release build: %v\n%s", err, out)
	}

	// An empty folder holding only the binary; PATH names an empty folder.
	deploy := t.TempDir()
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(deploy, "tari-payment-server"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	emptyPath := t.TempDir()

	// A Dev Dashboard app: client id and secret only, tokens from the OAuth
	// client-credentials grant.
	shop := shopifytest.New("release-client-id", secret)
	defer shop.Close()
	shop.AddOrder(shopifytest.Order{ID: 2001, Total: "7.25", Currency: "XTR"})
	hook := &webhookReceiver{seen: map[string]string{}}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()

	s := &server{t: t, admin: apitest.NewWallet(), hot: apitest.NewWallet(), pay: apitest.NewWallet(), out: &lockedBuf{}}
	dbURL := "sqlite://" + filepath.Join(deploy, "data", "tari_store.db")
	if err := os.MkdirAll(filepath.Join(deploy, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	// The first super admin, as `taritools setup add-user` writes it.
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.New(db, engine.DefaultConfig()).AssignRoles(context.Background(), s.admin.Addr, []core.Role{core.RoleSuperAdmin}, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	key := tari.GenerateSecretKey()
	cmd := exec.Command(filepath.Join(deploy, "tari-payment-server"))
	cmd.Dir = deploy
	cmd.Env = []string{ // nothing from this machine's environment: no GOROOT, no GOPATH, no go on PATH
		"PATH=" + emptyPath, "HOME=" + deploy,
		"TPG_HOST=127.0.0.1", fmt.Sprintf("TPG_PORT=%d", port), "TPG_DATABASE_URL=" + dbURL,
		"TPG_JWT_SIGNING_KEY=" + key.Hex(), "TPG_JWT_VERIFICATION_KEY=" + key.PublicKey().Hex(),
		"TPG_PAYMENT_WALLET_ADDRESS=" + s.pay.Addr.Base58(),
		"TPG_SHOPIFY_API_URL=" + shop.APIURL(), "TPG_SHOPIFY_CLIENT_ID=" + shop.ClientID, "TPG_SHOPIFY_CLIENT_SECRET=" + secret,
		"TPG_PLUGIN_WEBHOOK_URLS=" + hookSrv.URL + "/events", "TPG_PLUGIN_WEBHOOK_SECRET=whsec",
	}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	s.c = apitest.New(t, fmt.Sprintf("http://127.0.0.1:%d", port))
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(s.out.String(), "listening") {
		select {
		case <-exited:
			t.Fatalf("the release binary exited:\n%s", s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the release binary did not start:\n%s", s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out := s.out.String(); !strings.Contains(out, "active=\"[shopify webhook]\"") && !strings.Contains(out, "active=[shopify webhook]") {
		t.Fatalf("both shipped plugins should be active:\n%s", out)
	}
	s.tok = s.c.Login(s.admin, "super_admin")
	if r := s.adm("POST", "/api/wallets", map[string]any{"address": s.hot.Addr.Base58(), "ip_address": "127.0.0.1"}); r.Status != 200 {
		t.Fatalf("register wallet: %d %s", r.Status, r.Body)
	}

	cust := apitest.NewWallet()
	memo := tari.SignMemo(cust.Key, cust.Addr, "2001")
	note, _ := json.Marshal(memo)
	s.order("2001", "c1", "7.25", apitest.Str(string(note)))
	s.payIn(cust.Addr, 7_250_000, "tx-2001", nil, nil)
	s.confirm("tx-2001")
	if st := s.status("2001"); st != core.OrderPaid {
		t.Fatalf("order 2001: %s", st)
	}
	waitUntil(t, "the paid order to reach Shopify", 90*time.Second, func() bool { return orderReachedShopify(shop, 2001) })
	waitUntil(t, "events to reach the webhook receiver", 90*time.Second, func() bool { return hook.count() >= 3 })
	hook.mu.Lock()
	defer hook.mu.Unlock()
	types := map[string]bool{}
	for _, typ := range hook.seen {
		types[typ] = true
	}
	if hook.badSig != 0 || !types[string(core.EventOrderPaid)] {
		t.Fatalf("webhook receiver: %d bad signatures, types %v", hook.badSig, types)
	}
}
