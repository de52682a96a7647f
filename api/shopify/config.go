package shopify

import (
	"net/http"
	"net/url"

	"github.com/tari-payment/tps/core/config"
)

// TokensFromConfig returns the token source the configuration asks for: the
// client-credentials grant when the app's client id and secret are set (the
// way apps are connected since 2026), else the fixed
// TPG_SHOPIFY_ADMIN_ACCESS_TOKEN.
func TokensFromConfig(cfg config.Config) TokenSource {
	if cfg.ShopifyClientCredentials() {
		if cc, err := NewClientCredentials(cfg.ShopifyAPIURL, cfg.ShopifyClientID, cfg.ShopifyClientSecret); err == nil {
			return cc
		}
	}
	return StaticToken(cfg.ShopifyAdminAccessToken)
}

// NewFromConfig returns the Admin API client for the configuration, using
// tokens (nil: TokensFromConfig).
func NewFromConfig(cfg config.Config, tokens TokenSource) *Client {
	if tokens == nil {
		tokens = TokensFromConfig(cfg)
	}
	return NewWithTokens(cfg.ShopifyAPIURL, tokens, nil)
}

// PluginTransport returns the transport that gives the shipped shopify
// plugin's requests to the shop the current token (see plugins.Config
// Transports), or nil when no Admin credential is configured.
func PluginTransport(cfg config.Config, tokens TokenSource) http.RoundTripper {
	if !cfg.ShopifyAdminConfigured() {
		return nil
	}
	u, err := url.Parse(cfg.ShopifyAPIURL)
	if err != nil || u.Host == "" {
		return nil
	}
	return &Transport{Host: u.Host, Source: tokens}
}
