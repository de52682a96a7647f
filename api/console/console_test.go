package console_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tari-payment/tps/api"
	"github.com/tari-payment/tps/client"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/config"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
	"github.com/tari-payment/tps/test/browser"
)

// flakySubscriber fails the first delivery of every event permanently (it is
// parked at once) and accepts every later one: what a plugin whose mail
// server was down looks like to the outbox.
type flakySubscriber struct {
	mu        sync.Mutex
	seen      map[string]bool
	delivered map[string]bool
}

func (f *flakySubscriber) ID() string                   { return "mailer" }
func (f *flakySubscriber) EventTypes() []core.EventType { return []core.EventType{core.EventNewOrder} }
func (f *flakySubscriber) Deliver(_ context.Context, ev core.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.seen[ev.ID] {
		f.seen[ev.ID] = true
		return outbox.Permanent(errors.New("smtp: connection refused"))
	}
	f.delivered[ev.ID] = true
	return nil
}

func (f *flakySubscriber) deliveredCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.delivered)
}

// outboxAdmin serves the console's plugin page from the real outbox, as the
// plugin manager does for its plugins.
type outboxAdmin struct{ d *outbox.Dispatcher }

func (a outboxAdmin) Plugins(ctx context.Context) (any, error) {
	subs, err := a.d.Subscribers(ctx)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, s := range subs {
		state := "running"
		if s.Disabled {
			state = "disabled"
		}
		out = append(out, map[string]any{"id": s.ID, "state": state, "events": s.EventTypes, "pending": s.Pending,
			"failed": s.Failed, "attempts": s.Attempts, "last_error": s.LastError})
	}
	return out, nil
}

func (a outboxAdmin) FailedDeliveries(ctx context.Context) (any, error) {
	fs, err := a.d.Failed(ctx, "")
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, f := range fs {
		out = append(out, map[string]any{"id": f.ID, "plugin_id": f.SubscriberID, "event_id": f.EventID, "event_type": f.EventType,
			"event_seq": f.EventSeq, "attempts": f.Attempts, "last_error": f.LastError, "state": f.State, "failed_at": f.FailedAt})
	}
	return out, nil
}

func (a outboxAdmin) Redeliver(ctx context.Context, id int64) error { return a.d.Redeliver(ctx, id) }
func (a outboxAdmin) RedeliverAll(ctx context.Context) (int, error) { return a.d.RedeliverAll(ctx, "") }

func (a outboxAdmin) EnablePlugin(ctx context.Context, id string) (any, error) {
	return nil, a.d.SetDisabled(ctx, id, false, "")
}

type env struct {
	t     *testing.T
	eng   *engine.Engine
	disp  *outbox.Dispatcher
	sub   *flakySubscriber
	url   string
	admin apitest
}

type apitest struct {
	key  tari.SecretKey
	addr tari.Address
}

func newWallet() apitest {
	k := tari.GenerateSecretKey()
	return apitest{k, tari.NewAddress(tari.Mainnet, k.PublicKey())}
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	e := &env{t: t, sub: &flakySubscriber{seen: map[string]bool{}, delivered: map[string]bool{}}, admin: newWallet()}
	e.disp = outbox.New(db, outbox.Options{PollInterval: 100 * time.Millisecond})
	ecfg := engine.DefaultConfig()
	ecfg.AfterCommit = e.disp.Notify
	e.eng = engine.New(db, ecfg)
	ctx := context.Background()
	if err := e.disp.Register(ctx, e.sub); err != nil {
		t.Fatal(err)
	}
	e.disp.Start()
	t.Cleanup(e.disp.Close)
	e.url = e.newServer()
	if err := e.eng.AssignRoles(ctx, e.admin.addr, []core.Role{core.RoleReadAll, core.RoleWrite}, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

// newServer starts another instance of the server on the same database (its
// own engine, as a second process would have) and returns its URL.
func (e *env) newServer() string {
	e.t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		e.t.Fatal(err)
	}
	eng := engine.New(e.eng.DB(), e.eng.Config())
	srv := api.New(api.Options{Config: cfg, Engine: eng, ServerKey: tari.GenerateSecretKey(), Plugins: outboxAdmin{e.disp},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AccessLog: io.Discard})
	ts := httptest.NewServer(srv.Handler())
	e.t.Cleanup(ts.Close)
	return ts.URL
}

// link is what `taritools console` prints for a profile with these roles.
func (e *env) link(w apitest, roles ...string) string {
	e.t.Helper()
	c := client.New(e.url, w.key, w.addr, roles)
	u, err := c.ConsoleLoginURL()
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) order(id, customer string, price core.MicroTari) {
	e.t.Helper()
	alt := "#" + id
	if _, err := e.eng.NewOrder(context.Background(), engine.NewOrder{OrderID: id, AltID: &alt, CustomerID: customer,
		TotalPrice: price, Currency: "XTR", CreatedAt: time.Now().UTC()}); err != nil {
		e.t.Fatal(err)
	}
}

// waitFor polls cond (bounded), for state that changes in the background.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) failures() []outbox.FailedDelivery {
	fs, err := e.disp.Failed(context.Background(), "")
	if err != nil {
		e.t.Fatal(err)
	}
	return fs
}

