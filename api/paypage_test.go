package api

import (
	"bytes"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/tari"
)

const testPayLinkSecret = "pay-link-secret-for-tests"

// payWallet is the shop's dual wallet address for the pay-page tests.
func payWallet() tari.Address {
	return tari.NewDualAddress(tari.Mainnet, tari.GenerateSecretKey().PublicKey(), tari.GenerateSecretKey().PublicKey())
}

func payEnv(wallet tari.Address) map[string]string {
	return map[string]string{"TPG_PAY_LINK_SECRET": testPayLinkSecret, "TPG_PAYMENT_WALLET_ADDRESS": wallet.Base58()}
}

func payLink(orderID string) string { return core.PayLinkPath(testPayLinkSecret, orderID) }

func (h *harness) payStatus(orderID string) payView {
	h.t.Helper()
	r := h.do(http.MethodGet, payLink(orderID)+"/status", nil, "")
	if r.Status != http.StatusOK {
		h.t.Fatalf("status of %s: %d %s", orderID, r.Status, r.Body)
	}
	var v payView
	r.JSON(h.t, &v)
	return v
}

// The page, its status and QR codes; a wrong token is a bare 404 whether or
// not the order exists; the address is the wallet's with the order id as
// payment id, the same account (D25).
func TestPayPageRoutes(t *testing.T) {
	wallet := payWallet()
	eachDB(t, payEnv(wallet), func(t *testing.T, h *harness) {
		h.order("1001", "cust", "2.5", nil)
		link := payLink("1001")

		r := h.do(http.MethodGet, link, nil, "")
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("page: %d %s", r.Status, r.Body)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Fatalf("CSP = %q", csp)
		}
		if r.Header.Get("Referrer-Policy") != "no-referrer" || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("headers: %v", r.Header)
		}
		want, _ := wallet.WithPaymentID([]byte("1001"))
		page := string(r.Body)
		for _, s := range []string{"Order 1001", "2.5 XTM", want.Base58(), want.Emoji(), "Waiting for your payment", "/pay/assets/pay.js?v=", `http-equiv="refresh"`,
			`href="tari://mainnet/transactions/send?tariAddress=` + want.Base58() + `&amp;amount=2500000"`} {
			if !strings.Contains(page, s) {
				t.Fatalf("page lacks %q:\n%s", s, page)
			}
		}
		if strings.Contains(page, "<script>") || strings.Contains(page, "style=") || strings.Contains(page, "<style") {
			t.Fatal("inline script or style in the page")
		}

		v := h.payStatus("1001")
		if v.Status != engine.PayWaiting || v.AmountDue != 2_500_000 || v.Address != want.Base58() || v.AddressEmoji != want.Emoji() || !v.PaymentID || v.ExpiresAt == nil || v.SecondsLeft <= 0 {
			t.Fatalf("status = %+v", v)
		}
		got, err := tari.ParseAddress(v.Address)
		if err != nil || got.PaymentID != "1001" || !got.SameAccount(wallet) {
			t.Fatalf("address %s: %+v %v", v.Address, got, err)
		}

		r = h.do(http.MethodGet, link+"/qr.png", nil, "")
		if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("png: %d", r.Status)
		}
		if img, err := png.Decode(bytes.NewReader(r.Body)); err != nil || img.Bounds().Dx() < 200 {
			t.Fatalf("png: %v", err)
		}
		r = h.do(http.MethodGet, link+"/qr.svg", nil, "")
		if r.Status != 200 || r.Header.Get("Content-Type") != "image/svg+xml" || !bytes.HasPrefix(r.Body, []byte("<svg")) {
			t.Fatalf("svg: %d %s", r.Status, r.Body)
		}
		for _, a := range []string{"pay.js", "pay.css"} {
			if r := h.do(http.MethodGet, "/pay/assets/"+a, nil, ""); r.Status != 200 || len(r.Body) == 0 {
				t.Fatalf("%s: %d", a, r.Status)
			}
		}
		if r := h.do(http.MethodGet, "/pay/assets/page.html", nil, ""); r.Status != 404 {
			t.Fatalf("template served as an asset: %d", r.Status)
		}

		// Wrong tokens: 404 with an empty body, for a known order and an unknown one alike.
		bad := []string{
			"/pay/1001/" + strings.Repeat("0", 32),
			"/pay/1001/" + strings.ToUpper(core.PayLinkToken(testPayLinkSecret, "1001")),
			"/pay/1001/" + core.PayLinkToken(testPayLinkSecret, "1001")[:31],
			"/pay/1001/" + core.PayLinkToken("another-secret-1234", "1001"),
			"/pay/9999/" + strings.Repeat("0", 32),
			"/pay/1001/" + core.PayLinkToken(testPayLinkSecret, "9999") + "/status",
		}
		for _, p := range bad {
			for _, suffix := range []string{"", "/status", "/qr.png"} {
				if strings.HasSuffix(p, "/status") && suffix != "" {
					continue
				}
				r := h.do(http.MethodGet, p+suffix, nil, "")
				if r.Status != 404 || len(r.Body) != 0 {
					t.Fatalf("%s: %d %q", p+suffix, r.Status, r.Body)
				}
			}
		}
		if tok := core.PayLinkToken(testPayLinkSecret, "1001"); strings.Contains(h.access.String(), tok) || !strings.Contains(h.access.String(), "/pay/1001/…/qr.png") {
			t.Fatalf("access log: %s", h.access.String())
		}
		// Hostile paths: a huge order id, and a NUL, change nothing and say nothing.
		if r := h.do(http.MethodGet, "/pay/"+strings.Repeat("9", 5000)+"/"+strings.Repeat("0", 32), nil, ""); r.Status != 404 || len(r.Body) != 0 {
			t.Fatalf("long id: %d %q", r.Status, r.Body)
		}
		if r := h.do(http.MethodGet, "/pay/10%0001/"+strings.Repeat("0", 32), nil, ""); r.Status/100 != 4 {
			t.Fatalf("NUL: %d", r.Status)
		}
		// A valid token for an order that does not exist: the same 404.
		if r := h.do(http.MethodGet, payLink("9999"), nil, ""); r.Status != 404 || len(r.Body) != 0 {
			t.Fatalf("unknown order: %d %q", r.Status, r.Body)
		}
	})
}

