package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/tari-payment/tps/api"
	"github.com/tari-payment/tps/core/config"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/plugins"
)

// startPlugins loads the shipped plugins (embedded in the binary) and those in
// TPG_PLUGINS_DIR and starts delivering the outbox to them. It returns the
// admin view for the API, the dispatcher's wake-up (called after each commit
// that wrote events) and a stop function, called after the HTTP server
// drained and before the database closes. Pending events stay in the outbox
// across restarts. A shipped plugin that is configured but cannot load is an
// error: the server does not start without it.
//
// TPG_PLUGIN_CACHE_DIR (default <data dir>/plugin-cache) holds the compiled
// modules.
//
// shopifyAuth, when not nil, carries the shipped shopify plugin's requests to
// the shop and adds the server's current Admin API token to them.
//
// actions serves the engine operations plugins are granted (plugin actions).
func startPlugins(ctx context.Context, cfg config.Config, getenv func(string) string, db *store.DB, actions plugins.Engine, log *slog.Logger, shopifyAuth http.RoundTripper) (api.PluginAdmin, func(), func(), error) {
	cacheDir := getenv("TPG_PLUGIN_CACHE_DIR")
	if cacheDir == "" {
		cacheDir = filepath.Join(cfg.DataDir, "plugin-cache")
	}
	var transports map[string]http.RoundTripper
	if shopifyAuth != nil {
		transports = map[string]http.RoundTripper{"shopify": shopifyAuth}
	}
	reload := cfg.PluginsReloadInterval
	if reload == 0 {
		reload = -1 // TPG_PLUGINS_RELOAD_INTERVAL=0: no watching
	}
	mgr, err := plugins.Start(ctx, plugins.Config{
		Transports: transports,
		Dir:        cfg.PluginsDir,
		CacheDir:   cacheDir,
		DB:         db,
		Env: func(k string) (string, bool) {
			v := getenv(k)
			return v, v != ""
		},
		Logger:         log, // the manager tags its own lines component=plugins
		Override:       cfg.PluginsOverride,
		MaxMemoryMB:    cfg.PluginMaxMemoryMB,
		MemoryBudgetMB: cfg.PluginsMemoryBudgetMB,
		StateQuotaKB:   cfg.PluginStateQuotaKB,
		ReloadInterval: reload,
		Actions:        actions,
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w (plugins folder %s, cache %s)", err, cfg.PluginsDir, cacheDir)
	}
	stop := func() {
		if err := mgr.Close(); err != nil {
			log.Warn("stopping plugins", "err", err)
		}
	}
	return pluginAdmin{mgr}, mgr.Notify, stop, nil
}

// pluginAdmin adapts the plugin manager to the API's admin interface.
type pluginAdmin struct{ m *plugins.Manager }

func (a pluginAdmin) Plugins(ctx context.Context) (any, error) { return a.m.Plugins(ctx) }

func (a pluginAdmin) FailedDeliveries(ctx context.Context) (any, error) {
	return a.m.FailedDeliveries(ctx)
}

func (a pluginAdmin) Redeliver(ctx context.Context, id int64) error {
	err := a.m.Redeliver(ctx, id)
	if errors.Is(err, plugins.ErrNotFound) {
		return fmt.Errorf("%w: %d", api.ErrDeliveryNotFound, id)
	}
	return err
}

func (a pluginAdmin) RedeliverAll(ctx context.Context) (int, error) { return a.m.RedeliverAll(ctx) }

func (a pluginAdmin) EnablePlugin(ctx context.Context, id string) (any, error) {
	info, err := a.m.EnablePlugin(ctx, id)
	if errors.Is(err, plugins.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", api.ErrPluginNotFound, id)
	}
	return info, err
}

func (a pluginAdmin) ReloadPlugins(ctx context.Context) (any, error) { return a.m.Reload(ctx) }

func (a pluginAdmin) RemovePlugin(ctx context.Context, id string) error {
	err := a.m.Remove(ctx, id)
	switch {
	case errors.Is(err, plugins.ErrNotFound):
		return fmt.Errorf("%w: %s", api.ErrPluginNotFound, id)
	case errors.Is(err, plugins.ErrInstalled):
		return fmt.Errorf("%w: %v", api.ErrPluginInstalled, err)
	}
	return err
}

func (a pluginAdmin) PluginStates(ctx context.Context) (map[string]string, error) {
	return a.m.States(ctx)
}