func (e *env) orderStatus(id string) core.OrderStatus {
	o, err := e.eng.OrderByID(context.Background(), id)
	if err != nil || o == nil {
		e.t.Fatalf("order %s: %v", id, err)
	}
	return o.Status
}

// The merchant's path through the console in a real browser: sign in with
// the taritools link, search, open an order, cancel it (reason and
// confirmation), redeliver a failed plugin delivery, sign out. Any console
// error or CSP violation fails the test.
func TestConsoleInBrowser(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.order("1001", "alice", core.Tari(12))
		e.order("1002", "bob", core.Tari(5))
		waitFor(t, "two parked deliveries", func() bool { return len(e.failures()) == 2 })

		b := browser.Open(t, 1280, 900)
		var text string
		b.Run(30*time.Second,
			chromedp.Navigate(e.link(e.admin, "user", "read_all", "write")),
			chromedp.Text("#signin-address", &text, chromedp.ByQuery),
		)
		if text != e.admin.addr.Base58() {
			t.Fatalf("sign-in page shows %q", text)
		}
		b.Run(30*time.Second, chromedp.Click("#signin", chromedp.ByQuery), chromedp.WaitVisible("svg.chart", chromedp.ByQuery),
			chromedp.Text("h1", &text, chromedp.ByQuery))
		if text != "Overview" {
			t.Fatalf("after sign-in: %q", text)
		}
		b.Screenshot("overview")

		// Search by alt id.
		b.Run(30*time.Second, chromedp.Navigate(e.url+"/console/orders"),
			chromedp.SendKeys("#q-id", "#1002", chromedp.ByQuery),
			chromedp.Click("#search", chromedp.ByQuery),
			chromedp.WaitVisible(`#q-id[value="#1002"]`, chromedp.ByQuery), // the results page
			chromedp.Text("table.orders tbody", &text, chromedp.ByQuery))
		if strings.Contains(text, "1001") || !strings.Contains(text, "bob") {
			t.Fatalf("search for #1002 found %q", text)
		}

		// The order's page, then cancel with a reason and a confirmation.
		b.Run(30*time.Second, chromedp.Click(`table.orders a[href="/console/orders/1002"]`, chromedp.ByQuery),
			chromedp.WaitVisible("#order-status", chromedp.ByQuery), chromedp.Text("#order-status", &text, chromedp.ByQuery))
		if text != "Unclaimed" {
			t.Fatalf("order status shown %q", text)
		}
		b.Run(30*time.Second, chromedp.Text("#history", &text, chromedp.ByQuery))
		if !strings.Contains(text, "status=Unclaimed") {
			t.Fatalf("history: %q", text)
		}
		b.Screenshot("order")
		b.Run(30*time.Second,
			chromedp.SendKeys(`#cancel-form input[name="reason"]`, "customer asked", chromedp.ByQuery),
			chromedp.Submit(`#cancel-form`, chromedp.ByQuery),
			chromedp.WaitVisible("#confirm", chromedp.ByQuery),
			chromedp.Text("#confirm-what", &text, chromedp.ByQuery))
		if !strings.Contains(text, "Cancel order 1002") || !strings.Contains(text, "customer asked") {
			t.Fatalf("confirmation says %q", text)
		}
		if s := e.orderStatus("1002"); s != core.OrderUnclaimed {
			t.Fatalf("order changed before confirmation: %s", s)
		}
		b.Run(30*time.Second, chromedp.Click("#confirm", chromedp.ByQuery), chromedp.WaitVisible("#message", chromedp.ByQuery))
		if s := e.orderStatus("1002"); s != core.OrderCancelled {
			t.Fatalf("order status after cancel: %s", s)
		}
		b.Run(30*time.Second, chromedp.Click("#back", chromedp.ByQuery), chromedp.WaitVisible("#order-status", chromedp.ByQuery),
			chromedp.Text("#order-status", &text, chromedp.ByQuery))
		if text != "Cancelled" {
			t.Fatalf("order page after cancel shows %q", text)
		}

		// Redeliver one failed delivery.
		first := e.failures()[0]
		b.Run(30*time.Second, chromedp.Navigate(e.url+"/console/plugins"),
			chromedp.WaitVisible("#failures", chromedp.ByQuery), chromedp.Text("#failures", &text, chromedp.ByQuery))
		if !strings.Contains(text, "smtp: connection refused") {
			t.Fatalf("failures table: %q", text)
		}
		b.Screenshot("plugins")
		b.Run(30*time.Second, chromedp.Click(fmt.Sprintf("#failure-%d button.redeliver", first.ID), chromedp.ByQuery),
			chromedp.WaitVisible("p.flash.ok", chromedp.ByQuery), chromedp.Text("p.flash.ok", &text, chromedp.ByQuery))
		if !strings.Contains(text, "queued for redelivery") {
			t.Fatalf("after redeliver: %q", text)
		}
		waitFor(t, "the redelivery", func() bool { return e.sub.deliveredCount() == 1 && len(e.failures()) == 1 })

		// Sign out: the session is gone from the database.
		b.Run(30*time.Second, chromedp.Click("#logout", chromedp.ByQuery), chromedp.WaitVisible("#signedout", chromedp.ByQuery))
		b.RequireNoProblems()
		var n int
		if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM console_sessions").Scan(&n); err != nil || n != 0 {
			t.Fatalf("sessions after logout: %d (%v)", n, err)
		}
	})
}

