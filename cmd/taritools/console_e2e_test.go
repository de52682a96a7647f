package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tari-payment/tps/test/browser"
)

// consoleLink runs `taritools console --json` for a profile.
func consoleLink(t *testing.T, c *cli, profile string) string {
	t.Helper()
	var out struct {
		URL     string `json:"url"`
		Address string `json:"address"`
	}
	c.okJSON(&out, "console", "-p", profile)
	if !strings.Contains(out.URL, "/console/login?token=") || out.Address == "" {
		t.Fatalf("console link: %+v", out)
	}
	return out.URL
}

// signInOverHTTP follows a sign-in link with a plain HTTP client and returns
// the final status and page.
func signInOverHTTP(t *testing.T, link string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	r, err := hc.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(r.Body)
	r.Body.Close()
	get := func(name string) string {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindSubmatch(page)
		if m == nil {
			return ""
		}
		return string(m[1])
	}
	u, _ := url.Parse(link)
	r, err = hc.PostForm(u.Scheme+"://"+u.Host+"/console/login", url.Values{"token": {get("token")}, "csrf": {get("csrf")}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(body)
}

// The link `taritools console` prints signs the profile's address in to the
// real server's console in a real browser, once; a plain user's link is refused.
func TestConsoleCommandSignsIn(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		c := newCLI(t)
		adminAddr := setupMerchant(t, srv, c)
		srv.newOrder(t, 7001, 42, "3.00")

		link := consoleLink(t, c, "admin")
		b := browser.Open(t, 1024, 768)
		var who, orders, plugins string
		b.Run(60*time.Second,
			chromedp.Navigate(link),
			chromedp.Click("#signin", chromedp.ByQuery),
			chromedp.WaitVisible("svg.chart", chromedp.ByQuery),
			chromedp.AttributeValue("form.who span", "title", &who, nil, chromedp.ByQuery),
			chromedp.Navigate(srv.URL+"/console/orders"),
			chromedp.WaitVisible("table.orders", chromedp.ByQuery),
			chromedp.Text("table.orders", &orders, chromedp.ByQuery),
			// The plugin page reads the real plugin host.
			chromedp.Navigate(srv.URL+"/console/plugins"),
			chromedp.WaitVisible("#plugins", chromedp.ByQuery),
			chromedp.Text("#plugins", &plugins, chromedp.ByQuery),
			chromedp.Click("#logout", chromedp.ByQuery),
			chromedp.WaitVisible("#signedout", chromedp.ByQuery),
		)
		if who != adminAddr {
			t.Fatalf("signed in as %q, want %s", who, adminAddr)
		}
		if !strings.Contains(orders, "7001") {
			t.Fatalf("orders page: %q", orders)
		}
		if !strings.Contains(plugins, "shopify") {
			t.Fatalf("plugins page: %q", plugins)
		}
		b.RequireNoProblems()

		if st, body := signInOverHTTP(t, link); st != http.StatusForbidden || !strings.Contains(body, "already used") {
			t.Fatalf("second use of the link: %d", st)
		}
		if st, body := signInOverHTTP(t, consoleLink(t, c, "alice")); st != http.StatusForbidden || !strings.Contains(body, "no console roles") {
			t.Fatalf("plain user's link: %d", st)
		}
		if out := c.ok("console", "-p", "admin"); !strings.Contains(out, "/console/login?token=") || !strings.Contains(out, "works once") {
			t.Fatalf("human output: %q", out)
		}
	})
}
