package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/client"
	"github.com/tari-payment/tps/internal/wasmbuild"
	"github.com/tari-payment/tps/test/browser"
)

var dashboardWasm struct {
	once sync.Once
	path string
	err  error
}

// dashboardPlugin builds examples/dashboard (once per test binary).
func dashboardPlugin(t *testing.T) string {
	t.Helper()
	dashboardWasm.once.Do(func() {
		root := wasmbuild.RepoRoot()
		dir, err := os.MkdirTemp("", "tps-dashboard-")
		if err != nil {
			dashboardWasm.err = err
			return
		}
		dashboardWasm.path = filepath.Join(dir, "dashboard.wasm")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		dashboardWasm.err = wasmbuild.Build(ctx, root, filepath.Join(root, "examples/dashboard"), dashboardWasm.path)
	})
	if dashboardWasm.err != nil {
		t.Fatal(dashboardWasm.err)
	}
	return dashboardWasm.path
}

// consolePagesDir holds the dashboard example with its own manifest, as a
// merchant installs it, and the pages test plugin with routes for the
// console's checks: /echo needs read_all (so the plugin is told the
// caller), /ok needs write, /state super_admin, /redirect is public,
// /echo-post is POST only.
func consolePagesDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	put := func(id, name string, data []byte) {
		if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, id, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	put("dashboard", "plugin.wasm", read(dashboardPlugin(t)))
	put("dashboard", "manifest.json", read(filepath.Join(wasmbuild.RepoRoot(), "examples/dashboard/manifest.json")))
	manifest, _ := json.Marshal(map[string]any{"id": "pages", "version": "1", "abi": 1, "events": []string{"*"},
		"routes": []map[string]any{
			{"path": "/echo", "roles": []string{"read_all"}},
			{"path": "/ok", "roles": []string{"write"}},
			{"path": "/redirect", "public": true},
			{"path": "/echo-post", "methods": []string{"POST"}, "public": true},
			{"path": "/state", "roles": []string{"super_admin"}},
		}})
	put("pages", "plugin.wasm", read(pagesPlugin(t)))
	put("pages", "manifest.json", manifest)
	return dir
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consoleSession signs w in to the console over plain HTTP, as a browser
// does with the link of `taritools console`, and returns a client holding
// the session cookie that follows no redirects.
func consoleSession(t *testing.T, base string, w apitest.Wallet, roles ...string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	link, err := client.New(base, w.Key, w.Addr, roles).ConsoleLoginURL()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("sign-in page: %d %s", resp.StatusCode, page)
	}
	tok, _ := url.Parse(link)
	resp, err = hc.PostForm(base+"/console/login", url.Values{"token": {tok.Query().Get("token")}, "csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	return hc
}

type pageResult struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, hc *http.Client, method, u string) pageResult {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return pageResult{resp.StatusCode, resp.Header, string(b)}
}

// A signed-in console user opens plugin pages in the browser through
// /console/plugins/{id}/: the dashboard example renders with its
// nonce-styled SVG charts and no CSP violation, its relative links work
// under the console's prefix, and the plugins page links to it. The route's
// own roles still apply to the session's roles (re-read on every request):
// a session without them gets a 403 page, a revoked role holds at once, no
// session gets the sign-in page; the plugin is told the session's address
// and never sees its cookie; its redirects map to the console's prefix;
// only GET and HEAD are served.
func TestConsolePluginPagesInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plugins")
	}
	env := map[string]string{"TPG_PLUGINS_DIR": consolePagesDir(t), "TPG_PLUGIN_CACHE_DIR": filepath.Join(t.TempDir(), "cache"),
		"TPG_PLUGINS_DISABLE": "shopify,webhook"}
	eachDB(t, env, func(t *testing.T, s *server) {
		base := s.c.BaseURL
		// A payment for the dashboard to count; wait until it has.
		s.payIn(apitest.NewWallet().Addr, 2_500_000, "tx-console-1", nil, nil)
		waitUntil(t, "the dashboard to count the payment", time.Minute, func() bool {
			var doc struct {
				Totals struct {
					Payments int64 `json:"payments_received"`
				} `json:"totals"`
			}
			r := s.adm("GET", "/plugins/dashboard/totals.json", nil)
			return r.Status == 200 && json.Unmarshal(r.Body, &doc) == nil && doc.Totals.Payments == 1
		})

		// The merchant's console wallet (the server's admin signed in with
		// microsecond nonces already, which a console link's milliseconds
		// would not pass).
		boss := apitest.NewWallet()
		if r := s.adm("POST", "/api/roles", []map[string]any{{"address": boss.Addr.Base58(), "apply": []string{"read_all", "write"}}}); r.Status != 200 {
			t.Fatalf("roles: %d %s", r.Status, r.Body)
		}
		b := browser.Open(t, 1280, 900)
		link, err := client.New(base, boss.Key, boss.Addr, []string{"read_all", "write"}).ConsoleLoginURL()
		if err != nil {
			t.Fatal(err)
		}
		var text, href, fontSize string
		b.Run(30*time.Second, chromedp.Navigate(link), chromedp.Click("#signin", chromedp.ByQuery), chromedp.WaitVisible("svg.chart", chromedp.ByQuery),
			chromedp.Navigate(base+"/console/plugins"), chromedp.WaitVisible("#plugins", chromedp.ByQuery),
			chromedp.AttributeValue(`#plugins a[href^="/console/plugins/dashboard/"]`, "href", &href, nil, chromedp.ByQuery))
		if href != "/console/plugins/dashboard/" {
			t.Fatalf("the plugins page links the dashboard as %q", href)
		}
		b.Screenshot("console-plugins-with-pages")
		b.Run(30*time.Second, chromedp.Click(`#plugins a[href="/console/plugins/dashboard/"]`, chromedp.ByQuery),
			chromedp.WaitVisible("#chart-payments", chromedp.ByQuery),
			chromedp.Text("#payments-received-total", &text, chromedp.ByQuery),
			chromedp.Evaluate(`getComputedStyle(document.querySelector("h1")).fontSize`, &fontSize))
		if text != "2.500000 XTR" {
			t.Fatalf("dashboard payments total %q", text)
		}
		if fontSize != "22.4px" { // h1{font-size:1.4rem}: the nonce-styled sheet applied
			t.Fatalf("the page's style did not apply: h1 font-size %q", fontSize)
		}
		var loc string
		b.Run(10*time.Second, chromedp.Location(&loc))
		if loc != base+"/console/plugins/dashboard/" {
			t.Fatalf("dashboard at %q", loc)
		}
		b.Screenshot("console-plugin-dashboard")
		b.RequireNoProblems()
		// Its relative link stays under the console's prefix.
		b.Run(30*time.Second, chromedp.Click(`a[href="totals.json"]`, chromedp.ByQuery), chromedp.WaitReady("body", chromedp.ByQuery),
			chromedp.Location(&loc), chromedp.Text("body", &text, chromedp.ByQuery))
		if loc != base+"/console/plugins/dashboard/totals.json" || !strings.Contains(text, `"payments_received":1`) {
			t.Fatalf("JSON link: %q %q", loc, text)
		}

		// Over HTTP: the same checks as /plugins, by the console's door.
		admin := consoleSession(t, base, boss, "read_all", "write")
		r := get(t, admin, "GET", base+"/console/plugins/dashboard/")
		csp := r.header.Get("Content-Security-Policy")
		if r.status != 200 || !strings.HasPrefix(csp, "default-src 'none'; style-src 'nonce-") || strings.Contains(csp, "script-src") ||
			r.header.Get("Cache-Control") != "no-store" || r.header.Get("X-Frame-Options") != "DENY" || len(r.header.Values("Set-Cookie")) != 0 {
			t.Fatalf("dashboard: %d %v", r.status, r.header)
		}
		if h := get(t, admin, "HEAD", base+"/console/plugins/dashboard/"); h.status != 200 || h.body != "" {
			t.Fatalf("HEAD: %d %q", h.status, h.body)
		}
		r = get(t, admin, "GET", base+"/console/plugins/pages/echo?x=1")
		var echo map[string]any
		if err := json.Unmarshal([]byte(r.body), &echo); err != nil || r.status != 200 {
			t.Fatalf("echo: %d %s", r.status, r.body)
		}
		hdrs, _ := echo["headers"].(map[string]any)
		if echo["address"] != boss.Addr.Base58() || echo["path"] != "/echo" || echo["query"] != "x=1" || hdrs["Cookie"] != nil ||
			strings.Contains(r.body, "tps_console") || len(r.header.Values("Set-Cookie")) != 0 {
			t.Fatalf("echo through the console: %s %v", r.body, r.header)
		}
		if nonce, _ := echo["nonce"].(string); nonce == "" || !strings.Contains(r.header.Get("Content-Security-Policy"), "'nonce-"+nonce+"'") {
			t.Fatalf("nonce %q, CSP %q", nonce, r.header.Get("Content-Security-Policy"))
		}
		for to, want := range map[string]string{"/plugins/pages/echo?y=2": "/console/plugins/pages/echo?y=2", "https://evil.example/": "",
			"/console/plugins/pages/echo": "", "/plugins/pages/../../api/plugins": ""} {
			r := get(t, admin, "GET", base+"/console/plugins/pages/redirect?to="+url.QueryEscape(to))
			if r.status != http.StatusSeeOther || r.header.Get("Location") != want {
				t.Fatalf("redirect to %s: %d Location %q", to, r.status, r.header.Get("Location"))
			}
		}
		if r := get(t, admin, "GET", base+"/console/plugins/dashboard"); r.status != http.StatusMovedPermanently || r.header.Get("Location") != "/console/plugins/dashboard/" {
			t.Fatalf("plugin root: %d %v", r.status, r.header)
		}
		if r := get(t, admin, "GET", base+"/console/plugins/pages/nope"); r.status != 404 || !strings.Contains(r.body, `id="message"`) ||
			r.header.Get("Content-Security-Policy") != "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'" {
			t.Fatalf("unknown page: %d %v %s", r.status, r.header, r.body)
		}
		// The plugins page links the GET pages this session may open.
		list := get(t, admin, "GET", base+"/console/plugins").body
		for path, linked := range map[string]bool{"/echo": true, "/ok": true, "/redirect": true, "/echo-post": false, "/state": false} {
			if strings.Contains(list, `href="/console/plugins/pages`+path+`"`) != linked {
				t.Fatalf("plugins page: link to %s should be %v:\n%s", path, linked, list)
			}
		}
		if r := get(t, admin, "GET", base+"/console/plugins/pages/state"); r.status != 403 || !strings.Contains(r.body, "needs (super_admin)") {
			t.Fatalf("a super_admin page: %d %s", r.status, r.body)
		}
		// A plugin's POST route is not served through the console (the page
		// cannot know the session's CSRF token).
		req, _ := http.NewRequest("POST", base+"/console/plugins/pages/echo-post", strings.NewReader("x"))
		if resp, err := admin.Do(req); err != nil || resp.StatusCode != 404 {
			t.Fatalf("POST through the console: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}

		// A clerk with read_all only: the dashboard yes, a write page no.
		clerk := apitest.NewWallet()
		if r := s.adm("POST", "/api/roles", []map[string]any{{"address": clerk.Addr.Base58(), "apply": []string{"read_all"}}}); r.Status != 200 {
			t.Fatalf("roles: %d %s", r.Status, r.Body)
		}
		cs := consoleSession(t, base, clerk, "read_all")
		if r := get(t, cs, "GET", base+"/console/plugins/dashboard/"); r.status != 200 || !strings.Contains(r.body, `id="payments-received">1<`) {
			t.Fatalf("clerk's dashboard: %d %s", r.status, r.body)
		}
		if r := get(t, cs, "GET", base+"/console/plugins/pages/ok"); r.status != 403 || !strings.Contains(r.body, "needs (write)") || strings.Contains(r.body, "ok</") {
			t.Fatalf("clerk on a write page: %d %s", r.status, r.body)
		}
		// Roles are re-read on every request: revoked, refused at once.
		if r := s.adm("POST", "/api/roles", []map[string]any{{"address": clerk.Addr.Base58(), "revoke": []string{"read_all"}}}); r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if r := get(t, cs, "GET", base+"/console/plugins/dashboard/"); r.status != 403 || strings.Contains(r.body, "chart") {
			t.Fatalf("revoked clerk's dashboard: %d %s", r.status, r.body)
		}
		// No session: the sign-in help, not the page.
		if r := get(t, http.DefaultClient, "GET", base+"/console/plugins/dashboard/"); r.status != 401 || !strings.Contains(r.body, "taritools console") || strings.Contains(r.body, "Paid orders") {
			t.Fatalf("no session: %d %s", r.status, r.body)
		}
	})
}
