package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr() != "127.0.0.1:8360" || c.DatabaseURL != DefaultDatabaseURL || !c.StrictMode || !c.ShopifyHMACChecks {
		t.Fatalf("defaults: %+v", c)
	}
	if c.UnclaimedOrderTimeout != 2*time.Hour || c.UnpaidOrderTimeout != 48*time.Hour || c.ExpiryCheckInterval != time.Minute {
		t.Fatalf("timeouts: %v %v %v", c.UnclaimedOrderTimeout, c.UnpaidOrderTimeout, c.ExpiryCheckInterval)
	}
	if c.PaymentWalletAddress != DonationAddress || c.PaymentWalletAddressSet {
		t.Fatal("payment address default")
	}
	if c.ShopifyAPIURL != "https://example.myshopify.com/admin/api/2026-10" {
		t.Fatal(c.ShopifyAPIURL)
	}
	if c.DataDir != "data" || c.PluginsDir != "data/plugins" {
		t.Fatal(c.DataDir, c.PluginsDir)
	}
	if !c.ShopifyHMACSecretMissing() || c.ShopifyIPWhitelistEnabled {
		t.Fatal("hmac/whitelist defaults")
	}
}

func TestBooleansAnyCase(t *testing.T) {
	for v, want := range map[string]bool{"1": true, "TRUE": true, "Yes": true, "on": true, "0": false, "False": false, "NO": false, "off": false} {
		c, err := Load(env(map[string]string{"TPG_SHOPIFY_HMAC_CHECKS": v, "TPG_STRICT_MODE": v}))
		if err != nil || c.ShopifyHMACChecks != want || c.StrictMode != want {
			t.Errorf("%q: %v %v %v", v, c.ShopifyHMACChecks, c.StrictMode, err)
		}
	}
	if _, err := Load(env(map[string]string{"TPG_SHOPIFY_HMAC_CHECKS": "ture"})); err == nil || !strings.Contains(err.Error(), "TPG_SHOPIFY_HMAC_CHECKS") {
		t.Fatalf("invalid boolean accepted: %v", err)
	}
}

