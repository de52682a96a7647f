// Package client is a typed Go client for the Tari payment server's HTTP API
// (docs/http-api.md §3): login with a signed login token, every
// user, read_all, write and super_admin route, the public claim and wallet
// routes, and the plugin-delivery admin routes. taritools is built on it;
// scripts can use it too.
//
// Errors from the server come back as *Error, carrying the HTTP status and
// the server's own message.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tari-payment/tps/core/tari"
)

// Error is a non-2xx answer from the server.
type Error struct {
	Method, Path string
	Status       int
	// Message is the server's "error" field, or its plain-text body.
	Message string
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), msg)
}

// StatusOf returns the HTTP status of a server error, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// UnreachableError means no HTTP answer came back at all.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the payment server at %s: %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// TokenCache stores access tokens between runs (taritools keeps one per
// profile). Implementations must be safe to call from one goroutine at a time.
type TokenCache interface {
	Load() (token string, expires time.Time, ok bool)
	Store(token string, expires time.Time)
	// LastNonce returns the largest login nonce used so far, so the next one
	// is strictly greater even within one millisecond.
	LastNonce() uint64
	SetLastNonce(uint64)
}

// NonceSource is an optional TokenCache extension that allocates nonces
// atomically across processes (taritools locks a file).
type NonceSource interface {
	NextNonce(atLeast uint64) uint64
}

// Client talks to one server as one identity (a key and its address).
type Client struct {
	BaseURL string
	HTTP    *http.Client
	Key     tari.SecretKey
	Address tari.Address
	// Roles asked for at login; the server checks them against its database.
	Roles []string
	Cache TokenCache
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
	nonce   uint64
}

// New makes a client for a server URL such as http://127.0.0.1:8360.
func New(baseURL string, key tari.SecretKey, addr tari.Address, roles []string) *Client {
	return &Client{
		BaseURL: strings.TrimRight(baseURL, "/"),
		HTTP:    &http.Client{Timeout: 30 * time.Second},
		Key:     key,
		Address: addr,
		Roles:   roles,
	}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// nextNonce is the current Unix time in milliseconds, bumped past the last
// nonce used, so two logins in the same second (or millisecond) both work.
func (c *Client) nextNonce() uint64 {
	n := uint64(c.now().UnixMilli())
	if ns, ok := c.Cache.(NonceSource); ok {
		n = ns.NextNonce(max(n, c.nonce+1))
		c.nonce = n
		return n
	}
	last := c.nonce
	if c.Cache != nil {
		last = max(last, c.Cache.LastNonce())
	}
	if n <= last {
		n = last + 1
	}
	c.nonce = n
	if c.Cache != nil {
		c.Cache.SetLastNonce(n)
	}
	return n
}

// Login exchanges a fresh login token for an access token (POST /auth) and
// caches it until shortly before it expires.
func (c *Client) Login(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loginLocked(ctx)
}

func (c *Client) loginLocked(ctx context.Context) (string, error) {
	roles := c.Roles
	if roles == nil {
		roles = []string{"user"}
	}
	login, err := tari.NewLoginToken(c.Key, c.Address, c.nextNonce(), roles)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/auth", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("tpg_auth_token", login)
	body, err := c.do(req)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(body))
	// The server's tokens last 24 h; refresh an hour early rather than
	// parsing claims we cannot verify without the server key.
	c.token, c.expires = token, c.now().Add(23*time.Hour)
	if exp, ok := tokenExpiry(token); ok {
		c.expires = exp.Add(-time.Minute)
	}
	if c.Cache != nil {
		c.Cache.Store(c.token, c.expires)
	}
	return token, nil
}

// tokenExpiry reads the exp claim of a JWT without verifying it (the client
// only uses it to know when to log in again).
func tokenExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	raw, err := decodeSegment(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.Exp == 0 {
		return time.Time{}, false
	}
	return time.Unix(claims.Exp, 0), true
}

// AccessToken returns a valid access token, logging in if needed.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == "" && c.Cache != nil {
		if t, exp, ok := c.Cache.Load(); ok {
			c.token, c.expires = t, exp
		}
	}
	if c.token != "" && c.now().Before(c.expires) {
		return c.token, nil
	}
	return c.loginLocked(ctx)
}

// Logout forgets the cached access token (the server has no revocation).
func (c *Client) Logout() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token, c.expires = "", time.Time{}
	if c.Cache != nil {
		c.Cache.Store("", time.Time{})
	}
}

// do sends req and returns the body of a 2xx answer, or an *Error.
func (c *Client) do(req *http.Request) ([]byte, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, &UnreachableError{URL: c.BaseURL, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, &UnreachableError{URL: c.BaseURL, Err: err}
	}
	if resp.StatusCode/100 != 2 {
		return nil, &Error{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Message: errorMessage(body)}
	}
	return body, nil
}

// errorMessage extracts {"error": "..."} or returns the trimmed text body.
func errorMessage(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return strings.TrimSpace(string(body))
}

// call sends a request; auth adds the access token (retrying once with a new
// login if the cached token was rejected). in is JSON-encoded when non-nil;
// out is decoded from the answer when non-nil.
func (c *Client) call(ctx context.Context, method, path string, auth bool, in, out any) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return err
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if auth {
			tok, err := c.AccessToken(ctx)
			if err != nil {
				return err
			}
			req.Header.Set("tpg_access_token", tok)
		}
		body, err := c.do(req)
		if auth && attempt == 0 && StatusOf(err) == http.StatusUnauthorized {
			c.Logout() // a cached token from another server key or an expired one
			continue
		}
		if err != nil {
			return err
		}
		if out == nil {
			return nil
		}
		if raw, ok := out.(*[]byte); ok {
			*raw = body
			return nil
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)
		}
		return nil
	}
}

// esc escapes one path segment (order ids may contain '#').
func esc(s string) string { return url.PathEscape(s) }
