// Package apitest helps tests (and load tools) drive the payment server over
// HTTP the way real clients do: signed login tokens, signed hot-wallet
// notifications, HMAC-signed Shopify webhooks, and a fake Shopify Admin API.
package apitest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/tari"
)

// Wallet is a key pair and its mainnet single address.
type Wallet struct {
	Key  tari.SecretKey
	Addr tari.Address
}

// NewWallet makes a random wallet.
func NewWallet() Wallet {
	k := tari.GenerateSecretKey()
	return Wallet{Key: k, Addr: tari.NewAddress(tari.Mainnet, k.PublicKey())}
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

// nonces makes login nonces strictly increasing within a process.
var (
	nonceMu   sync.Mutex
	lastNonce uint64
)

// NextNonce returns a strictly increasing nonce (Unix microseconds).
func NextNonce() uint64 {
	nonceMu.Lock()
	defer nonceMu.Unlock()
	n := uint64(time.Now().UnixMicro())
	if n <= lastNonce {
		n = lastNonce + 1
	}
	lastNonce = n
	return n
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

// Auth is the header map carrying an access token.
func Auth(token string) map[string]string { return map[string]string{"tpg_access_token": token} }

// NewPayment is a hot wallet's payment notification.
type NewPayment struct {
	Sender  tari.Address
	Amount  int64
	TxID    string
	Memo    *string
	OrderID *string
}

// WalletPaymentBody is a signed /wallet/incoming_payment body.
func WalletPaymentBody(hot Wallet, nonce int64, p NewPayment) map[string]any {
	payload := tari.PaymentPayloadJSON(p.Sender, p.Amount, p.TxID, p.Memo, p.OrderID)
	sig := tari.SignWallet(hot.Key, hot.Addr, nonce, payload)
	return map[string]any{
		"payment": map[string]any{"sender": p.Sender.Base58(), "amount": p.Amount, "txid": p.TxID, "memo": p.Memo, "order_id": p.OrderID},
		"auth":    map[string]any{"address": hot.Addr.Base58(), "nonce": nonce, "signature": sig.Hex()},
	}
}

// WalletConfirmationBody is a signed /wallet/tx_confirmation body.
func WalletConfirmationBody(hot Wallet, nonce int64, txid string) map[string]any {
	sig := tari.SignWallet(hot.Key, hot.Addr, nonce, tari.ConfirmationPayloadJSON(txid))
	return map[string]any{
		"confirmation": map[string]any{"txid": txid},
		"auth":         map[string]any{"address": hot.Addr.Base58(), "nonce": nonce, "signature": sig.Hex()},
	}
}

// ShopifyHeaders signs body with secret as Shopify does.
func ShopifyHeaders(secret string, body []byte) map[string]string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return map[string]string{"X-Shopify-Hmac-Sha256": base64.StdEncoding.EncodeToString(mac.Sum(nil))}
}

// Str is a pointer to s.
func Str(s string) *string { return &s }
