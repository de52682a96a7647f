package config

import (
	"strings"
	"testing"
)

func TestRateLimitAndMetricsSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimitPerSecond != 10 || c.RateLimitBurst != 40 || c.RateLimitWalletFailuresPerSecond != 1 ||
		c.RateLimitWalletFailuresBurst != 30 || !c.RateLimitExemptLoopback || !c.MetricsEnabled {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = Load(env(map[string]string{"TPG_RATE_LIMIT_PER_SECOND": "0.5", "TPG_RATE_LIMIT_BURST": "2",
		"TPG_RATE_LIMIT_WALLET_FAILURES_PER_SECOND": "0", "TPG_RATE_LIMIT_EXEMPT_LOOPBACK": "no", "TPG_METRICS_ENABLED": "off"}))
	if err != nil || c.RateLimitPerSecond != 0.5 || c.RateLimitBurst != 2 || c.RateLimitWalletFailuresPerSecond != 0 ||
		c.RateLimitExemptLoopback || c.MetricsEnabled {
		t.Fatalf("%v %+v", err, c)
	}
	_, err = Load(env(map[string]string{"TPG_RATE_LIMIT_PER_SECOND": "-1", "TPG_RATE_LIMIT_BURST": "0",
		"TPG_RATE_LIMIT_WALLET_FAILURES_PER_SECOND": "NaN", "TPG_RATE_LIMIT_WALLET_FAILURES_BURST": "many"}))
	for _, k := range []string{"TPG_RATE_LIMIT_PER_SECOND", "TPG_RATE_LIMIT_BURST", "TPG_RATE_LIMIT_WALLET_FAILURES_PER_SECOND", "TPG_RATE_LIMIT_WALLET_FAILURES_BURST"} {
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s not reported: %v", k, err)
		}
	}
}
