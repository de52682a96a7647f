// Package plugins is the WebAssembly plugin host of the payment server. It
// loads plugins (a .wasm module plus a JSON manifest) shipped with the server
// and from TPG_PLUGINS_DIR, runs each in its own sandboxed wazero runtime
// (no filesystem, environment or sockets; HTTP only to granted hosts through
// the host; a memory cap and a per-event deadline), and feeds them events
// through core/outbox, so every event reaches every subscribed plugin at
// least once, in order, surviving restarts. The ABI is in ABI.md.
package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
)

// Config configures the plugin host.
type Config struct {
	// Dir is the merchant's plugin folder (TPG_PLUGINS_DIR). Missing is fine.
	Dir string
	// CacheDir holds the wazero compilation cache. Protect it: cached code
	// is trusted.
	CacheDir string
	// DB is the database whose outbox is delivered.
	DB *store.DB
	// Env looks up environment variables; nil means os.LookupEnv. Plugin
	// settings are TPG_PLUGIN_<ID>_<KEY>; TPG_PLUGINS_DISABLE is a comma list
	// of plugin ids not to load (e.g. "shopify,webhook").
	Env func(string) (string, bool)
	// Logger receives host and plugin logs; nil means slog.Default().
	Logger *slog.Logger
	// HTTPClient sends plugin HTTP requests; nil means a client with a 30 s
	// timeout. Its CheckRedirect is replaced per plugin.
	HTTPClient *http.Client
	// Transports replaces, per plugin id, the transport under HTTPClient
	// (e.g. one that adds a credential for one host; see clientBase).
	Transports map[string]http.RoundTripper
	// NoDefaults skips the shipped plugins (tests of other packages).
	NoDefaults bool
	// CrashLimit disables a plugin after this many crashes (trap, timeout,
	// memory exhaustion) in a row; default 10, a little over the delivery
	// attempts, so one poison event is parked without disabling the plugin
	// but a plugin that crashes on everything is stopped.
	CrashLimit int
	// Delivery tunes the outbox dispatcher (retries, backoff, polling).
	Delivery outbox.Options
	// Override lists the shipped plugin ids that a plugin of the same id in
	// Dir may replace (TPG_PLUGINS_OVERRIDE). The replacement reads at most
	// the shipped manifest's env keys and reaches at most its hosts.
	Override []string
	// MaxMemoryMB caps one plugin instance's memory; a manifest asking for
	// more is clamped, with a warning. Default 64.
	MaxMemoryMB int
	// MemoryBudgetMB caps the memory of all plugin instances together; a
	// plugin that would pass it is not loaded (broken). Default 256.
	MemoryBudgetMB int
	// ReloadInterval is how often Dir is checked for added, replaced or
	// removed plugins; a change is applied once it has stayed the same for
	// one interval (a file still being copied is not loaded). 0 means 1 s;
	// negative turns the watching off (Reload still works).
	ReloadInterval time.Duration
	// StateQuotaKB caps one plugin's key-value state (keys plus values,
	// TPG_PLUGIN_STATE_QUOTA_KB); 0 means 1024 KiB.
	StateQuotaKB int
	// Actions runs the engine operations plugins call when their manifest
	// grants them (actions.go); nil offers none (every call fails).
	Actions Engine
}

// Plugin states reported by Plugins.
const (
	StateActive       = "active"       // loaded and receiving events
	StateDisabled     = "disabled"     // kept crashing; events wait until re-enabled
	StateUnconfigured = "unconfigured" // required configuration missing; subscribes to nothing
	StateBroken       = "broken"       // could not be loaded; see Error
	StateOff          = "off"          // listed in TPG_PLUGINS_DISABLE
	StateRemoved      = "removed"      // has a delivery cursor but is no longer installed
)

// ErrNotFound is returned by the admin methods for an unknown id.
var ErrNotFound = outbox.ErrNotFound