// The console on a phone-sized screen renders without problems.
func TestConsoleOnPhone(t *testing.T) {
	db := storetest.SQLite(t)
	e := newEnv(t, db)
	e.order("2001", "carol", core.Tari(3))
	b := browser.Open(t, 390, 844)
	var h1 string
	b.Run(30*time.Second, chromedp.Navigate(e.link(e.admin, "user", "read_all", "write")), chromedp.Click("#signin", chromedp.ByQuery),
		chromedp.WaitVisible("svg.chart", chromedp.ByQuery), chromedp.Navigate(e.url+"/console/orders/2001"),
		chromedp.WaitVisible("#order-status", chromedp.ByQuery), chromedp.Text("h1", &h1, chromedp.ByQuery))
	if h1 != "Order 2001" {
		t.Fatalf("h1 = %q", h1)
	}
	var scrollW, clientW int
	b.Run(10*time.Second, chromedp.Evaluate(`document.documentElement.scrollWidth`, &scrollW), chromedp.Evaluate(`document.documentElement.clientWidth`, &clientW))
	if scrollW > clientW+1 {
		t.Fatalf("page is wider than the phone: %d > %d", scrollW, clientW)
	}
	b.Screenshot("order-phone")
	b.RequireNoProblems()
}

// httpSession signs in over plain HTTP (the same link and form as the
// browser) and returns a client holding the session cookie.
func (e *env) httpSession(w apitest, roles ...string) (*http.Client, *http.Response) {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(e.link(w, roles...))
	if err != nil {
		e.t.Fatal(err)
	}
	body := readBody(e.t, resp)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("login page: %d %s", resp.StatusCode, body)
	}
	form := url.Values{"token": {field(e.t, body, "token")}, "csrf": {field(e.t, body, "csrf")}}
	resp, err = c.PostForm(e.url+"/console/login", form)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, resp
}

func readBody(t *testing.T, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func field(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s field in %s", name, body)
	}
	return m[1]
}

