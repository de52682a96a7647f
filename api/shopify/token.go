package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TokenSource hands out the Admin API access token. Invalidate tells it a
// token was refused (HTTP 401) so the next Token call fetches a new one.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Invalidate(token string)
}

// StaticToken is a fixed Admin API token (a custom app made before 2026).
type StaticToken string

func (s StaticToken) Token(context.Context) (string, error) { return string(s), nil }
func (StaticToken) Invalidate(string)                       {}

// renewMargin is how long before its expiry a token is replaced, so a call
// never starts with a token about to lapse.
const renewMargin = 5 * time.Minute

// ClientCredentials obtains Admin API tokens with the OAuth client-credentials
// grant of a Dev Dashboard app (POST https://<shop>/admin/oauth/access_token)
// and renews them before they expire. Safe for concurrent use; one fetch at a
// time. The token and the secret are never logged or put in an error.
type ClientCredentials struct {
	TokenURL     string // https://<shop>/admin/oauth/access_token
	ClientID     string
	ClientSecret string
	HTTP         *http.Client
	Now          func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
	scope   string
}

// NewClientCredentials returns a source for the shop behind the Admin API base
// URL (https://<shop>/admin/api/<version>); the token endpoint is on the same
// host.
func NewClientCredentials(adminBaseURL, clientID, clientSecret string) (*ClientCredentials, error) {
	u, err := url.Parse(adminBaseURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("shopify: cannot derive the token endpoint from %q", adminBaseURL)
	}
	return &ClientCredentials{
		TokenURL: u.Scheme + "://" + u.Host + "/admin/oauth/access_token",
		ClientID: clientID, ClientSecret: clientSecret,
		HTTP: &http.Client{Timeout: 30 * time.Second},
	}, nil
}

func (c *ClientCredentials) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Token returns a token valid for at least renewMargin, fetching one if needed.
func (c *ClientCredentials) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Add(renewMargin).Before(c.expires) {
		return c.token, nil
	}
	return c.fetchLocked(ctx)
}

// Invalidate drops token if it is still the current one (a concurrent caller
// may already have replaced it).
func (c *ClientCredentials) Invalidate(token string) {
	c.mu.Lock()
	if c.token == token {
		c.token = ""
	}
	c.mu.Unlock()
}

// Scope is the comma-separated list of scopes granted with the last token.
func (c *ClientCredentials) Scope() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.scope
}

func (c *ClientCredentials) fetchLocked(ctx context.Context) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", &Error{Detail: "requesting an access token: " + err.Error()}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		// Shopify's error body names the problem (invalid_client, shop not
		// installed) and never echoes the secret.
		return "", &Error{Status: resp.StatusCode, Detail: "requesting an access token: " + truncate(strings.TrimSpace(string(raw)), 200),
			Permanent: resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests}
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil || tok.AccessToken == "" {
		return "", &Error{Detail: "the access token answer has no access_token"}
	}
	if tok.ExpiresIn <= 0 {
		tok.ExpiresIn = 24 * 3600 // Shopify documents 24 h
	}
	c.token, c.scope = tok.AccessToken, tok.Scope
	c.expires = c.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	return c.token, nil
}

// Transport adds the Admin API token to every request for Host and, when
// Shopify answers 401, renews the token once and sends the request again.
// Requests to other hosts pass through untouched, so the token never leaves
// for anywhere but the shop.
type Transport struct {
	Host   string // the shop's host[:port]
	Source TokenSource
	Base   http.RoundTripper // nil: http.DefaultTransport
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Host, t.Host) || req.URL.Path == "/admin/oauth/access_token" {
		return t.base().RoundTrip(req)
	}
	send := func() (*http.Response, string, error) {
		tok, err := t.Source.Token(req.Context())
		if err != nil {
			return nil, "", err
		}
		r := req.Clone(req.Context())
		if req.GetBody != nil {
			if r.Body, err = req.GetBody(); err != nil {
				return nil, "", err
			}
		}
		r.Header.Set("X-Shopify-Access-Token", tok)
		resp, err := t.base().RoundTrip(r)
		return resp, tok, err
	}
	resp, tok, err := send()
	if err != nil || resp.StatusCode != http.StatusUnauthorized || (req.Body != nil && req.GetBody == nil) {
		return resp, err
	}
	// The token was revoked or expired early: renew once, try once more.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	t.Source.Invalidate(tok)
	resp, _, err = send()
	return resp, err
}
