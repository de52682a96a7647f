package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/internal/wasmbuild"
)

var pagesWasm struct {
	once sync.Once
	path string
	err  error
}

// pagesPlugin builds plugins/testdata/pages (once per test binary).
func pagesPlugin(t *testing.T) string {
	t.Helper()
	pagesWasm.once.Do(func() {
		root := wasmbuild.RepoRoot()
		dir, err := os.MkdirTemp("", "tps-pages-")
		if err != nil {
			pagesWasm.err = err
			return
		}
		pagesWasm.path = filepath.Join(dir, "pages.wasm")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		pagesWasm.err = wasmbuild.Build(ctx, root, filepath.Join(root, "plugins/testdata/pages"), pagesWasm.path)
	})
	if pagesWasm.err != nil {
		t.Fatal(pagesWasm.err)
	}
	return pagesWasm.path
}

// TestPluginRoutesThroughServer serves a plugin's routes through the whole
// server: access per manifest route (public; roles checked like /api, 401
// without a token and 403 without the role), no credentials reach the
// plugin, no cookie or CSP of its own leaves it, every answer (errors too)
// carries the strict CSP with a fresh nonce, a stuck handler is a 504, an
// oversized body a 413, a failing handler a 502 that tells nothing of it, a
// state-changing request authenticated by the cookie alone a 403, and a
// redirect leaves the plugin's pages only never.
func TestPluginRoutesThroughServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin")
	}
	pluginDir := pagesPluginDir(t)
	cache := filepath.Join(t.TempDir(), "cache")
	eachDB(t, map[string]string{"TPG_PLUGINS_DIR": pluginDir, "TPG_PLUGIN_CACHE_DIR": cache, "TPG_PLUGINS_DISABLE": "shopify,webhook"},
		func(t *testing.T, s *server) {
			nonces := map[string]bool{}
			checkHeaders := func(what string, r apitest.Response) {
				t.Helper()
				csp := r.Header.Get("Content-Security-Policy")
				i := strings.Index(csp, "'nonce-")
				if !strings.HasPrefix(csp, "default-src 'none'; style-src 'nonce-") || strings.Contains(csp, "script-src") || i < 0 {
					t.Fatalf("%s: CSP %q", what, csp)
				}
				nonce := csp[i+7 : i+7+strings.Index(csp[i+7:], "'")]
				if nonces[nonce] {
					t.Fatalf("%s: nonce %q used twice", what, nonce)
				}
				nonces[nonce] = true
				if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("X-Frame-Options") != "DENY" || len(r.Header.Values("Set-Cookie")) != 0 ||
					r.Header.Get("Access-Control-Allow-Origin") != "" {
					t.Fatalf("%s: headers %v", what, r.Header)
				}
			}

			// Public: no token needed; credentials sent anyway never reach the plugin.
			r := s.c.Do("POST", "/plugins/pages/echo?x=1", "hi", map[string]string{"Cookie": "tpg_access_token=" + s.tok, "Authorization": "Bearer " + s.tok,
				"tpg_access_token": s.tok, "X-Custom": "kept"})
			checkHeaders("echo", r)
			var echo map[string]any
			r.JSON(t, &echo)
			hdrs, _ := echo["headers"].(map[string]any)
			if r.Status != 200 || echo["path"] != "/echo" || echo["query"] != "x=1" || hdrs["X-Custom"] != "kept" || echo["address"] != nil {
				t.Fatalf("echo: %d %s", r.Status, r.Body)
			}
			for k := range hdrs {
				if k == "Cookie" || k == "Authorization" || strings.EqualFold(k, "tpg_access_token") {
					t.Fatalf("credential header %s reached the plugin: %s", k, r.Body)
				}
			}
			if strings.Contains(string(r.Body), s.tok) {
				t.Fatal("the access token reached the plugin")
			}
			if nonce, _ := echo["nonce"].(string); !strings.Contains(r.Header.Get("Content-Security-Policy"), "'nonce-"+nonce+"'") || nonce == "" {
				t.Fatalf("the plugin got nonce %q, the CSP is %q", nonce, r.Header.Get("Content-Security-Policy"))
			}
			if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=600" {
				t.Fatalf("a public route's Cache-Control: %q", cc)
			}
			if r.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("content type %q", r.Header.Get("Content-Type"))
			}

			// Roles: 401 without a token, 403 without read_all, 200 with it.
			user := s.c.Login(apitest.NewWallet(), "user")
			if r := s.c.Do("GET", "/plugins/pages/state", nil, nil); r.Status != 401 {
				t.Fatalf("no token: %d %s", r.Status, r.Body)
			} else {
				checkHeaders("401", r)
			}
			if r := s.c.Do("GET", "/plugins/pages/state", nil, apitest.Auth(user)); r.Status != 403 {
				t.Fatalf("user token: %d %s", r.Status, r.Body)
			}
			r = s.c.Do("GET", "/plugins/pages/state", nil, map[string]string{"Cookie": "tpg_access_token=" + s.tok})
			if r.Status != 200 || !strings.Contains(string(r.Body), "may read state but not write it") || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("admin by cookie: %d %s %v", r.Status, r.Body, r.Header)
			}
			// The cookie alone does not authorise a POST (another site can
			// make a browser send it); the header does.
			if r := s.c.Do("POST", "/plugins/pages/state", "{}", map[string]string{"Cookie": "tpg_access_token=" + s.tok}); r.Status != 403 {
				t.Fatalf("POST by cookie: %d %s", r.Status, r.Body)
			}
			if r := s.c.Do("POST", "/plugins/pages/state", "{}", apitest.Auth(s.tok)); r.Status != 200 {
				t.Fatalf("POST by header: %d %s", r.Status, r.Body)
			}

			if r := s.c.Do("POST", "/plugins/pages/echo", strings.Repeat("x", 1001), nil); r.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("oversize body: %d %s", r.Status, r.Body)
			} else {
				checkHeaders("413", r)
			}
			start := time.Now()
			r = s.c.Do("GET", "/plugins/pages/slow", nil, nil)
			if r.Status != http.StatusGatewayTimeout || !strings.Contains(r.Error(), "did not answer within its 300ms deadline") || time.Since(start) > 10*time.Second {
				t.Fatalf("stuck handler: %d %s after %v", r.Status, r.Body, time.Since(start))
			}
			checkHeaders("504", r)
			r = s.c.Do("GET", "/plugins/pages/fail", nil, nil)
			if r.Status != http.StatusBadGateway || strings.Contains(string(r.Body), "secret internal detail") {
				t.Fatalf("failing handler: %d %s", r.Status, r.Body)
			}
			if r := s.c.Do("GET", "/plugins/pages/nope", nil, nil); r.Status != 404 {
				t.Fatalf("unknown route: %d %s", r.Status, r.Body)
			}
			if r := s.c.Do("GET", "/plugins/nosuch/", nil, nil); r.Status != 404 {
				t.Fatalf("unknown plugin: %d %s", r.Status, r.Body)
			}
			if r := s.c.Do("GET", "/plugins/Bad_Id/", nil, nil); r.Status != 400 {
				t.Fatalf("malformed plugin id: %d %s", r.Status, r.Body)
			}
			noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			if resp, err := noRedirect.Get(s.c.BaseURL + "/plugins/pages"); err != nil || resp.StatusCode != 301 || resp.Header.Get("Location") != "/plugins/pages/" {
				t.Fatalf("/plugins/pages: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			for to, kept := range map[string]bool{"/plugins/pages/echo": true, "https://evil.example/": false, "/api/plugins": false,
				"/plugins/pages/../../api/plugins": false, "/plugins/pages/%2e%2e/x": false} {
				resp, err := noRedirect.Get(s.c.BaseURL + "/plugins/pages/redirect?to=" + to)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := resp.Header.Get("Location"); (got == to) != kept || resp.StatusCode != 303 {
					t.Fatalf("redirect to %s: %d Location %q", to, resp.StatusCode, got)
				}
			}
		})
}

