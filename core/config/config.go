// Package config reads the server configuration from the environment (and a
// .env file in the working directory), with the reference server's TPG_*
// variable names and defaults plus this project's additions (decisions.md §5).
//
// Load takes a getenv function so tests can inject an environment; LoadEnv
// reads the process environment after loading .env without overriding it.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
)

// DonationAddress is the reference's default payment address, used when
// TPG_PAYMENT_WALLET_ADDRESS is unset.
const DonationAddress = "143UtnSymZykCAm95xAKKKe8nowL6zif8qb1h7yHxgtD9XZ"

// DefaultDatabaseURL is the embedded default database.
const DefaultDatabaseURL = "sqlite://data/tari_store.db"

// Order id field values (TPG_SHOPIFY_ORDER_ID_FIELD).
const (
	OrderIDFieldID   = "id"
	OrderIDFieldName = "name"
)

// Price field values (TPG_SHOPIFY_PRICE_FIELD).
const (
	PriceFieldTotal     = "total"
	PriceFieldSubtotal  = "subtotal"
	PriceFieldLineItems = "line_items"
)

// MinPayLinkSecretLen is the shortest TPG_PAY_LINK_SECRET accepted: the
// secret is all that stands between an order number and its pay page.
const MinPayLinkSecretLen = 16

// Config is the effective configuration. Secrets are kept as given; Summary
// never prints them.
type Config struct {
	Host           string
	Port           int
	DatabaseURL    string
	MaxConnections int
	// PostgresPrepared: PostgreSQL sessions prepare the engine's hot
	// statements (off behind a transaction-mode connection pooler).
	PostgresPrepared bool

	JWTSigningKey      string // secret: 64 hex
	JWTVerificationKey string // 64 hex public key

	PaymentWalletAddress    string // as configured; DonationAddress when unset
	PaymentWalletAddressSet bool

	// PayLinkSecret (TPG_PAY_LINK_SECRET) keys the pay-link tokens
	// (/pay/{order_id}/{token}); empty turns the pay pages off. Secret.
	PayLinkSecret string

	StrictMode                 bool
	DisableWalletWhitelist     bool
	DisableMemoSignatureCheck  bool
	UseXForwardedFor           bool
	UseForwarded               bool
	UnclaimedOrderTimeout      time.Duration
	UnpaidOrderTimeout         time.Duration
	ExpiryCheckInterval        time.Duration
	SkipPreflight              bool
	ShopifyShop                string
	ShopifyAPIVersion          string
	ShopifyAdminAccessToken    string // secret
	ShopifyStorefrontToken     string // secret, unused by the server
	ShopifyAPISecret           string // secret, unused by the server
	ShopifyAPIKey              string // unused by the server
	ShopifyAPIURL              string // Admin API base URL, derived unless overridden
	ShopifyHMACSecret          string // secret
	ShopifyHMACChecks          bool
	ShopifyIPWhitelistEnabled  bool     // false: no IP restriction
	ShopifyIPWhitelist         []net.IP // used only when enabled
	ShopifyOrderIDField        string   // "id" or "name"
	ShopifyPriceField          string   // "total", "subtotal" or "line_items"
	ShopifyCapturePayments     bool
	ShopifyClientID            string // Dev Dashboard app: client-credentials grant
	ShopifyClientSecret        string // secret; also the default webhook HMAC secret
	PluginsDir                 string
	DataDir                    string // where generated files (development keys) go
	ShopifyAdminTokenIsDefault bool

	// Per-client-IP token buckets (see README, "Abuse limits"). A rate of 0
	// disables that budget. Public: every request to /auth, /order/claim and
	// /wallet/send_to. WalletFailures: only failed hot-wallet notifications
	// are charged, so a wallet whose requests authenticate is never limited.
	RateLimitPerSecond               float64
	RateLimitBurst                   int
	RateLimitWalletFailuresPerSecond float64
	RateLimitWalletFailuresBurst     int
	// RateLimitExemptLoopback skips limiting for clients at a loopback
	// address: local tools, and every client of a local proxy whose forwarded
	// header is not trusted (limiting them would throttle all customers as one).
	RateLimitExemptLoopback bool
	// MaxConnectionsPerIP caps the open TCP connections of one peer IP at the
	// listener (TPG_MAX_CONNECTIONS_PER_IP, default 256; 0 disables): one
	// client holding thousands of idle connections cannot exhaust the
	// process's file descriptors.
	MaxConnectionsPerIP int
	// MetricsEnabled serves GET /metrics (TPG_METRICS_ENABLED, default on).
	MetricsEnabled bool

	// Plugin host (plugins/README.md).
	// PluginsOverride (TPG_PLUGINS_OVERRIDE, default none): shipped plugin ids
	// a plugin of the same id in TPG_PLUGINS_DIR may replace.
	PluginsOverride []string
	// PluginMaxMemoryMB (TPG_PLUGIN_MAX_MEMORY_MB, default 64): the most
	// memory one plugin instance may have; larger manifests are clamped.
	PluginMaxMemoryMB int
	// PluginsMemoryBudgetMB (TPG_PLUGINS_MEMORY_BUDGET_MB, default 256): the
	// most memory all plugin instances together may have; a plugin that would
	// pass it is not loaded.
	PluginsMemoryBudgetMB int
	// PluginsReloadInterval (TPG_PLUGINS_RELOAD_INTERVAL, default 2s; 0 = off):
	// how often TPG_PLUGINS_DIR is checked for added, replaced or removed plugins.
	PluginsReloadInterval time.Duration
	// PluginStateQuotaKB (TPG_PLUGIN_STATE_QUOTA_KB, default 1024): the most
	// key-value state (keys plus values) one plugin may keep.
	PluginStateQuotaKB int
}