// Refusals: a form without its CSRF token, a plain user, a revoked role, a
// reused link, and the security headers on every page.
func TestConsoleRefuses(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.order("3001", "dave", core.Tari(7))
		c, resp := e.httpSession(e.admin, "user", "read_all", "write")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>Overview</h1>") {
			t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Fatalf("CSP = %q", csp)
		}
		u, _ := url.Parse(e.url + "/console")
		ck := c.Jar.Cookies(u)
		if len(ck) != 1 || ck[0].Name != "tps_console" {
			t.Fatalf("cookies %v", ck)
		}

		// No CSRF token: refused, nothing changed.
		post := func(path string, v url.Values) (int, string) {
			r, err := c.PostForm(e.url+path, v)
			if err != nil {
				t.Fatal(err)
			}
			return r.StatusCode, readBody(t, r)
		}
		st, body := post("/console/orders/3001/cancel", url.Values{"reason": {"x"}, "confirm": {"yes"}})
		if st != http.StatusForbidden || e.orderStatus("3001") != core.OrderUnclaimed {
			t.Fatalf("without CSRF: %d, order %s", st, e.orderStatus("3001"))
		}
		st, _ = post("/console/orders/3001/cancel", url.Values{"reason": {"x"}, "confirm": {"yes"}, "csrf": {"forged"}})
		if st != http.StatusForbidden || e.orderStatus("3001") != core.OrderUnclaimed {
			t.Fatalf("with a wrong CSRF token: %d", st)
		}
		// With it, but without confirming: a confirmation page, nothing changed.
		r, _ := c.Get(e.url + "/console/orders/3001")
		csrf := field(t, readBody(t, r), "csrf")
		st, body = post("/console/orders/3001/cancel", url.Values{"reason": {"x"}, "csrf": {csrf}})
		if st != http.StatusOK || !strings.Contains(body, `id="confirm"`) || e.orderStatus("3001") != core.OrderUnclaimed {
			t.Fatalf("unconfirmed: %d %s", st, e.orderStatus("3001"))
		}
		// The admin lacks super_admin: the roles page is refused.
		r, _ = c.Get(e.url + "/console/roles")
		if readBody(t, r); r.StatusCode != http.StatusForbidden {
			t.Fatalf("roles page without super_admin: %d", r.StatusCode)
		}

		// A plain user cannot open a session.
		plain := newWallet()
		_, resp = e.httpSession(plain, "user")
		if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "no console roles") {
			t.Fatalf("plain user sign-in: %d %s", resp.StatusCode, body)
		}

		// A session whose address loses its roles is refused on its next request.
		ctx := context.Background()
		if err := e.eng.AssignRoles(ctx, e.admin.addr, nil, []core.Role{core.RoleReadAll, core.RoleWrite}); err != nil {
			t.Fatal(err)
		}
		r, _ = c.Get(e.url + "/console/orders")
		if readBody(t, r); r.StatusCode != http.StatusForbidden {
			t.Fatalf("revoked session: %d", r.StatusCode)
		}
		st, _ = post("/console/orders/3001/cancel", url.Values{"reason": {"x"}, "csrf": {csrf}, "confirm": {"yes"}})
		if st != http.StatusForbidden || e.orderStatus("3001") != core.OrderUnclaimed {
			t.Fatalf("revoked session action: %d", st)
		}

		// A link works once.
		w := newWallet()
		if err := e.eng.AssignRoles(ctx, w.addr, []core.Role{core.RoleReadAll}, nil); err != nil {
			t.Fatal(err)
		}
		link := e.link(w, "user")
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		for i, want := range []int{http.StatusOK, http.StatusForbidden} {
			r, err := hc.Get(link)
			if err != nil {
				t.Fatal(err)
			}
			page := readBody(t, r)
			r, err = hc.PostForm(e.url+"/console/login", url.Values{"token": {field(t, page, "token")}, "csrf": {field(t, page, "csrf")}})
			if err != nil {
				t.Fatal(err)
			}
			if body := readBody(t, r); r.StatusCode != want {
				t.Fatalf("use %d of a link: %d %s", i+1, r.StatusCode, body)
			}
		}
		// Without a session: the sign-in help, 401.
		r, _ = http.Get(e.url + "/console/orders")
		if body := readBody(t, r); r.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "taritools console") {
			t.Fatalf("no session: %d", r.StatusCode)
		}
	})
}