func TestTimeouts(t *testing.T) {
	c, err := Load(env(map[string]string{"TPG_UNCLAIMED_ORDER_TIMEOUT": "3", "TPG_UNPAID_ORDER_TIMEOUT": "90m", "TPG_EXPIRY_CHECK_INTERVAL": "2s"}))
	if err != nil || c.UnclaimedOrderTimeout != 3*time.Hour || c.UnpaidOrderTimeout != 90*time.Minute || c.ExpiryCheckInterval != 2*time.Second {
		t.Fatal(c.UnclaimedOrderTimeout, c.UnpaidOrderTimeout, c.ExpiryCheckInterval, err)
	}
	for _, bad := range []string{"-1", "soon", "-5m"} {
		if _, err := Load(env(map[string]string{"TPG_UNPAID_ORDER_TIMEOUT": bad})); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := Load(env(map[string]string{"TPG_EXPIRY_CHECK_INTERVAL": "0"})); err == nil {
		t.Error("zero interval accepted")
	}
}

func TestWhitelist(t *testing.T) {
	c, err := Load(env(map[string]string{"TPG_SHOPIFY_IP_WHITELIST": " 10.0.0.1 , ::1"}))
	if err != nil || !c.ShopifyIPWhitelistEnabled || len(c.ShopifyIPWhitelist) != 2 || c.ShopifyIPWhitelist[0].String() != "10.0.0.1" {
		t.Fatal(c.ShopifyIPWhitelist, err)
	}
	for _, off := range []string{"", "none", "FALSE", "0", " , "} {
		c, err := Load(env(map[string]string{"TPG_SHOPIFY_IP_WHITELIST": off}))
		if err != nil || c.ShopifyIPWhitelistEnabled {
			t.Errorf("%q: enabled=%v err=%v", off, c.ShopifyIPWhitelistEnabled, err)
		}
	}
	if _, err := Load(env(map[string]string{"TPG_SHOPIFY_IP_WHITELIST": "10.0.0.1,nope"})); err == nil {
		t.Fatal("invalid entry accepted")
	}
}

func TestEnumsAndOthers(t *testing.T) {
	c, err := Load(env(map[string]string{
		"TPG_SHOPIFY_ORDER_ID_FIELD": "NAME", "TPG_SHOPIFY_PRICE_FIELD": "Line", "TPG_PORT": "9000",
		"TPG_DATABASE_URL": "sqlite:///tmp/x/db.sqlite", "TPG_SHOPIFY_API_URL": "http://127.0.0.1:1/admin/",
		"TPG_PAYMENT_WALLET_ADDRESS": "abc",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ShopifyOrderIDField != "name" || c.ShopifyPriceField != "line_items" || c.Port != 9000 || c.DataDir != "/tmp/x" ||
		c.ShopifyAPIURL != "http://127.0.0.1:1/admin" || !c.PaymentWalletAddressSet {
		t.Fatalf("%+v", c)
	}
	for k, v := range map[string]string{"TPG_PORT": "x", "TPG_SHOPIFY_PRICE_FIELD": "gross", "TPG_SHOPIFY_API_URL": "ftp://x", "TPG_MAX_CONNECTIONS": "0"} {
		if _, err := Load(env(map[string]string{k: v})); err == nil {
			t.Errorf("%s=%s accepted", k, v)
		}
	}
}

func TestSummaryHasNoSecrets(t *testing.T) {
	c, _ := Load(env(map[string]string{
		"TPG_JWT_SIGNING_KEY": "secretsecret1", "TPG_SHOPIFY_HMAC_SECRET": "secretsecret2",
		"TPG_SHOPIFY_ADMIN_ACCESS_TOKEN": "secretsecret3", "TPG_DATABASE_URL": "postgres://u:secretsecret4@h/db",
		"TPG_PAY_LINK_SECRET": "secretsecret5-long-enough",
	}))
	if c.PayLinkSecret != "secretsecret5-long-enough" {
		t.Fatal("pay link secret not read")
	}
	var b strings.Builder
	for _, a := range c.Summary() {
		b.WriteString(a.(interface{ String() string }).String())
	}
	if strings.Contains(b.String(), "secretsecret") {
		t.Fatal(b.String())
	}
}

func TestLoadEnvReadsDotEnvWithoutOverriding(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("TPG_PORT=9123\nTPG_HOST=0.0.0.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TPG_HOST", "127.0.0.2")
	c, err := LoadEnv()
	if err != nil || c.Port != 9123 || c.Host != "127.0.0.2" {
		t.Fatalf("%v %v %v", c.Port, c.Host, err)
	}
	os.Unsetenv("TPG_PORT") // godotenv set it for the process
}

func TestPayLinkSecret(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.PayLinkSecret != "" {
		t.Fatalf("default: %q %v", c.PayLinkSecret, err)
	}
	if _, err := Load(env(map[string]string{"TPG_PAY_LINK_SECRET": "short"})); err == nil || !strings.Contains(err.Error(), "TPG_PAY_LINK_SECRET") {
		t.Fatalf("a short secret was accepted: %v", err)
	}
}

// With a Dev Dashboard app's client id and secret, the Admin API is
// configured and webhooks verify with the client secret unless an HMAC
// secret is set.
func TestShopifyAppCredentials(t *testing.T) {
	env := map[string]string{"TPG_SHOPIFY_CLIENT_ID": "cid", "TPG_SHOPIFY_CLIENT_SECRET": "csecret"}
	c, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !c.ShopifyClientCredentials() || !c.ShopifyAdminConfigured() || c.ShopifyHMACSecret != "csecret" || c.ShopifyAPIVersion != "2026-10" {
		t.Fatalf("%+v", c)
	}
	env["TPG_SHOPIFY_HMAC_SECRET"] = "other"
	if c, _ = Load(func(k string) string { return env[k] }); c.ShopifyHMACSecret != "other" {
		t.Fatal("an explicit HMAC secret must win")
	}
	c, _ = Load(func(k string) string { return map[string]string{"TPG_SHOPIFY_CLIENT_ID": "cid"}[k] })
	if c.ShopifyClientCredentials() || c.ShopifyAdminConfigured() {
		t.Fatal("a client id without its secret configures nothing")
	}
	for _, a := range c.Summary() {
		if strings.Contains(fmt.Sprint(a), "csecret") {
			t.Fatal("secret in the summary")
		}
	}
}

func TestPluginSettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.PluginsOverride != nil || c.PluginMaxMemoryMB != 64 || c.PluginsMemoryBudgetMB != 256 || c.PluginsReloadInterval != 2*time.Second {
		t.Fatalf("defaults: %v %d %d %v", c.PluginsOverride, c.PluginMaxMemoryMB, c.PluginsMemoryBudgetMB, c.PluginsReloadInterval)
	}
	c, err = Load(env(map[string]string{"TPG_PLUGINS_OVERRIDE": " Shopify, ,webhook", "TPG_PLUGIN_MAX_MEMORY_MB": "32",
		"TPG_PLUGINS_MEMORY_BUDGET_MB": "100", "TPG_PLUGINS_RELOAD_INTERVAL": "0"}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.PluginsOverride, ",") != "shopify,webhook" || c.PluginMaxMemoryMB != 32 || c.PluginsMemoryBudgetMB != 100 || c.PluginsReloadInterval != 0 {
		t.Fatalf("set: %v %d %d %v", c.PluginsOverride, c.PluginMaxMemoryMB, c.PluginsMemoryBudgetMB, c.PluginsReloadInterval)
	}
	for k, v := range map[string]string{"TPG_PLUGIN_MAX_MEMORY_MB": "0", "TPG_PLUGINS_MEMORY_BUDGET_MB": "lots", "TPG_PLUGINS_RELOAD_INTERVAL": "-1s"} {
		if _, err := Load(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}
