package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/tari"
)

// concretePath fills a route's parameters with valid values.
func concretePath(path string, addr tari.Address) string {
	r := strings.NewReplacer(":address", addr.Base58(), ":order_id", "1", ":customer_id", "cust", ":currency", "USD")
	p := r.Replace(path)
	if strings.Contains(p, "deliveries/:id") {
		return strings.Replace(p, ":id", "7", 1)
	}
	if strings.HasPrefix(p, "/api/plugins/:id") {
		return strings.Replace(p, ":id", "webhook", 1)
	}
	return strings.Replace(p, ":id", "cust", 1)
}

// shopifyAdditions are this project's Shopify routes beyond the reference's
// (issue 14: orders/cancelled, the compliance webhooks, the data export).
var shopifyAdditions = map[string]bool{
	"/shopify/webhook/order_cancelled": true, "/shopify/webhook/customers_data_request": true,
	"/shopify/webhook/customers_redact": true, "/shopify/webhook/shop_redact": true, "/api/customer_data/:customer_id": true,
}

func TestRouteTableIsComplete(t *testing.T) {
	s := &Server{}
	n := 0
	seen := map[string]bool{}
	for _, r := range s.routes() {
		if !strings.HasPrefix(r.path, "/api/plugins") && !shopifyAdditions[r.path] && !adminListingRoutes[r.path] && r.path != pluginPagePath && r.path != pluginRootPath {
			n++
		}
		key := r.method + " " + r.path
		if seen[key] {
			t.Fatalf("duplicate %s", key)
		}
		seen[key] = true
	}
	if n != 46 {
		t.Fatalf("%d reference routes, want 46", n)
	}
}

// TestAuthorizationMatrix: every /api route × every role set; super_admin
// passes everything, otherwise all listed roles are needed.
func TestAuthorizationMatrix(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		roleSets := [][]string{{}, {"user"}, {"read_all"}, {"write"}, {"payment_wallet"}, {"read_all", "write"}, {"super_admin"}}
		tokens := make([]string, len(roleSets))
		for i, rs := range roleSets {
			_, tokens[i] = h.user(rs...)
		}
		checked := 0
		for _, rt := range h.srv.routes() {
			if rt.guard != guardJWT {
				continue
			}
			path := concretePath(rt.path, h.admin.Addr)
			for i, rs := range roleSets {
				r := h.do(rt.method, path, "{}", tokens[i])
				denied := r.Status == http.StatusForbidden && r.Error() == msgACL
				want := allowed(rs, rt.roles)
				if denied == want {
					t.Errorf("%s %s with %v: status %d %s, want allowed=%v", rt.method, path, rs, r.Status, r.Body, want)
				}
				if r.Status >= 500 && r.Status != http.StatusNotImplemented && r.Status != http.StatusBadGateway {
					t.Errorf("%s %s with %v: %d %s", rt.method, path, rs, r.Status, r.Body)
				}
				checked++
			}
			// No token, a garbage token, a token signed by another key.
			if r := h.do(rt.method, path, nil, ""); r.Status != 401 || r.Error() != msgNoJWT {
				t.Errorf("%s %s without token: %d %s", rt.method, path, r.Status, r.Body)
			}
			if r := h.do(rt.method, path, nil, "not-a-jwt"); r.Status != 400 || r.Error() != msgBadJWT {
				t.Errorf("%s %s garbage token: %d %s", rt.method, path, r.Status, r.Body)
			}
		}
		if checked < 39*len(roleSets) {
			t.Fatalf("only %d checks", checked)
		}
	})
}

func TestAccessTokenTransportAndValidity(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		w, tok := h.user("user")
		check := func(name string, hdr map[string]string, cookie string, want int) {
			t.Helper()
			req, _ := http.NewRequest("GET", h.ts.URL+"/api/check_token", nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			if cookie != "" {
				req.AddCookie(&http.Cookie{Name: "tpg_access_token", Value: cookie})
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s: %d, want %d", name, resp.StatusCode, want)
			}
		}
		check("header", map[string]string{"tpg_access_token": tok}, "", 200)
		check("bearer", map[string]string{"Authorization": "Bearer " + tok}, "", 200)
		check("cookie", nil, tok, 200)
		check("bad header wins over good cookie", map[string]string{"tpg_access_token": tok + "x"}, tok, 401)
		// A token from another server key, and an expired one.
		other, _ := tari.NewAccessToken(tari.GenerateSecretKey(), w.Addr, []string{"user"}, time.Now())
		check("foreign key", map[string]string{"tpg_access_token": other}, "", 401)
		old, _ := tari.NewAccessToken(h.srv.key, w.Addr, []string{"user"}, time.Now().Add(-25*time.Hour))
		check("expired", map[string]string{"tpg_access_token": old}, "", 401)
		fresh, _ := tari.NewAccessToken(h.srv.key, w.Addr, []string{"user"}, time.Now().Add(-23*time.Hour))
		check("23h old", map[string]string{"tpg_access_token": fresh}, "", 200)
		r := h.do("GET", "/api/check_token", nil, tok)
		if string(r.Body) != "Token is valid." {
			t.Fatalf("%q", r.Body)
		}
	})
}