// admin is a signed-in HTTP session with its CSRF token.
type admin struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) superAdmin() *admin {
	e.t.Helper()
	w := newWallet()
	if err := e.eng.AssignRoles(context.Background(), w.addr, []core.Role{core.RoleSuperAdmin}, nil); err != nil {
		e.t.Fatal(err)
	}
	c, resp := e.httpSession(w, "user", "super_admin")
	body := readBody(e.t, resp)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	return &admin{e: e, c: c, csrf: field(e.t, body, "csrf")}
}

func (a *admin) get(path string, want int) string {
	a.e.t.Helper()
	r, err := a.c.Get(a.e.url + path)
	if err != nil {
		a.e.t.Fatal(err)
	}
	body := readBody(a.e.t, r)
	if r.StatusCode != want {
		a.e.t.Fatalf("GET %s: %d, want %d: %s", path, r.StatusCode, want, body)
	}
	return body
}

// act posts a form with the CSRF token and the confirmation and expects want.
func (a *admin) act(path string, want int, kv ...string) string {
	a.e.t.Helper()
	v := url.Values{"csrf": {a.csrf}, "confirm": {"yes"}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	r, err := a.c.PostForm(a.e.url+path, v)
	if err != nil {
		a.e.t.Fatal(err)
	}
	body := readBody(a.e.t, r)
	if r.StatusCode != want {
		a.e.t.Fatalf("POST %s: %d, want %d: %s", path, r.StatusCode, want, body)
	}
	return body
}

// Every taritools admin operation (but key management) through the console,
// checked in the database: the mapping in docs/operations.md.
func TestConsoleAdminActions(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		a := e.superAdmin()
		payer := newWallet()
		e.order("4001", "erin", core.Tari(10))
		e.order("4002", "erin", core.Tari(4))
		e.order("4003", "frank", core.Tari(6))
		memo := "for 4001"
		orderID := "4001"
		if _, err := e.eng.ReceivePayment(ctx, engine.IncomingPayment{Sender: payer.addr, Amount: core.Tari(3), TxID: "tx-1", Memo: &memo, OrderID: &orderID}); err != nil {
			t.Fatal(err)
		}

		// Reads: every page renders.
		for _, p := range []string{"/console/", "/console/orders?status=Unclaimed&from=2000-01-01&to=2999-12-31", "/console/orders/4001",
			"/console/orders?address=" + url.QueryEscape(payer.addr.Base58()), "/console/payments", "/console/payments?status=received",
			"/console/payments?type=manual", "/console/customers", "/console/customers/erin", "/console/addresses/" + payer.addr.Base58(),
			"/console/rates", "/console/wallets", "/console/roles", "/console/roles?address=" + payer.addr.Base58(), "/console/plugins", "/console/export"} {
			a.get(p, http.StatusOK)
		}
		if body := a.get("/console/", http.StatusOK); !strings.Contains(body, "tx-1") && !strings.Contains(body, "3.000000 T") {
			t.Fatalf("overview does not list the payment awaiting confirmation: %s", body)
		}
		a.get("/console/orders?from=yesterday", http.StatusBadRequest)
		if body := a.get("/console/payments/tx-1", http.StatusOK); !strings.Contains(body, `id="payment-status">received<`) || !strings.Contains(body, "insert") {
			t.Fatalf("payment page: %s", body)
		}
		a.get("/console/payments/nope", http.StatusNotFound)

		// Ids with "/", "#" and spaces stay one path segment in links and forms.
		odd := "A/7#1 x"
		e.order(odd, "g/h i", core.Tari(1))
		page := a.get("/console/orders/"+url.PathEscape(odd), http.StatusOK)
		if !strings.Contains(page, `action="/console/orders/A%2F7%231%20x/cancel"`) || !strings.Contains(page, `href="/console/customers/g%2Fh%20i"`) {
			t.Fatalf("escaped links missing: %s", page)
		}
		a.get("/console/customers/"+url.PathEscape("g/h i"), http.StatusOK)
		a.act("/console/orders/"+url.PathEscape(odd)+"/cancel", http.StatusOK, "reason", "test")
		if s := e.orderStatus(odd); s != core.OrderCancelled {
			t.Fatalf("odd id cancel: %s", s)
		}
		a.get("/console/orders/nope", http.StatusNotFound)

		// Orders: price, memo, reassign, fulfil, cancel, reset.
		a.act("/console/orders/4001/price", http.StatusOK, "price", "4.5 T", "reason", "discount")
		if o, _ := e.eng.OrderByID(ctx, "4001"); o.TotalPrice != 4_500_000 {
			t.Fatalf("price: %d", o.TotalPrice)
		}
		a.act("/console/orders/4001/memo", http.StatusOK, "memo", "gift wrap", "reason", "asked")
		if o, _ := e.eng.OrderByID(ctx, "4001"); deref(o.Memo) != "gift wrap" {
			t.Fatalf("memo: %v", o.Memo)
		}
		a.act("/console/orders/4003/reassign", http.StatusOK, "customer_id", "erin", "reason", "same person")
		if o, _ := e.eng.OrderByID(ctx, "4003"); o.CustomerID != "erin" {
			t.Fatalf("reassign: %s", o.CustomerID)
		}
		a.act("/console/orders/4003/fulfil", http.StatusOK, "reason", "paid in cash")
		if s := e.orderStatus("4003"); s != core.OrderPaid {
			t.Fatalf("fulfil: %s", s)
		}
		a.act("/console/orders/4002/cancel", http.StatusOK, "reason", "out of stock")
		a.act("/console/orders/4002/reset", http.StatusOK, "reason", "back in stock")
		if s := e.orderStatus("4002"); s == core.OrderCancelled {
			t.Fatalf("reset: %s", s)
		}
		a.act("/console/orders/4002/fulfil", http.StatusBadRequest, "reason", "")
		a.act("/console/orders/4001/price", http.StatusBadRequest, "price", "-1", "reason", "x")
		a.act("/console/orders/4003/cancel", http.StatusUnprocessableEntity, "reason", "paid orders stay paid")
		a.act("/console/orders/4003/explode", http.StatusNotFound, "reason", "x")

		// Credit note, then settle the customer and the address.
		a.act("/console/credit", http.StatusOK, "customer_id", "frank", "amount", "2 T", "reason", "goodwill")
		ps, err := e.eng.SearchPayments(ctx, engine.PaymentQuery{Type: ptr(core.PaymentManual)})
		if err != nil || len(ps) == 0 {
			t.Fatalf("credit notes: %v %v", ps, err)
		}
		if body := a.get("/console/payments?type=manual", http.StatusOK); !strings.Contains(body, "2.000000 T") {
			t.Fatal("credit note not listed")
		}
		a.act("/console/customers/erin/settle", http.StatusOK)
		a.act("/console/addresses/"+payer.addr.Base58()+"/settle", http.StatusOK)

		// Rates.
		a.act("/console/rates", http.StatusOK, "currency", "usd", "rate", "250000")
		if r, err := e.eng.ExchangeRate(ctx, "USD"); err != nil || r.Rate != 250_000 {
			t.Fatalf("rate: %v %v", r, err)
		}
		if body := a.get("/console/rates", http.StatusOK); !strings.Contains(body, "USD") {
			t.Fatal("rate not listed")
		}
		a.act("/console/rates", http.StatusBadRequest, "currency", "U$", "rate", "1")

		// Hot wallets.
		hot := newWallet()
		a.act("/console/wallets", http.StatusOK, "address", hot.addr.Base58(), "ip", "10.0.0.7", "nonce", "5")
		a.act("/console/wallets", http.StatusUnprocessableEntity, "address", hot.addr.Base58(), "ip", "10.0.0.7")
		if ws, _ := e.eng.Wallets(ctx); len(ws) != 1 || ws[0].IPAddress != "10.0.0.7" || ws[0].LastNonce != 5 {
			t.Fatalf("wallets: %v", ws)
		}
		a.act("/console/wallets/remove", http.StatusOK, "address", hot.addr.Base58())
		if ws, _ := e.eng.Wallets(ctx); len(ws) != 0 {
			t.Fatalf("wallets after remove: %v", ws)
		}

		// Roles.
		a.act("/console/roles", http.StatusOK, "address", payer.addr.Base58(), "role", "write", "op", "grant")
		if rs, _ := e.eng.RolesForAddress(ctx, payer.addr); !containsRole(rs, core.RoleWrite) {
			t.Fatalf("grant: %v", rs)
		}
		if body := a.get("/console/roles", http.StatusOK); !strings.Contains(body, payer.addr.Base58()) {
			t.Fatal("role holder not listed")
		}
		a.act("/console/roles", http.StatusOK, "address", payer.addr.Base58(), "role", "write", "op", "revoke")
		if rs, _ := e.eng.RolesForAddress(ctx, payer.addr); containsRole(rs, core.RoleWrite) {
			t.Fatalf("revoke: %v", rs)
		}
		a.act("/console/roles", http.StatusBadRequest, "address", payer.addr.Base58(), "role", "user", "op", "grant")

		// Sign an address out everywhere: its session is refused at once.
		other := newWallet()
		if err := e.eng.AssignRoles(ctx, other.addr, []core.Role{core.RoleReadAll}, nil); err != nil {
			t.Fatal(err)
		}
		oc, resp := e.httpSession(other, "user")
		if readBody(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("second admin sign-in: %d", resp.StatusCode)
		}
		if body := a.act("/console/roles/sessions", http.StatusOK, "address", other.addr.Base58()); !strings.Contains(body, "1 console session(s)") {
			t.Fatalf("end sessions: %s", body)
		}
		if r, err := oc.Get(e.url + "/console/"); err != nil || r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("ended session still works: %v %v", r, err)
		}

		// Plugins: redeliver all.
		// Every NewOrder event so far was parked once (the orders and the reset).
		var parked int
		waitFor(t, "parked deliveries", func() bool {
			var pending int64
			if subs, err := e.disp.Subscribers(ctx); err == nil && len(subs) == 1 {
				pending = subs[0].Pending
			}
			parked = len(e.failures())
			return parked >= 3 && pending == 0
		})
		if body := a.get("/console/plugins", http.StatusOK); strings.Count(body, "smtp: connection refused") < parked {
			t.Fatalf("plugins page does not list %d failures", parked)
		}
		a.act("/console/plugins/deliveries/redeliver", http.StatusOK)
		waitFor(t, "redeliveries", func() bool { return len(e.failures()) == 0 && e.sub.deliveredCount() == parked })
		a.act("/console/plugins/deliveries/999999/redeliver", http.StatusNotFound)

		// A plugin disabled for crashing is enabled again.
		if err := e.disp.SetDisabled(ctx, "mailer", true, "crashed 10 times"); err != nil {
			t.Fatal(err)
		}
		if body := a.get("/console/plugins", http.StatusOK); !strings.Contains(body, `action="/console/plugins/mailer/enable"`) || !strings.Contains(body, "disabled") {
			t.Fatalf("disabled plugin not offered for enabling: %s", body)
		}
		if body := a.act("/console/plugins/mailer/enable", http.StatusOK); !strings.Contains(body, "Plugin mailer enabled.") {
			t.Fatalf("enable: %s", body)
		}
		if st, err := e.disp.Subscriber(ctx, "mailer"); err != nil || st.Disabled {
			t.Fatalf("still disabled: %+v %v", st, err)
		}
		a.act("/console/plugins/Bad_ID/enable", http.StatusBadRequest)
		if body := a.get("/console/plugins?done=pwned&id=x", http.StatusOK); strings.Contains(body, "pwned") {
			t.Fatal("a crafted done message is shown")
		}

		// CSV exports.
		today := time.Now().UTC().Format("2006-01-02")
		csvOrders := a.get("/console/export/orders.csv?from="+today+"&to="+today, http.StatusOK)
		if lines := strings.Split(strings.TrimSpace(csvOrders), "\n"); len(lines) != 5 || !strings.HasPrefix(lines[0], "order_id,") {
			t.Fatalf("orders.csv: %q", csvOrders)
		}
		csvPays := a.get("/console/export/payments.csv?from="+today+"&to="+today, http.StatusOK)
		if !strings.Contains(csvPays, "tx-1,") || !strings.HasPrefix(csvPays, "txid,") {
			t.Fatalf("payments.csv: %q", csvPays)
		}
		if csv := a.get("/console/export/orders.csv?from=2000-01-01&to=2000-01-02", http.StatusOK); strings.Count(csv, "\n") != 1 {
			t.Fatalf("empty range: %q", csv)
		}
		a.get("/console/export/orders.csv?from="+today, http.StatusBadRequest)
	})
}

