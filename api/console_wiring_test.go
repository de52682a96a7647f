package api

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/api/shopify/shopifytest"
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

// consoleAdmin signs a fresh write-role wallet in to the console and returns
// a client holding the session and its CSRF token.
func consoleAdmin(t *testing.T, h *harness) (*http.Client, string) {
	t.Helper()
	w := apitest.NewWallet()
	if err := h.eng.AssignRoles(context.Background(), w.Addr, []core.Role{core.RoleReadAll, core.RoleWrite}, nil); err != nil {
		t.Fatal(err)
	}
	link, err := client.New(h.ts.URL, w.Key, w.Addr, []string{"user"}).ConsoleLoginURL()
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	field := func(page []byte, name string) string {
		return regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(string(page))[1]
	}
	r, err := hc.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(r.Body)
	r.Body.Close()
	r, err = hc.PostForm(h.ts.URL+"/console/login", url.Values{"token": {field(page, "token")}, "csrf": {field(page, "csrf")}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(r.Body)
	r.Body.Close()
	return hc, field(page, "csrf")
}

// The console's rate form reprices the shop's products and its rescan adds
// missed orders, as POST /api/exchange_rate and /api/rescan_open_orders do.
func TestConsoleRateRepricesAndRescans(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		h.shop.AddVariant(11, shopifytest.Variant{ProductID: 1, Price: "10.00", TariPrice: "300000000"})
		hc, csrf := consoleAdmin(t, h)
		post := func(path string, kv ...string) (int, string) {
			v := url.Values{"csrf": {csrf}, "confirm": {"yes"}}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			r, err := hc.PostForm(h.ts.URL+path, v)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Body.Close()
			b, _ := io.ReadAll(r.Body)
			return r.StatusCode, string(b)
		}
		if st, body := post("/console/rates", "currency", "usd", "rate", "40 T"); st != http.StatusOK || !strings.Contains(body, "1 product variant(s) repriced") {
			t.Fatalf("set rate: %d %s", st, body)
		}
		if u := h.shop.Updates(); len(u) != 1 || u[0] != "gid://shopify/ProductVariant/11=400000000" {
			t.Fatalf("repricing: %v", u)
		}
		h.shop.SetOpenOrders([]map[string]any{{"id": "gid://shopify/Order/501", "name": "#501", "createdAt": "2024-03-01T10:00:00Z",
			"currencyCode": "USD", "totalPrice": "12.34", "subtotalPrice": "10.00", "note": nil, "customer": map[string]any{"id": "gid://shopify/Customer/77"}}})
		if st, body := post("/console/rescan"); st != http.StatusOK || !strings.Contains(body, "1 processed") {
			t.Fatalf("rescan: %d %s", st, body)
		}
		if o := h.getOrder("501"); o.CustomerID != "77" {
			t.Fatalf("rescanned order: %+v", o)
		}
		h.shop.SetDown(true)
		if st, body := post("/console/rates", "currency", "USD", "rate", "41 T"); st != http.StatusBadGateway || !strings.Contains(body, "Rate stored") {
			t.Fatalf("Shopify down: %d %s", st, body)
		}
		if r, _ := h.eng.ExchangeRate(context.Background(), "USD"); r.Rate != 41_000_000 {
			t.Fatalf("rate after a failed repricing: %v", r)
		}
	})
}