func TestWrongMethodsAndUnknownPaths(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		registered := map[string]bool{}
		for _, rt := range h.srv.routes() {
			registered[rt.method+" "+concretePath(rt.path, h.admin.Addr)] = true
		}
		for _, rt := range h.srv.routes() {
			path := concretePath(rt.path, h.admin.Addr)
			for _, m := range []string{"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"} {
				if m == rt.method || registered[m+" "+path] {
					continue
				}
				r := h.do(m, path, nil, h.adminT)
				if r.Status != http.StatusNotFound {
					t.Errorf("%s %s: %d, want 404", m, path, r.Status)
				}
			}
		}
		// Under /api an unknown path needs a token first (401), then 404.
		if r := h.do("GET", "/api/nope", nil, ""); r.Status != 401 {
			t.Errorf("unknown /api path without token: %d", r.Status)
		}
		if r := h.do("GET", "/api/nope", nil, h.adminT); r.Status != 404 {
			t.Errorf("unknown /api path: %d", r.Status)
		}
		if r := h.do("GET", "/health/", nil, ""); r.Status != 404 {
			t.Errorf("trailing slash: %d", r.Status)
		}
	})
}

// TestMalformedBodies: every route with a body answers 4xx to broken JSON.
func TestMalformedBodies(t *testing.T) {
	eachDB(t, map[string]string{"TPG_SHOPIFY_HMAC_CHECKS": "off"}, func(t *testing.T, h *harness) {
		bodies := []string{"", "{", "[", "nul", `"x"`, "42", "[]", "{}", `{"order_id":5}`, `{"address":"nope","apply":["god"]}`,
			`[{"address":5}]`, `{"payment":{},"auth":{}}`, `{"payment":{"sender":"x","amount":1.5,"txid":"t"},"auth":{"address":"x","nonce":1,"signature":"00"}}`,
			`{"id":1,"currency":"XTR","created_at":"yesterday","total_price":"1"}`, strings.Repeat("[", 10000)}
		for _, rt := range h.srv.routes() {
			if rt.method == "GET" || rt.method == "DELETE" || strings.Contains(rt.path, "settle") || strings.Contains(rt.path, "redeliver") || strings.HasSuffix(rt.path, "/enable") || strings.HasSuffix(rt.path, "/reload") ||
				strings.Contains(rt.path, "rescan") || strings.Contains(rt.path, "reset_order") || rt.path == "/auth" {
				continue
			}
			path := concretePath(rt.path, h.admin.Addr)
			for _, b := range bodies {
				r := h.do(rt.method, path, b, h.adminT)
				if r.Status >= 500 {
					t.Errorf("%s %s body %.30q: %d %s", rt.method, path, b, r.Status, r.Body)
				}
				if r.Status == 200 && rt.path != "/shopify/webhook/checkout_create" && rt.path != "/shopify/webhook/no_op" &&
					rt.path != "/shopify/webhook/transaction_create" && rt.path != "/shopify/webhook/product_updated" &&
					rt.path != "/shopify/webhook/order_cancelled" && b != "[]" {
					t.Errorf("%s %s body %.30q accepted: %s", rt.method, path, b, r.Body)
				}
			}
		}
		// Over the body limit.
		big := `{"order_id":"` + strings.Repeat("x", 2<<20) + `"}`
		if r := h.do("POST", "/api/cancel", big, h.adminT); r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("big body: %d", r.Status)
		}
		if r := h.do("POST", "/shopify/webhook/no_op", big, ""); r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("big webhook: %d", r.Status)
		}
	})
}

func TestHealthAndAccessLog(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		r := h.do("GET", "/health", nil, "")
		if r.Status != 200 || string(r.Body) != "\U0001F44D\uFE0F\n" || r.Header.Get("Content-Type") != "" {
			t.Fatalf("%d %q %q", r.Status, r.Body, r.Header.Get("Content-Type"))
		}
		body := []byte{}
		r = h.c.Do("GET", "/shopify/health", nil, map[string]string{"X-Shopify-Hmac-Sha256": ShopifyHMAC(hmacSecret, body), "User-Agent": "probe/1"})
		if r.Status != 200 || string(r.Body) != "\U0001F44D\uFE0F\n" {
			t.Fatalf("shopify health %d %q", r.Status, r.Body)
		}
		h.c.Do("GET", "/api/balance?x=1", nil, map[string]string{"tpg_access_token": h.adminT, "X-Forwarded-For": "10.1.1.1"})
		log := h.access.String()
		if strings.Contains(log, `"GET /health HTTP`) {
			t.Fatal("/health was logged")
		}
		if !strings.Contains(log, `x-forwarded-for: - forwarded: - "GET /shopify/health HTTP/1.1" 200 ua:"probe/1" `) {
			t.Fatalf("no shopify health line:\n%s", log)
		}
		if !strings.Contains(log, `x-forwarded-for: 10.1.1.1 forwarded: - "GET /api/balance?x=1 HTTP/1.1" 200 ua:"Go-http-client/1.1" `) {
			t.Fatalf("no balance line:\n%s", log)
		}
		if strings.Contains(log, h.adminT) || strings.Contains(h.logs.String(), h.adminT) {
			t.Fatal("a token reached the logs")
		}
		line := strings.Split(strings.TrimSpace(log), "\n")[0]
		var ts, ip string
		if _, err := fmt.Sscanf(line[strings.Index(line, "] ")+2:], "%s %s", &ts, &ip); err != nil || ip != "127.0.0.1" {
			t.Fatalf("%q %v", line, err)
		}
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(line, " ms") {
			t.Fatalf("%q", line)
		}
	})
}