func ptr[T any](v T) *T { return &v }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func containsRole(rs []core.Role, r core.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// A session opened on one instance works on another and a sign-out on either
// ends it on both (sessions live in the database); lists are paginated.
func TestConsoleSessionsAcrossInstancesAndPaging(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for i := range 51 { // a page holds 50
			e.order(fmt.Sprintf("p%03d", i), "pat", core.Tari(1))
		}
		a := e.superAdmin() // signed in on the first instance
		other := e.newServer()
		get := func(base, path string) (int, string) {
			r, err := a.c.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			return r.StatusCode, readBody(t, r)
		}
		st, body := get(other, "/console/orders")
		if st != http.StatusOK || !strings.Contains(body, `id="next-page"`) || !strings.Contains(body, "p049") || strings.Contains(body, "p050") {
			t.Fatalf("first page on the other instance: %d", st)
		}
		st, body = get(other, "/console/orders?page=2")
		if st != http.StatusOK || !strings.Contains(body, "p050") || strings.Contains(body, "p049") || strings.Contains(body, `id="next-page"`) {
			t.Fatalf("second page: %d", st)
		}
		u, _ := url.Parse(e.url + "/console")
		stolen := a.c.Jar.Cookies(u)[0]
		r, err := a.c.PostForm(other+"/console/logout", url.Values{"csrf": {a.csrf}})
		if err != nil {
			t.Fatal(err)
		}
		if readBody(t, r); r.StatusCode != http.StatusOK {
			t.Fatalf("logout on the other instance: %d", r.StatusCode)
		}
		// The browser forgets the cookie; a copy of it is refused too.
		req, _ := http.NewRequest(http.MethodGet, e.url+"/console/orders", nil)
		req.AddCookie(&http.Cookie{Name: stolen.Name, Value: stolen.Value})
		r, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if readBody(t, r); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the old cookie after logout, first instance: %d", r.StatusCode)
		}
	})
}