// A payment carrying the order's payment id moves the status through
// payment seen and paid; no claim. An order id with '#' works in the link.
func TestPayPageFollowsPayment(t *testing.T) {
	wallet := payWallet()
	eachDB(t, payEnv(wallet), func(t *testing.T, h *harness) {
		h.order("1002", "cust", "3", nil)
		customer := newDualAddress()
		if r := h.payIn(customer, 1_000_000, "tx1", nil, ptrTo("1002")); r.Status != 200 || !strings.Contains(string(r.Body), `"success":true`) {
			t.Fatalf("incoming: %d %s", r.Status, r.Body)
		}
		if v := h.payStatus("1002"); v.Status != engine.PaySeen || v.AmountDue != 2_000_000 {
			t.Fatalf("after a partial payment: %+v", v)
		}
		h.confirm("tx1")
		if v := h.payStatus("1002"); v.Status != engine.PayConfirmed || v.AmountDue != 2_000_000 {
			t.Fatalf("after its confirmation: %+v", v)
		}
		h.payIn(customer, 2_500_000, "tx2", nil, ptrTo("1002"))
		h.confirm("tx2")
		v := h.payStatus("1002")
		if v.Status != engine.PayPaid || !v.Final || v.AmountDue != 0 || v.ExpiresAt != nil {
			t.Fatalf("after paying: %+v", v)
		}
		if h.getOrder("1002").Status != core.OrderPaid {
			t.Fatal("order not paid")
		}
		page := string(h.do(http.MethodGet, payLink("1002"), nil, "").Body)
		if !strings.Contains(page, "Paid. Thank you!") || strings.Contains(page, `http-equiv="refresh"`) {
			t.Fatalf("final page:\n%s", page)
		}
	})
}