// LoadEnv loads .env from the working directory (real environment variables
// win) and then reads the process environment.
func LoadEnv() (Config, error) {
	if err := godotenv.Load(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Config{}, fmt.Errorf("reading .env: %w", err)
	}
	return Load(os.Getenv)
}

// Load builds the configuration from getenv. Invalid values are errors (all of
// them are reported together) rather than silent defaults, so a typo in a
// security setting never quietly changes behaviour.
func Load(getenv func(string) string) (Config, error) {
	var errs []error
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	boolean := func(k string, def bool) bool {
		v := get(k)
		if v == "" {
			return def
		}
		b, ok := ParseBool(v)
		if !ok {
			errs = append(errs, fmt.Errorf("%s=%q is not a boolean (use 1/0, true/false, yes/no, on/off)", k, v))
			return def
		}
		return b
	}
	timeout := func(k string, def time.Duration) time.Duration {
		v := get(k)
		if v == "" {
			return def
		}
		d, err := ParseHoursOrDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
			return def
		}
		return d
	}
	str := func(k, def string) string {
		if v := get(k); v != "" {
			return v
		}
		return def
	}

	c := Config{
		Host:        str("TPG_HOST", "127.0.0.1"),
		Port:        8360,
		DatabaseURL: str("TPG_DATABASE_URL", DefaultDatabaseURL),

		MaxConnections:            25,
		JWTSigningKey:             get("TPG_JWT_SIGNING_KEY"),
		JWTVerificationKey:        get("TPG_JWT_VERIFICATION_KEY"),
		StrictMode:                boolean("TPG_STRICT_MODE", true),
		PostgresPrepared:          boolean("TPG_POSTGRES_PREPARED", true),
		DisableWalletWhitelist:    boolean("TPG_DISABLE_WALLET_WHITELIST", false),
		DisableMemoSignatureCheck: boolean("TPG_DISABLE_MEMO_SIGNATURE_CHECK", false),
		UseXForwardedFor:          boolean("TPG_USE_X_FORWARDED_FOR", false),
		UseForwarded:              boolean("TPG_USE_FORWARDED", false),
		UnclaimedOrderTimeout:     timeout("TPG_UNCLAIMED_ORDER_TIMEOUT", 2*time.Hour),
		UnpaidOrderTimeout:        timeout("TPG_UNPAID_ORDER_TIMEOUT", 48*time.Hour),
		ExpiryCheckInterval:       timeout("TPG_EXPIRY_CHECK_INTERVAL", 60*time.Second),
		SkipPreflight:             boolean("TPG_SKIP_PREFLIGHT", false),
		ShopifyShop:               str("TPG_SHOPIFY_SHOP", "example.myshopify.com"),
		ShopifyAPIVersion:         str("TPG_SHOPIFY_API_VERSION", DefaultShopifyAPIVersion),
		ShopifyAdminAccessToken:   str("TPG_SHOPIFY_ADMIN_ACCESS_TOKEN", placeholderAdminToken),
		ShopifyStorefrontToken:    str("TPG_SHOPIFY_STOREFRONT_ACCESS_TOKEN", "00000000000000"),
		ShopifyAPISecret:          str("TPG_SHOPIFY_API_SECRET", "00000000000000"),
		ShopifyAPIKey:             get("TPG_SHOPIFY_API_KEY"),
		ShopifyHMACSecret:         getenv("TPG_SHOPIFY_HMAC_SECRET"), // not trimmed: the secret is bytes
		ShopifyHMACChecks:         boolean("TPG_SHOPIFY_HMAC_CHECKS", true),
		ShopifyCapturePayments:    boolean("TPG_SHOPIFY_CAPTURE_PAYMENTS", false),
		ShopifyClientID:           get("TPG_SHOPIFY_CLIENT_ID"),
		ShopifyClientSecret:       getenv("TPG_SHOPIFY_CLIENT_SECRET"),
	}
	if c.ShopifyHMACSecret == "" {
		// Shopify signs an app's webhooks with the app's client secret.
		c.ShopifyHMACSecret = c.ShopifyClientSecret
	}
	c.ShopifyAdminTokenIsDefault = c.ShopifyAdminAccessToken == "shpat_00000000000000"

	if v := get("TPG_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("TPG_PORT=%q is not a port number", v))
		} else {
			c.Port = p
		}
	}
	if v := get("TPG_MAX_CONNECTIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("TPG_MAX_CONNECTIONS=%q is not a positive integer", v))
		} else {
			c.MaxConnections = n
		}
	}
	if c.ExpiryCheckInterval <= 0 {
		errs = append(errs, errors.New("TPG_EXPIRY_CHECK_INTERVAL must be positive"))
	}
	if v := get("TPG_PAYMENT_WALLET_ADDRESS"); v != "" {
		c.PaymentWalletAddress, c.PaymentWalletAddressSet = v, true
	} else {
		c.PaymentWalletAddress = DonationAddress
	}
	if v := get("TPG_PAY_LINK_SECRET"); v != "" {
		if len(v) < MinPayLinkSecretLen {
			errs = append(errs, fmt.Errorf("TPG_PAY_LINK_SECRET is too short: use at least %d characters (e.g. 32 random hex digits)", MinPayLinkSecretLen))
		} else {
			c.PayLinkSecret = v
		}
	}

	switch v := strings.ToLower(get("TPG_SHOPIFY_ORDER_ID_FIELD")); v {
	case "", OrderIDFieldID:
		c.ShopifyOrderIDField = OrderIDFieldID
	case OrderIDFieldName:
		c.ShopifyOrderIDField = OrderIDFieldName
	default:
		errs = append(errs, fmt.Errorf("TPG_SHOPIFY_ORDER_ID_FIELD=%q must be id or name", v))
		c.ShopifyOrderIDField = OrderIDFieldID
	}
	switch v := strings.ToLower(get("TPG_SHOPIFY_PRICE_FIELD")); v {
	case "", PriceFieldTotal:
		c.ShopifyPriceField = PriceFieldTotal
	case PriceFieldSubtotal:
		c.ShopifyPriceField = PriceFieldSubtotal
	case PriceFieldLineItems, "line":
		c.ShopifyPriceField = PriceFieldLineItems
	default:
		errs = append(errs, fmt.Errorf("TPG_SHOPIFY_PRICE_FIELD=%q must be total, subtotal or line_items", v))
		c.ShopifyPriceField = PriceFieldTotal
	}

	// IP whitelist: unset, empty (D17) or none/false/0 means no restriction.
	// Entries are trimmed (D24); an invalid entry is an error, not dropped.
	if v := get("TPG_SHOPIFY_IP_WHITELIST"); v != "" {
		switch strings.ToLower(v) {
		case "none", "false", "0":
		default:
			c.ShopifyIPWhitelistEnabled = true
			for _, e := range strings.Split(v, ",") {
				e = strings.TrimSpace(e)
				if e == "" {
					continue
				}
				ip := net.ParseIP(e)
				if ip == nil {
					errs = append(errs, fmt.Errorf("TPG_SHOPIFY_IP_WHITELIST: %q is not an IP address", e))
					continue
				}
				c.ShopifyIPWhitelist = append(c.ShopifyIPWhitelist, ip)
			}
			if len(c.ShopifyIPWhitelist) == 0 {
				c.ShopifyIPWhitelistEnabled = false
			}
		}
	}

	if v := get("TPG_SHOPIFY_API_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("TPG_SHOPIFY_API_URL=%q is not an http(s) URL", v))
		}
		c.ShopifyAPIURL = strings.TrimRight(v, "/")
	} else {
		c.ShopifyAPIURL = "https://" + c.ShopifyShop + "/admin/api/" + c.ShopifyAPIVersion
	}

	rate := func(k string, def float64) float64 {
		v := get(k)
		if v == "" {
			return def
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f != f || f > 1e9 {
			errs = append(errs, fmt.Errorf("%s=%q is not a non-negative number of requests per second", k, v))
			return def
		}
		return f
	}
	burst := func(k string, def int) int {
		v := get(k)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			errs = append(errs, fmt.Errorf("%s=%q is not a positive integer", k, v))
			return def
		}
		return n
	}
	c.RateLimitPerSecond = rate("TPG_RATE_LIMIT_PER_SECOND", 10)
	c.RateLimitBurst = burst("TPG_RATE_LIMIT_BURST", 40)
	c.RateLimitWalletFailuresPerSecond = rate("TPG_RATE_LIMIT_WALLET_FAILURES_PER_SECOND", 1)
	c.RateLimitWalletFailuresBurst = burst("TPG_RATE_LIMIT_WALLET_FAILURES_BURST", 30)
	c.RateLimitExemptLoopback = boolean("TPG_RATE_LIMIT_EXEMPT_LOOPBACK", true)
	c.MetricsEnabled = boolean("TPG_METRICS_ENABLED", true)
	c.MaxConnectionsPerIP = 256
	if v := get("TPG_MAX_CONNECTIONS_PER_IP"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > 1_000_000 {
			errs = append(errs, fmt.Errorf("TPG_MAX_CONNECTIONS_PER_IP=%q is not a whole number from 0 (no cap) to 1000000", v))
		} else {
			c.MaxConnectionsPerIP = n
		}
	}

	c.DataDir = DataDirFor(c.DatabaseURL)
	c.PluginsDir = str("TPG_PLUGINS_DIR", filepath.Join(c.DataDir, "plugins"))
	for _, id := range strings.Split(get("TPG_PLUGINS_OVERRIDE"), ",") {
		if id = strings.ToLower(strings.TrimSpace(id)); id != "" {
			c.PluginsOverride = append(c.PluginsOverride, id)
		}
	}
	megabytes := func(k string, def, limit int) int {
		v := get(k)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > limit {
			errs = append(errs, fmt.Errorf("%s=%q is not a whole number of megabytes from 1 to %d", k, v, limit))
			return def
		}
		return n
	}
	c.PluginMaxMemoryMB = megabytes("TPG_PLUGIN_MAX_MEMORY_MB", 64, 4096)
	c.PluginsMemoryBudgetMB = megabytes("TPG_PLUGINS_MEMORY_BUDGET_MB", 256, 65536)
	c.PluginStateQuotaKB = 1024
	if v := get("TPG_PLUGIN_STATE_QUOTA_KB"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 1<<30 {
			errs = append(errs, fmt.Errorf("TPG_PLUGIN_STATE_QUOTA_KB=%q is not a whole number of KiB from 1 to %d", v, 1<<30))
		} else {
			c.PluginStateQuotaKB = n
		}
	}
	c.PluginsReloadInterval = 2 * time.Second
	if v := get("TPG_PLUGINS_RELOAD_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if v == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("TPG_PLUGINS_RELOAD_INTERVAL=%q is not a duration such as 2s (0 turns reloading off)", v))
		} else {
			c.PluginsReloadInterval = d
		}
	}

	return c, errors.Join(errs...)
}