// Every page of a super_admin renders in Chromium without a console error or
// a CSP violation, on a desktop and a phone.
func TestConsoleEveryPageInBrowser(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		boss := newWallet()
		if err := e.eng.AssignRoles(ctx, boss.addr, []core.Role{core.RoleSuperAdmin}, nil); err != nil {
			t.Fatal(err)
		}
		e.order("5001", "gina", core.Tari(2))
		payer := newWallet()
		oid := "5001"
		if _, err := e.eng.ReceivePayment(ctx, engine.IncomingPayment{Sender: payer.addr, Amount: core.Tari(2), TxID: "tx-5", OrderID: &oid}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.eng.SetExchangeRate(ctx, "USD", 250_000); err != nil {
			t.Fatal(err)
		}
		pages := []string{"/console/", "/console/orders", "/console/orders/5001", "/console/payments", "/console/payments/tx-5",
			"/console/payments?type=manual", "/console/customers", "/console/customers/gina", "/console/addresses/" + payer.addr.Base58(),
			"/console/rates", "/console/wallets", "/console/roles", "/console/plugins", "/console/export"}
		for _, size := range [][2]int{{1280, 900}, {390, 844}} {
			b := browser.Open(t, size[0], size[1])
			b.Run(30*time.Second, chromedp.Navigate(e.link(boss, "user", "super_admin")), chromedp.Click("#signin", chromedp.ByQuery),
				chromedp.WaitVisible("svg.chart", chromedp.ByQuery))
			for _, p := range pages {
				var h1 string
				b.Run(30*time.Second, chromedp.Navigate(e.url+p), chromedp.WaitVisible("main h1", chromedp.ByQuery), chromedp.Text("main h1", &h1, chromedp.ByQuery))
				if h1 == "" || strings.Contains(h1, "wrong") || strings.Contains(h1, "Not allowed") {
					t.Fatalf("%s: h1 %q", p, h1)
				}
				var scrollW, clientW int
				b.Run(10*time.Second, chromedp.Evaluate(`document.documentElement.scrollWidth`, &scrollW),
					chromedp.Evaluate(`document.documentElement.clientWidth`, &clientW))
				if scrollW > clientW+1 {
					t.Fatalf("%s at %dx%d is wider than the screen: %d > %d", p, size[0], size[1], scrollW, clientW)
				}
			}
			b.RequireNoProblems()
		}
	})
}