// pagesPluginDir is a plugin folder holding the pages test plugin with its
// routes.
func pagesPluginDir(t *testing.T) string {
	t.Helper()
	pluginDir := t.TempDir()
	wasm, err := os.ReadFile(pagesPlugin(t))
	if err != nil {
		t.Fatal(err)
	}
	manifest, _ := json.Marshal(map[string]any{"id": "pages", "version": "1", "abi": 1, "events": []string{"*"},
		"routes": []map[string]any{
			{"path": "/echo", "methods": []string{"GET", "POST"}, "public": true, "max_body_bytes": 1000},
			{"path": "/state", "methods": []string{"GET", "POST"}, "roles": []string{"read_all"}},
			{"path": "/slow", "public": true, "timeout_ms": 300},
			{"path": "/fail", "public": true},
			{"path": "/redirect", "public": true},
		}})
	os.MkdirAll(filepath.Join(pluginDir, "pages"), 0o755)
	os.WriteFile(filepath.Join(pluginDir, "pages", "plugin.wasm"), wasm, 0o644)
	os.WriteFile(filepath.Join(pluginDir, "pages", "manifest.json"), manifest, 0o644)
	return pluginDir
}

// Public plugin routes share the per-IP budget of the other public
// endpoints (TPG_RATE_LIMIT_*): past it, 429 with Retry-After (and the
// plugin pages' headers); routes with roles are not limited.
func TestPublicPluginRoutesRateLimited(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin")
	}
	env := map[string]string{"TPG_PLUGINS_DIR": pagesPluginDir(t), "TPG_PLUGIN_CACHE_DIR": filepath.Join(t.TempDir(), "cache"),
		"TPG_PLUGINS_DISABLE": "shopify,webhook", "TPG_RATE_LIMIT_EXEMPT_LOOPBACK": "false",
		"TPG_RATE_LIMIT_PER_SECOND": "0.01", "TPG_RATE_LIMIT_BURST": "3"}
	eachDB(t, env, func(t *testing.T, s *server) {
		// Start-up used some of the budget (the admin's login): spend the rest.
		limited := 0
		for range 5 {
			if r := s.c.Do("GET", "/plugins/pages/echo", nil, nil); r.Status == http.StatusTooManyRequests {
				limited++
				if r.Header.Get("Retry-After") == "" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") {
					t.Fatalf("429 headers: %v", r.Header)
				}
			} else if r.Status != 200 {
				t.Fatalf("echo: %d %s", r.Status, r.Body)
			}
		}
		if limited == 0 {
			t.Fatal("five public route calls on a burst of 3: none limited")
		}
		for range 5 {
			if r := s.c.Do("GET", "/plugins/pages/state", nil, apitest.Auth(s.tok)); r.Status != 200 {
				t.Fatalf("a route with roles was limited: %d %s", r.Status, r.Body)
			}
		}
	})
}