// PluginInfo is one plugin as the admin API shows it.
type PluginInfo struct {
	ID                 string     `json:"id"`
	Version            string     `json:"version"`
	ABI                int        `json:"abi"`
	Description        string     `json:"description"`
	Source             string     `json:"source"` // "default" (shipped) or "directory"
	Path               string     `json:"path"`
	SHA256             string     `json:"sha256"`
	Events             []string   `json:"events"`
	HTTPHosts          []string   `json:"http_hosts"`
	State              string     `json:"state"`
	Error              string     `json:"error"` // why broken, unconfigured or disabled
	Position           int64      `json:"position"`
	Pending            int64      `json:"pending"`
	Failed             int64      `json:"failed"`
	Attempts           int        `json:"attempts"`
	NextAttemptAt      *time.Time `json:"next_attempt_at"`
	LastError          string     `json:"last_error"`
	ConsecutiveCrashes int        `json:"consecutive_crashes"`

	Schedule string   `json:"schedule,omitempty"` // the manifest's schedule.every: a Tick each period
	Actions  []string `json:"actions,omitempty"`  // the engine actions the manifest grants
}

// FailedDelivery is an event parked for a plugin after its attempts ran out.
type FailedDelivery struct {
	ID        int64     `json:"id"` // pass to Redeliver
	PluginID  string    `json:"plugin_id"`
	EventID   string    `json:"event_id"`
	EventType string    `json:"event_type"`
	EventSeq  int64     `json:"event_seq"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	State     string    `json:"state"` // failed, or redeliver while queued
	FailedAt  time.Time `json:"failed_at"`
}

// entry is what the manager knows of one plugin, loaded or not.
type entry struct {
	info   PluginInfo
	plugin *plugin // nil unless loaded
	pages  uint32  // memory granted to plugin
	fp     string  // fingerprint of the files it came from (spec.fp)
	extra  bool    // a refused or duplicate folder plugin, listed under id@path
}

// Manager owns the loaded plugins and their delivery loops.
type Manager struct {
	cfg   Config
	log   *slog.Logger
	disp  *outbox.Dispatcher
	cache wazero.CompilationCache

	mu      sync.Mutex // guards entries and closed
	entries map[string]*entry
	closed  bool

	// syncMu serialises loading: the startup load, the folder watcher's
	// reloads and Reload.
	syncMu    sync.Mutex
	usedPages uint32 // memory granted to loaded plugins; guarded by syncMu
	lastSeen  string // folder fingerprint at the last sync; guarded by syncMu
	stopWatch chan struct{}
	watchDone chan struct{}
}

// Start loads every plugin (the shipped ones, embedded in the server, and
// those in TPG_PLUGINS_DIR), compiles them (from the disk cache when warm),
// registers them with the outbox, starts delivery and then watches the folder
// (see Reload). A shipped plugin that is configured but cannot load fails
// Start, saying what to fix; a broken folder plugin is logged and reported by
// Plugins, never fatal.
func Start(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.DB == nil {
		return nil, errors.New("plugins: Config.DB is required")
	}
	if cfg.Env == nil {
		cfg.Env = os.LookupEnv
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join("data", "plugin-cache")
	}
	if cfg.MaxMemoryMB <= 0 {
		cfg.MaxMemoryMB = 64
	}
	if cfg.MemoryBudgetMB <= 0 {
		cfg.MemoryBudgetMB = 256
	}
	if cfg.ReloadInterval == 0 {
		cfg.ReloadInterval = time.Second
	}
	if cfg.StateQuotaKB <= 0 {
		cfg.StateQuotaKB = DefaultStateQuota >> 10
	}
	if cfg.CrashLimit <= 0 {
		cfg.CrashLimit = 10
	}
	if cfg.Delivery.Logger == nil {
		cfg.Delivery.Logger = cfg.Logger
	}
	if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("plugins: cache dir: %w", err)
	}
	cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(cfg.CacheDir, "wazero"))
	if err != nil {
		return nil, fmt.Errorf("plugins: compilation cache: %w", err)
	}
	mgr := &Manager{cfg: cfg, log: cfg.Logger.With("component", "plugins"), cache: cache, entries: map[string]*entry{},
		disp: outbox.New(cfg.DB, cfg.Delivery), stopWatch: make(chan struct{}), watchDone: make(chan struct{})}
	start := time.Now()
	if err := mgr.sync(ctx, true); err != nil {
		mgr.disp.Close()
		mgr.closePlugins()
		cache.Close(context.Background())
		return nil, err
	}
	mgr.disp.Start()
	mgr.log.Info("plugins ready", "active", mgr.activeIDs(), "took", time.Since(start).Round(time.Millisecond))
	go mgr.watch()
	return mgr, nil
}

func (mgr *Manager) activeIDs() []string {
	mgr.mu.Lock()
	defer mgr.mu.Unlock()
	var active []string
	for id, e := range mgr.entries {
		if e.plugin != nil {
			active = append(active, id)
		}
	}
	sort.Strings(active)
	return active
}

func fill(info *PluginInfo, m *Manifest) {
	info.ID, info.Version, info.ABI, info.Description = m.ID, m.Version, m.ABI, m.Description
	info.Events = append([]string{}, m.Events...)
	info.HTTPHosts = append([]string{}, m.HTTP...)
	if m.Schedule != nil {
		info.Schedule = m.Schedule.Every
	}
	info.Actions = append([]string(nil), m.Actions...)
}

// loadOne verifies, compiles and warms one plugin.
func (mgr *Manager) loadOne(ctx context.Context, sp *spec, info *PluginInfo, cfg func(string) (string, bool)) (*plugin, error) {
	m := sp.m
	wasm := sp.wasm
	if wasm == nil {
		var err error
		if wasm, err = os.ReadFile(sp.wasmPath); err != nil {
			return nil, err
		}
	}
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, fmt.Errorf("%s is not a WebAssembly module (it does not start with \\0asm)", filepath.Base(sp.wasmPath))
	}
	if err := checkSHA256(m, wasm); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	grants := append([]string{}, m.HTTP...)
	for _, key := range m.HTTPFrom {
		v, _ := cfg(key)
		for _, item := range strings.Split(v, ",") {
			if g := grantHost(item); g != "" && !slices.Contains(grants, g) {
				grants = append(grants, g)
			}
		}
	}
	info.HTTPHosts = grants
	info.SHA256 = hex.EncodeToString(sum[:])
	pl := &plugin{
		m: m, source: sp.source, path: sp.wasmPath, hash: info.SHA256[:12],
		log:    mgr.cfg.Logger.With("plugin", m.ID),
		config: cfg, grants: grants, client: newClient(mgr.cfg.clientBase(m.ID), grants),
		timeout: time.Duration(m.Limits.TimeoutMS) * time.Millisecond, crashCap: mgr.cfg.CrashLimit,
		onCrash: mgr.crashed,
		state:   &stateStore{db: mgr.cfg.DB, pluginID: m.ID, quota: int64(mgr.cfg.StateQuotaKB) << 10},
		act:     &actionHost{engine: mgr.cfg.Actions, db: mgr.cfg.DB},
	}
	if err := pl.compile(ctx, wasm, mgr.cache); err != nil {
		pl.close()
		return nil, err
	}
	if err := checkRouteExport(pl.compiled, m); err != nil {
		pl.close()
		return nil, err
	}
	// Instantiate now so the first event does not pay for it and a module
	// that cannot even initialise is reported when it is loaded.
	pl.mu.Lock()
	err := pl.instantiate(ctx)
	pl.mu.Unlock()
	if err != nil {
		pl.close()
		return nil, err
	}
	return pl, nil
}

// configFunc resolves a plugin's config keys: KEY → TPG_PLUGIN_<ID>_<KEY>;
// a whole TPG_* name only if the shipped manifest of that id grants it.
func (mgr *Manager) configFunc(m *Manifest, trusted *Manifest) func(string) (string, bool) {
	prefix := "TPG_PLUGIN_" + envName(m.ID) + "_"
	return func(key string) (string, bool) {
		if strings.HasPrefix(key, "TPG_") {
			if trusted == nil || !slices.Contains(trusted.Env, key) || !slices.Contains(m.Env, key) {
				return "", false
			}
			return mgr.cfg.Env(key)
		}
		return mgr.cfg.Env(prefix + envName(key))
	}
}

func envName(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "-", "_")) }

// missingConfig lists the manifest's required keys that are unset or empty.
func missingConfig(m *Manifest, cfg func(string) (string, bool)) []string {
	var missing []string
	for _, req := range m.Requires {
		ok := false
		var names []string
		for _, alt := range strings.Split(req, "|") {
			alt = strings.TrimSpace(alt)
			if v, found := cfg(alt); found && strings.TrimSpace(v) != "" {
				ok = true
			}
			if strings.HasPrefix(alt, "TPG_") {
				names = append(names, alt)
			} else {
				names = append(names, "TPG_PLUGIN_"+envName(m.ID)+"_"+envName(alt))
			}
		}
		if !ok {
			missing = append(missing, strings.Join(names, " or "))
		}
	}
	return missing
}

const disabledTag = "[module "

// crashed disables a plugin that crashed CrashLimit times in a row. The
// reason names the module hash, so installing a new build re-enables it.
func (mgr *Manager) crashed(p *plugin, crashes int, err error) {
	if crashes < p.crashCap {
		return
	}
	reason := fmt.Sprintf("crashed %d times in a row, last: %v %s%s]", crashes, err, disabledTag, p.hash)
	mgr.log.Error("plugin disabled: it keeps crashing; events wait until it is fixed or re-enabled", "plugin", p.m.ID, "err", err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if derr := mgr.disp.SetDisabled(ctx, p.m.ID, true, reason); derr != nil {
		mgr.log.Error("could not record the disabled plugin", "plugin", p.m.ID, "err", derr)
	}
}

// maybeReenable lifts a crash-disable recorded for a different module.
func (mgr *Manager) maybeReenable(ctx context.Context, p *plugin) {
	st, err := mgr.disp.Subscriber(ctx, p.m.ID)
	if err != nil {
		mgr.log.Warn("plugin: could not read whether it is disabled; it stays as it is until enabled through the admin API", "plugin", p.m.ID, "err", err)
		return
	}
	if !st.Disabled {
		return
	}
	if strings.Contains(st.DisabledReason, disabledTag+p.hash+"]") {
		mgr.log.Warn("plugin stays disabled (same module that kept crashing); re-enable it through the admin API", "plugin", p.m.ID)
		return
	}
	if err := mgr.disp.SetDisabled(ctx, p.m.ID, false, ""); err != nil {
		mgr.log.Warn("plugin module changed since it was disabled, but enabling it failed; enable it through the admin API", "plugin", p.m.ID, "err", err)
		return
	}
	mgr.log.Info("plugin module changed since it was disabled; enabled it", "plugin", p.m.ID)
}

// Notify wakes the delivery loops. Call it after every commit that appended
// events (the engine's AfterCommit hook); polling is only the fallback.
func (mgr *Manager) Notify() { mgr.disp.Notify() }

// Close stops delivery (pending events stay in the outbox for the next
// start) and releases the plugins' runtimes.
func (mgr *Manager) Close() error {
	mgr.mu.Lock()
	if mgr.closed {
		mgr.mu.Unlock()
		return nil
	}
	mgr.closed = true
	mgr.mu.Unlock()
	close(mgr.stopWatch)
	<-mgr.watchDone
	mgr.syncMu.Lock() // a Reload in progress finishes first
	defer mgr.syncMu.Unlock()
	mgr.disp.Close()
	mgr.closePlugins()
	return mgr.cache.Close(context.Background())
}

func (mgr *Manager) closePlugins() {
	mgr.mu.Lock()
	defer mgr.mu.Unlock()
	for _, e := range mgr.entries {
		if e.plugin != nil {
			e.plugin.close()
		}
	}
}

// Plugins lists every plugin (loaded, disabled, unconfigured, broken or
// removed) with its delivery state, ordered by id.
func (mgr *Manager) Plugins(ctx context.Context) ([]PluginInfo, error) {
	subs, err := mgr.disp.Subscribers(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]outbox.SubscriberState{}
	for _, s := range subs {
		byID[s.ID] = s
	}
	mgr.mu.Lock()
	out := make([]PluginInfo, 0, len(mgr.entries))
	for id, e := range mgr.entries {
		info := e.info
		if e.plugin != nil {
			info.ConsecutiveCrashes = int(e.plugin.crashes.Load())
		}
		if s, ok := byID[id]; ok {
			info.Position, info.Pending, info.Failed, info.Attempts = s.Position, s.Pending, s.Failed, s.Attempts
			info.NextAttemptAt, info.LastError = s.NextAttemptAt, s.LastError
			if s.Disabled && info.State == StateActive {
				info.State, info.Error = StateDisabled, s.DisabledReason
			}
			delete(byID, id)
		}
		out = append(out, info)
	}
	mgr.mu.Unlock()
	for id, s := range byID {
		// Not installed here: removed, and nothing is pending for it (the
		// mark in the database may be a moment behind).
		out = append(out, PluginInfo{ID: id, State: StateRemoved, Events: s.EventTypes, HTTPHosts: []string{},
			Position: s.Position, Failed: s.Failed, LastError: s.LastError})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// FailedDeliveries lists the parked deliveries of every plugin, oldest first.
func (mgr *Manager) FailedDeliveries(ctx context.Context) ([]FailedDelivery, error) {
	fs, err := mgr.disp.Failed(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]FailedDelivery, len(fs))
	for i, f := range fs {
		out[i] = FailedDelivery{ID: f.ID, PluginID: f.SubscriberID, EventID: f.EventID, EventType: f.EventType, EventSeq: f.EventSeq,
			Attempts: f.Attempts, LastError: f.LastError, State: f.State, FailedAt: f.FailedAt}
	}
	return out, nil
}

// Redeliver queues one failed delivery (by FailedDelivery.ID) for another
// attempt; ErrNotFound if there is no such failure.
func (mgr *Manager) Redeliver(ctx context.Context, id int64) error {
	return mgr.disp.Redeliver(ctx, id)
}

// RedeliverAll queues every failed delivery and returns how many.
func (mgr *Manager) RedeliverAll(ctx context.Context) (int, error) {
	return mgr.disp.RedeliverAll(ctx, "")
}

// Enable re-enables a plugin disabled for crashing: its crash count is reset,
// the next event runs on a fresh instance, and its pending events are then
// delivered. ErrNotFound for an unknown id.
func (mgr *Manager) Enable(ctx context.Context, id string) error {
	mgr.mu.Lock()
	e := mgr.entries[id]
	mgr.mu.Unlock()
	if e != nil && e.plugin != nil {
		p := e.plugin
		p.mu.Lock() // a disabled plugin gets no events; a route call holds it for at most its deadline
		p.discard()
		p.crashes.Store(0)
		p.mu.Unlock()
	}
	return mgr.disp.SetDisabled(ctx, id, false, "")
}

// EnablePlugin is Enable followed by the plugin's entry as Plugins lists it
// (what POST /api/plugins/:id/enable answers). ErrNotFound for an unknown id.
func (mgr *Manager) EnablePlugin(ctx context.Context, id string) (PluginInfo, error) {
	if err := mgr.Enable(ctx, id); err != nil {
		return PluginInfo{}, err
	}
	all, err := mgr.Plugins(ctx)
	if err != nil {
		return PluginInfo{}, err
	}
	for _, p := range all {
		if p.ID == id {
			return p, nil
		}
	}
	return PluginInfo{}, ErrNotFound
}