// Without the secret the routes do not exist; with a single wallet address
// the pages show it without a payment id and say so, and the server said so
// at start.
func TestPayPageOffAndFallback(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		h.order("1003", "cust", "1", nil)
		if r := h.do(http.MethodGet, payLink("1003"), nil, ""); r.Status != 404 {
			t.Fatalf("pay page without a secret: %d", r.Status)
		}
	})
	single := tari.NewAddress(tari.Mainnet, tari.GenerateSecretKey().PublicKey())
	eachDB(t, payEnv(single), func(t *testing.T, h *harness) {
		if !strings.Contains(h.logs.String(), "pay pages fall back to claims") {
			t.Fatalf("no start-up warning: %s", h.logs.String())
		}
		h.order("#1004", "cust", "1", nil)
		v := h.payStatus("#1004")
		if v.PaymentID || v.Address != single.Base58() {
			t.Fatalf("fallback status: %+v", v)
		}
		page := string(h.do(http.MethodGet, payLink("#1004"), nil, "").Body)
		if !strings.Contains(page, "sign a claim") {
			t.Fatalf("fallback page:\n%s", page)
		}
		if !strings.Contains(payLink("#1004"), "/pay/%231004/") {
			t.Fatal(payLink("#1004"))
		}
	})
}

func TestPaymentURI(t *testing.T) {
	a, _ := payWallet().WithPaymentID([]byte("#1 &x"))
	uri := PaymentURI(a, 1_500_000)
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "tari" || u.Host != "mainnet" || u.Path != "/transactions/send" {
		t.Fatalf("%s: %v", uri, err)
	}
	if u.Query().Get("tariAddress") != a.Base58() || u.Query().Get("amount") != "1500000" {
		t.Fatal(uri)
	}
	if strings.Contains(PaymentURI(a, 0), "amount") {
		t.Fatal("amount with nothing due")
	}
	for in, want := range map[core.MicroTari]string{0: "0 XTM", 1: "0.000001 XTM", 2_500_000: "2.5 XTM", 1_000_000: "1 XTM"} {
		if got := formatTari(in); got != want {
			t.Errorf("formatTari(%d) = %q, want %q", in, got, want)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

func newDualAddress() tari.Address {
	return tari.NewDualAddress(tari.Mainnet, tari.GenerateSecretKey().PublicKey(), tari.GenerateSecretKey().PublicKey())
}

// A hot wallet that passes the console wallet's display form of the payment
// id as order_id pays the order its user data names.
func TestWalletDisplayPaymentID(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		h.order("1005", "cust", "1", nil)
		customer := newDualAddress()
		pid := "sender_address(" + customer.Base58() + "), sender_one_sided(true), fee(25), type(PaymentToOther), data(1005)"
		if r := h.payIn(customer, 1_000_000, "tx-display", nil, &pid); r.Status != 200 || !strings.Contains(string(r.Body), `"success":true`) {
			t.Fatalf("incoming: %d %s", r.Status, r.Body)
		}
		if r := h.confirm("tx-display"); r.Status != 200 {
			t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
		if st := h.getOrder("1005").Status; st != core.OrderPaid {
			t.Fatalf("order %s", st)
		}
	})
}

func TestRedactPayToken(t *testing.T) {
	tok := core.PayLinkToken(testPayLinkSecret, "1001")
	for in, want := range map[string]string{
		"/pay/1001/" + tok:                "/pay/1001/…",
		"/pay/1001/" + tok + "/status":    "/pay/1001/…/status",
		"/pay/%231001/" + tok + "/qr.png": "/pay/%231001/…/qr.png",
		"/pay/1001/" + tok + "?x=1":       "/pay/1001/…?x=1",
		"/pay/assets/pay.js?v=1":          "/pay/assets/pay.js?v=1",
		"/api/orders":                     "/api/orders",
	} {
		if got := redactPayToken(in); got != want {
			t.Errorf("redactPayToken(%q) = %q, want %q", in, got, want)
		}
	}
}