// DataDirFor is the directory that holds the server's files: the SQLite
// file's directory, or ./data for PostgreSQL and in-memory databases.
func DataDirFor(dbURL string) string {
	if p, ok := strings.CutPrefix(dbURL, "sqlite://"); ok {
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		if p != "" && p != ":memory:" && !strings.HasPrefix(p, "file::memory:") {
			return filepath.Dir(p)
		}
	}
	return "data"
}

// ParseBool accepts 1/0, true/false, yes/no, on/off in any case (D16).
func ParseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true, true
	case "0", "false", "no", "off":
		return false, true
	}
	return false, false
}

// ParseHoursOrDuration reads an integer as whole hours (the reference's form)
// or a Go duration such as "90m" or "2s".
func ParseHoursOrDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > 1_000_000 {
			return 0, fmt.Errorf("%q hours is out of range", s)
		}
		return time.Duration(n) * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither whole hours nor a duration like 90m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// Addr is the listen address host:port.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// ShopifyHMACSecretMissing reports the D16 state: checks on, no secret.
func (c Config) ShopifyHMACSecretMissing() bool {
	return c.ShopifyHMACChecks && c.ShopifyHMACSecret == ""
}

// RedactURL hides a password in a database URL.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Summary lists the effective non-secret settings as slog attributes, for the
// startup log. Secrets appear only as "set"/"unset".
func (c Config) Summary() []any {
	setOrNot := func(s string) string {
		if s == "" {
			return "unset"
		}
		return "set"
	}
	wl := "off"
	if c.ShopifyIPWhitelistEnabled {
		ips := make([]string, len(c.ShopifyIPWhitelist))
		for i, ip := range c.ShopifyIPWhitelist {
			ips[i] = ip.String()
		}
		wl = strings.Join(ips, ",")
	}
	return []any{
		slog.String("listen", c.Addr()),
		slog.String("database", RedactURL(c.DatabaseURL)),
		slog.Int("max_connections", c.MaxConnections),
		slog.String("jwt_signing_key", setOrNot(c.JWTSigningKey)),
		slog.String("jwt_verification_key", c.JWTVerificationKey),
		slog.String("payment_wallet_address", c.PaymentWalletAddress),
		slog.String("pay_link_secret", setOrNot(c.PayLinkSecret)),
		slog.Bool("strict_mode", c.StrictMode),
		slog.Bool("disable_wallet_whitelist", c.DisableWalletWhitelist),
		slog.Bool("disable_memo_signature_check", c.DisableMemoSignatureCheck),
		slog.Bool("use_x_forwarded_for", c.UseXForwardedFor),
		slog.Bool("use_forwarded", c.UseForwarded),
		slog.Duration("unclaimed_order_timeout", c.UnclaimedOrderTimeout),
		slog.Duration("unpaid_order_timeout", c.UnpaidOrderTimeout),
		slog.Duration("expiry_check_interval", c.ExpiryCheckInterval),
		slog.String("shopify_shop", c.ShopifyShop),
		slog.String("shopify_api_url", c.ShopifyAPIURL),
		slog.String("shopify_admin_access_token", tokenState(c.ShopifyAdminAccessToken, setOrNot)),
		slog.String("shopify_client_id", c.ShopifyClientID),
		slog.String("shopify_client_secret", setOrNot(c.ShopifyClientSecret)),
		slog.String("shopify_hmac_secret", setOrNot(c.ShopifyHMACSecret)),
		slog.Bool("shopify_hmac_checks", c.ShopifyHMACChecks),
		slog.String("shopify_ip_whitelist", wl),
		slog.String("shopify_order_id_field", c.ShopifyOrderIDField),
		slog.String("shopify_price_field", c.ShopifyPriceField),
		slog.Bool("shopify_capture_payments", c.ShopifyCapturePayments),
		slog.String("plugins_dir", c.PluginsDir),
		slog.Float64("rate_limit_per_second", c.RateLimitPerSecond),
		slog.Int("rate_limit_burst", c.RateLimitBurst),
		slog.Float64("rate_limit_wallet_failures_per_second", c.RateLimitWalletFailuresPerSecond),
		slog.Int("rate_limit_wallet_failures_burst", c.RateLimitWalletFailuresBurst),
		slog.Bool("rate_limit_exempt_loopback", c.RateLimitExemptLoopback),
		slog.Bool("metrics_enabled", c.MetricsEnabled),
		slog.Int("max_connections_per_ip", c.MaxConnectionsPerIP),
	}
}

// tokenState is setOrNot, except that the reference's placeholder default
// token reads as such: it is not a credential the merchant configured.
func tokenState(v string, setOrNot func(string) string) string {
	if v == placeholderAdminToken {
		return "unset (placeholder default)"
	}
	return setOrNot(v)
}

const placeholderAdminToken = "shpat_00000000000000"

// DefaultShopifyAPIVersion is a currently supported Admin API version.
const DefaultShopifyAPIVersion = "2026-10"

// ShopifyClientCredentials reports whether the app's client id and secret
// are set: the server then obtains its Admin API tokens itself.
func (c Config) ShopifyClientCredentials() bool {
	return c.ShopifyClientID != "" && c.ShopifyClientSecret != ""
}

// ShopifyAdminConfigured reports whether Admin API calls can authenticate:
// app client credentials or a fixed (non-placeholder) token.
func (c Config) ShopifyAdminConfigured() bool {
	return c.ShopifyClientCredentials() || !c.ShopifyAdminTokenIsDefault
}
