package plugins_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/plugins"
)

// BenchmarkStartup measures Start with both default plugins configured, on a
// cold compilation cache (a fresh directory each time) and a warm one. The
// modules themselves are built beforehand (that is a one-off per source
// change, not part of a start).
func BenchmarkStartup(b *testing.B) {
	db := storetest.SQLite(b)
	env := envMap{"TPG_SHOPIFY_SHOP": "shop.example", "TPG_SHOPIFY_ADMIN_ACCESS_TOKEN": "t", "TPG_PLUGIN_WEBHOOK_URLS": "http://127.0.0.1:1/"}
	cfg := baseConfig(db, env, &logSink{})
	warm := b.TempDir()
	cfg.CacheDir = warm
	mgr := start(b, cfg) // builds the modules if needed and warms the cache
	for _, id := range []string{"shopify", "webhook"} {
		if p := pluginInfo(b, mgr, id); p.State != plugins.StateActive {
			b.Fatalf("%s: %+v", id, p)
		}
	}
	mgr.Close()
	run := func(b *testing.B, cacheDir func() string) {
		for b.Loop() {
			c := cfg
			c.CacheDir = cacheDir()
			m, err := plugins.Start(context.Background(), c)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			m.Close()
			b.StartTimer()
		}
	}
	b.Run("cold", func(b *testing.B) {
		run(b, func() string { return filepath.Join(b.TempDir(), "cache") })
	})
	b.Run("warm", func(b *testing.B) { run(b, func() string { return warm }) })
}
