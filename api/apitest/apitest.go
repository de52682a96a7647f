// Package apitest helps tests (and load tools) drive the payment server over
// HTTP the way real clients do: signed login tokens, signed hot-wallet
// notifications, HMAC-signed Shopify webhooks, and a fake Shopify Admin API.
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apiwire"
	"github.com/tari-payment/tps/core/tari"
)

// The request builders live in apiwire (no testing import, so tools can
// use them); these names keep the tests' spelling.
type (
	// Wallet is a key pair and its mainnet single address.
	Wallet = apiwire.Wallet
	// NewPayment is a hot wallet's payment notification.
	NewPayment = apiwire.NewPayment
)

// NewWallet makes a random wallet.
func NewWallet() Wallet { return apiwire.NewWallet() }

// NextNonce returns a strictly increasing nonce (Unix microseconds).
func NextNonce() uint64 { return apiwire.NextNonce() }

// Auth is the header map carrying an access token.
func Auth(token string) map[string]string { return apiwire.Auth(token) }

// WalletPaymentBody is a signed /wallet/incoming_payment body.
func WalletPaymentBody(hot Wallet, nonce int64, p NewPayment) map[string]any {
	return apiwire.WalletPaymentBody(hot, nonce, p)
}

// WalletConfirmationBody is a signed /wallet/tx_confirmation body.
func WalletConfirmationBody(hot Wallet, nonce int64, txid string) map[string]any {
	return apiwire.WalletConfirmationBody(hot, nonce, txid)
}

// ShopifyHeaders signs body with secret as Shopify does.
func ShopifyHeaders(secret string, body []byte) map[string]string {
	return apiwire.ShopifyHeaders(secret, body)
}

// Client calls one server.
type Client struct {
	T       testing.TB
	BaseURL string
	HTTP    *http.Client
}

// New returns a client for baseURL.
func New(t testing.TB, baseURL string) *Client {
	return &Client{T: t, BaseURL: strings.TrimRight(baseURL, "/"), HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %q: %v", r.Body, err)
	}
}

// Error is the "error" field of a JSON error body.
func (r Response) Error() string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error
}

// Do sends a request. body may be nil, []byte, string or a value to marshal.
// hdr holds extra headers ("tpg_access_token" etc.).
func (c *Client) Do(method, path string, body any, hdr map[string]string) Response {
	c.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.BaseURL+path, rd)
	if err != nil {
		c.T.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// LoginToken signs a login token for w.
func LoginToken(t testing.TB, w Wallet, nonce uint64, roles ...string) string {
	t.Helper()
	if roles == nil {
		roles = []string{}
	}
	tok, err := tari.NewLoginToken(w.Key, w.Addr, nonce, roles)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Login exchanges a fresh login token for an access token, failing the test
// unless the server answers 200.
func (c *Client) Login(w Wallet, roles ...string) string {
	c.T.Helper()
	r := c.Do(http.MethodPost, "/auth", nil, map[string]string{"tpg_auth_token": LoginToken(c.T, w, NextNonce(), roles...)})
	if r.Status != http.StatusOK {
		c.T.Fatalf("login %v: %d %s", roles, r.Status, r.Body)
	}
	return string(r.Body)
}

// Str is a pointer to s.
func Str(s string) *string { return &s }
