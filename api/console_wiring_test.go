package api

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/client"
	"github.com/tari-payment/tps/core"
)

// The console's cookies: HttpOnly, SameSite=Strict, 8 h, and Secure exactly
// when the request came over TLS as a trusted proxy says.
func TestConsoleCookieFlags(t *testing.T) {
	eachDB(t, map[string]string{"TPG_USE_X_FORWARDED_FOR": "true"}, func(t *testing.T, h *harness) {
		w := apitest.NewWallet()
		if err := h.eng.AssignRoles(context.Background(), w.Addr, []core.Role{core.RoleReadAll}, nil); err != nil {
			t.Fatal(err)
		}
		noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, tls := range []bool{false, true} {
			link, err := client.New(h.ts.URL, w.Key, w.Addr, []string{"user"}).ConsoleLoginURL()
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, link, nil)
			if tls {
				req.Header.Set("X-Forwarded-Proto", "https")
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			loginCk := resp.Header.Get("Set-Cookie")
			field := func(name string) string {
				return regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(string(page))[1]
			}
			form := url.Values{"token": {field("token")}, "csrf": {field("csrf")}}
			req, _ = http.NewRequest(http.MethodPost, h.ts.URL+"/console/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Cookie", strings.SplitN(loginCk, ";", 2)[0])
			if tls {
				req.Header.Set("X-Forwarded-Proto", "https")
			}
			resp, err = noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", resp.StatusCode)
			}
			var session string
			for _, c := range resp.Header.Values("Set-Cookie") {
				if strings.HasPrefix(c, "tps_console=") {
					session = c
				}
			}
			for _, want := range []string{"HttpOnly", "SameSite=Strict", "Max-Age=28800", "Path=/console"} {
				if !strings.Contains(session, want) {
					t.Fatalf("session cookie %q lacks %s", session, want)
				}
			}
			if strings.Contains(session, "Secure") != tls || strings.Contains(loginCk, "Secure") != tls {
				t.Fatalf("TLS %v: cookies %q / %q", tls, loginCk, session)
			}
		}
	})
}
