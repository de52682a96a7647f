package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tari-payment/tps/core/outbox"
)

// spec is one plugin as the sources (the server binary, the folder) describe
// it right now, before it is loaded.
type spec struct {
	id       string
	source   string // "default" or "directory"
	path     string // where it came from, for messages and the admin API
	wasmPath string // directory plugins
	wasm     []byte // shipped plugins (embedded)
	m        *Manifest
	trusted  *Manifest // the shipped manifest of this id, if any: caps env and hosts
	fp       string    // changes whenever what would be loaded changes
	err      error     // unreadable or refused: reported as broken
	fallback *spec     // the shipped plugin an override replaces, loaded if the override cannot be
}

const pagesPerMB = 16 // 64 KiB WebAssembly pages

// desired lists what should run now: the shipped plugins, then the folder's,
// where a folder plugin with a shipped plugin's id replaces it only when
// Override lists that id. extras are refused or duplicate folder plugins,
// listed as broken under id@path.
func (mgr *Manager) desired() (byID map[string]*spec, order []string, extras []*spec) {
	byID = map[string]*spec{}
	add := func(sp *spec) {
		if _, ok := byID[sp.id]; !ok {
			order = append(order, sp.id)
		}
		byID[sp.id] = sp
	}
	if !mgr.cfg.NoDefaults {
		for _, id := range DefaultPluginIDs() {
			sp := &spec{id: id, source: "default", path: "(embedded) plugins/defaults/" + id, fp: "embedded"}
			sp.m, sp.err = defaultManifest(id)
			if sp.err == nil {
				sp.trusted = sp.m
				sp.wasm, sp.err = defaultModule(id)
			}
			add(sp)
		}
	}
	if mgr.cfg.Dir == "" {
		return byID, order, extras
	}
	cands, err := discover(mgr.cfg.Dir)
	if err != nil {
		mgr.log.Error("cannot read the plugin folder", "dir", mgr.cfg.Dir, "err", err)
	}
	for _, c := range cands {
		sp := &spec{source: "directory", path: c.manifestPath, wasmPath: c.wasmPath, m: c.manifest, err: c.err, fp: fileStamp(c.manifestPath, c.wasmPath)}
		sp.id = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(c.manifestPath), ".json"), ".wasm")
		if filepath.Base(c.manifestPath) == "manifest.json" {
			sp.id = filepath.Base(filepath.Dir(c.manifestPath))
		}
		if sp.m != nil {
			sp.id = sp.m.ID
		}
		old := byID[sp.id]
		switch {
		case old == nil:
			add(sp)
		case old.source == "default" && sp.err != nil:
			extras = append(extras, sp) // unreadable: its own error; the shipped plugin keeps running
		case old.source == "default" && slices.Contains(mgr.cfg.Override, sp.id):
			sp.trusted, sp.fallback = old.m, old
			sp.err = capToShipped(sp.m, old.m)
			add(sp)
		case old.source == "default":
			sp.err = fmt.Errorf("refused: plugin %s is shipped with the server; to replace it with this one, add %s to TPG_PLUGINS_OVERRIDE", sp.id, sp.id)
			extras = append(extras, sp)
		default:
			sp.err = fmt.Errorf("duplicate plugin id %q (already in %s)", sp.id, old.path)
			extras = append(extras, sp)
		}
	}
	return byID, order, extras
}

// capToShipped limits an override's manifest to what the shipped plugin of
// its id may do: its env keys, its hosts and its action grants, no more. It
// refuses an override asking for anything else, so the operator sees why.
func capToShipped(m, shipped *Manifest) error {
	var extra []string
	for _, k := range m.Env {
		if !slices.Contains(shipped.Env, k) {
			extra = append(extra, "env "+k)
		}
	}
	for _, h := range m.HTTP {
		if !slices.Contains(shipped.HTTP, h) {
			extra = append(extra, "http "+h)
		}
	}
	for _, k := range m.HTTPFrom {
		if !slices.Contains(shipped.HTTPFrom, k) {
			extra = append(extra, "http_from_config "+k)
		}
	}
	for _, a := range m.Actions {
		if !slices.Contains(shipped.Actions, a) {
			extra = append(extra, "action "+a)
		}
	}
	if len(extra) > 0 {
		return fmt.Errorf("refused: override of shipped plugin %s asks for more than the shipped one may use (%s)", m.ID, strings.Join(extra, ", "))
	}
	return nil
}

// fileStamp identifies the current content of a folder plugin's files
// without reading the module: size and modification time of each.
func fileStamp(paths ...string) string {
	var b strings.Builder
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(&b, "%s:absent;", p)
			continue
		}
		fmt.Fprintf(&b, "%s:%d:%d;", p, fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}

// folderStamp is a cheap fingerprint of the whole folder (names, sizes and
// times, one level deep), compared by the watcher to notice a change.
func folderStamp(dir string) string {
	if dir == "" {
		return ""
	}
	h := sha256.New()
	var walk func(d string, depth int)
	walk = func(d string, depth int) {
		entries, err := os.ReadDir(d)
		if err != nil {
			fmt.Fprintf(h, "%s:%v\n", d, err)
			return
		}
		for _, e := range entries {
			p := filepath.Join(d, e.Name())
			if e.IsDir() {
				if depth == 0 {
					walk(p, 1)
				}
				continue
			}
			if fi, err := e.Info(); err == nil {
				fmt.Fprintf(h, "%s:%d:%d\n", p, fi.Size(), fi.ModTime().UnixNano())
			}
		}
	}
	walk(dir, 0)
	return hex.EncodeToString(h.Sum(nil))
}

// sync makes the running plugins match desired(): it loads new and changed
// ones, stops removed ones (their cursors are marked removed) and leaves
// unchanged ones alone. A replaced plugin's loop finishes its in-flight
// delivery before the new version continues from the same cursor; a new
// version that cannot load leaves the old one running. At startup a shipped
// plugin that is configured but cannot load is an error.
func (mgr *Manager) sync(ctx context.Context, startup bool) error {
	mgr.syncMu.Lock()
	defer mgr.syncMu.Unlock()
	mgr.mu.Lock()
	closed := mgr.closed
	mgr.mu.Unlock()
	if closed {
		return errors.New("plugins: manager closed")
	}
	mgr.lastSeen = folderStamp(mgr.cfg.Dir)
	off := map[string]bool{}
	if v, ok := mgr.cfg.Env("TPG_PLUGINS_DISABLE"); ok {
		for _, id := range strings.Split(v, ",") {
			off[strings.TrimSpace(strings.ToLower(id))] = true
		}
	}
	want, order, extras := mgr.desired()

	// Refused and duplicate folder plugins are listed afresh each time, and
	// logged when they first appear or their files change.
	reported := map[string]string{}
	mgr.mu.Lock()
	for k, e := range mgr.entries {
		if e.extra {
			reported[k] = e.fp
			delete(mgr.entries, k)
		}
	}
	mgr.mu.Unlock()
	for _, sp := range extras {
		key := sp.id + "@" + sp.path
		mgr.setEntry(key, &entry{info: PluginInfo{ID: key, Source: sp.source, Path: sp.path, State: StateBroken, Error: sp.err.Error(),
			Events: []string{}, HTTPHosts: []string{}}, extra: true, fp: sp.fp})
		if fp, ok := reported[key]; !ok || fp != sp.fp {
			mgr.log.Error("plugin not loaded", "plugin", sp.id, "path", sp.path, "err", sp.err)
		}
	}

	// Removed from the folder: stop delivering, keep the cursor.
	mgr.mu.Lock()
	var gone []string
	for id, e := range mgr.entries {
		if _, ok := want[id]; !ok && !e.extra {
			gone = append(gone, id)
		}
	}
	mgr.mu.Unlock()
	sort.Strings(gone)
	for _, id := range gone {
		e := mgr.getEntry(id)
		mgr.stop(id, e)
		// Marked before the entry goes, so the plugin is never listed as
		// removed while its events still count as pending.
		if err := mgr.disp.MarkRemoved(ctx, id); err != nil && !errors.Is(err, outbox.ErrNotFound) {
			mgr.log.Warn("cannot mark the cursor of a removed plugin", "plugin", id, "err", err)
		}
		mgr.mu.Lock()
		delete(mgr.entries, id)
		mgr.mu.Unlock()
		mgr.log.Info("plugin removed from the folder; its cursor is kept in case it comes back", "plugin", id, "path", e.info.Path)
	}

	var fatal []error
	for _, id := range order {
		if err := mgr.apply(ctx, want[id], off[id], startup); err != nil {
			fatal = append(fatal, err)
		}
	}
	if len(fatal) > 0 {
		return errors.Join(fatal...)
	}
	return mgr.markRemoved(ctx)
}

func (mgr *Manager) getEntry(id string) *entry {
	mgr.mu.Lock()
	defer mgr.mu.Unlock()
	return mgr.entries[id]
}

func (mgr *Manager) setEntry(id string, e *entry) {
	mgr.mu.Lock()
	defer mgr.mu.Unlock()
	mgr.entries[id] = e
}

// stop takes a loaded plugin out of delivery (after its in-flight delivery)
// and frees it.
func (mgr *Manager) stop(id string, e *entry) {
	if e == nil || e.plugin == nil {
		return
	}
	if err := mgr.disp.Unregister(id); err != nil {
		mgr.log.Warn("plugin stopped, but its lease stays until it expires; another instance then takes over", "plugin", id, "err", err)
	}
	e.plugin.close()
	mgr.usedPages -= e.pages
	mgr.mu.Lock()
	e.plugin, e.pages = nil, 0
	mgr.mu.Unlock()
}

// apply brings one plugin to what sp says. It returns an error only for a
// shipped plugin that must run and cannot (startup fails closed).
func (mgr *Manager) apply(ctx context.Context, sp *spec, off, startup bool) error {
	old := mgr.getEntry(sp.id)
	running := old != nil && old.plugin != nil
	if old != nil && old.fp == sp.fp {
		return nil // unchanged since the last look (loaded, or already reported)
	}
	info := PluginInfo{ID: sp.id, Source: sp.source, Path: sp.path, HTTPHosts: []string{}}
	if sp.wasmPath != "" {
		info.Path = sp.wasmPath
	}
	if sp.m != nil {
		fill(&info, sp.m)
	}
	// keepOld reports a new version that cannot load while the old one runs.
	keepOld := func(err error) bool {
		if !running {
			return false
		}
		mgr.log.Error("new version of the plugin not loaded; the running version stays", "plugin", sp.id, "path", info.Path, "err", err)
		mgr.mu.Lock()
		old.info.Error = "new version in the folder not loaded: " + err.Error()
		old.fp = sp.fp
		mgr.mu.Unlock()
		return true
	}
	broken := func(err error) error {
		if keepOld(err) {
			return nil
		}
		if sp.fallback != nil {
			mgr.log.Error("override not loaded; running the shipped plugin instead", "plugin", sp.id, "path", info.Path, "err", err)
			return mgr.apply(ctx, sp.fallback, off, startup)
		}
		mgr.stop(sp.id, old)
		info.State, info.Error = StateBroken, err.Error()
		mgr.setEntry(sp.id, &entry{info: info, fp: sp.fp})
		if sp.source == "default" {
			return fmt.Errorf("shipped plugin %s is configured but cannot load: %w (fix the error above, or list %s in TPG_PLUGINS_DISABLE to run without it)", sp.id, err, sp.id)
		}
		mgr.log.Error("plugin not loaded", "plugin", sp.id, "path", info.Path, "err", err)
		return nil
	}
	if sp.err != nil {
		return broken(sp.err)
	}
	m := sp.m
	if err := m.validate(); err != nil {
		return broken(err)
	}
	fill(&info, m)
	if limit := uint32(mgr.cfg.MaxMemoryMB * pagesPerMB); m.Limits.MemoryPages > limit {
		mgr.log.Warn("plugin asks for more memory than TPG_PLUGIN_MAX_MEMORY_MB allows; clamped", "plugin", m.ID,
			"asked_mb", m.Limits.MemoryPages/pagesPerMB, "granted_mb", mgr.cfg.MaxMemoryMB)
		m.Limits.MemoryPages = limit
	}
	if off {
		mgr.stop(sp.id, old)
		info.State, info.Error = StateOff, "listed in TPG_PLUGINS_DISABLE"
		mgr.setEntry(sp.id, &entry{info: info, fp: sp.fp})
		mgr.log.Info("plugin switched off", "plugin", m.ID)
		return nil
	}
	cfg := mgr.configFunc(m, sp.trusted)
	if missing := missingConfig(m, cfg); len(missing) > 0 {
		mgr.stop(sp.id, old)
		info.State = StateUnconfigured
		info.Error = "missing configuration: " + strings.Join(missing, ", ")
		mgr.setEntry(sp.id, &entry{info: info, fp: sp.fp})
		mgr.log.Warn("plugin not configured; it subscribes to nothing", "plugin", m.ID, "missing", missing)
		return nil
	}
	freed := uint32(0)
	if running {
		freed = old.pages
	}
	budget := uint32(mgr.cfg.MemoryBudgetMB * pagesPerMB)
	if mgr.usedPages-freed+m.Limits.MemoryPages > budget {
		return broken(fmt.Errorf("memory budget exhausted: it needs %d MB, %d MB of TPG_PLUGINS_MEMORY_BUDGET_MB=%d are left",
			m.Limits.MemoryPages/pagesPerMB, (budget-(mgr.usedPages-freed))/pagesPerMB, mgr.cfg.MemoryBudgetMB))
	}
	// The cursor exists before the (possibly slow) compile, and stays if
	// loading fails: events committed meanwhile are kept for the plugin.
	if err := mgr.disp.EnsureCursor(ctx, m.ID, m.eventTypes()); err != nil {
		return broken(err)
	}
	pl, err := mgr.loadOne(ctx, sp, &info, cfg)
	if err != nil {
		return broken(err)
	}
	info.State = StateActive
	// Register waits for the old version's in-flight delivery, then the new
	// one continues from the cursor.
	if err := mgr.disp.Register(ctx, pl); err != nil {
		pl.close()
		return broken(err)
	}
	if running {
		old.plugin.close()
		mgr.usedPages -= old.pages
		mgr.log.Info("plugin replaced by the new version in the folder", "plugin", m.ID, "path", info.Path, "sha256", info.SHA256[:12])
	} else if !startup {
		mgr.log.Info("plugin loaded", "plugin", m.ID, "path", info.Path)
	}
	mgr.usedPages += m.Limits.MemoryPages
	mgr.setEntry(sp.id, &entry{info: info, plugin: pl, pages: m.Limits.MemoryPages, fp: sp.fp})
	mgr.maybeReenable(ctx, pl)
	return nil
}

// markRemoved marks the cursors no plugin of this instance owns as removed,
// so they stop counting as pending. Instances sharing a database should run
// the same plugins; one that loads the plugin again clears the mark.
func (mgr *Manager) markRemoved(ctx context.Context) error {
	subs, err := mgr.disp.SubscriberIDs(ctx)
	if err != nil {
		mgr.log.Warn("cannot list plugin cursors", "err", err)
		return nil
	}
	for id, removed := range subs {
		if removed || mgr.getEntry(id) != nil {
			continue
		}
		if err := mgr.disp.MarkRemoved(ctx, id); err != nil && !errors.Is(err, outbox.ErrNotFound) {
			mgr.log.Warn("cannot mark the cursor of a removed plugin", "plugin", id, "err", err)
		}
	}
	return nil
}

// watch reloads the folder when it changed and then stayed the same for one
// ReloadInterval (a file still being copied is not loaded half-written).
func (mgr *Manager) watch() {
	defer close(mgr.watchDone)
	if mgr.cfg.ReloadInterval < 0 || mgr.cfg.Dir == "" {
		<-mgr.stopWatch
		return
	}
	t := time.NewTicker(mgr.cfg.ReloadInterval)
	defer t.Stop()
	prev := ""
	for {
		select {
		case <-mgr.stopWatch:
			return
		case <-t.C:
		}
		cur := folderStamp(mgr.cfg.Dir)
		mgr.syncMu.Lock()
		changed := cur != mgr.lastSeen
		mgr.syncMu.Unlock()
		if changed && cur == prev {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			if err := mgr.sync(ctx, false); err != nil {
				mgr.log.Error("reloading the plugin folder", "err", err)
			}
			cancel()
		}
		prev = cur
	}
}

// Reload rescans TPG_PLUGINS_DIR now (POST /api/plugins/reload) and returns
// the plugins as Plugins lists them.
func (mgr *Manager) Reload(ctx context.Context) ([]PluginInfo, error) {
	if err := mgr.sync(ctx, false); err != nil {
		return nil, err
	}
	return mgr.Plugins(ctx)
}

// ErrInstalled is returned by Remove for a plugin that is still installed.
var ErrInstalled = errors.New("plugin is installed")

// Remove drops a removed plugin's cursor and parked deliveries for good
// (DELETE /api/plugins/{id}). ErrNotFound for an unknown id; ErrInstalled
// while the plugin is still installed here or on another instance.
func (mgr *Manager) Remove(ctx context.Context, id string) error {
	if e := mgr.getEntry(id); e != nil && !e.extra {
		return fmt.Errorf("%w: %s is %s here; delete it from TPG_PLUGINS_DIR (or list it in TPG_PLUGINS_DISABLE) first", ErrInstalled, id, e.info.State)
	}
	err := mgr.disp.Drop(ctx, id)
	if errors.Is(err, outbox.ErrNotRemoved) {
		return fmt.Errorf("%w: %s is still installed on another instance", ErrInstalled, id)
	}
	if err == nil {
		mgr.log.Info("removed plugin dropped: its cursor and failed deliveries are deleted", "plugin", id)
	}
	return err
}

// States maps every listed plugin id to its state (for tps_plugin_state).
func (mgr *Manager) States(ctx context.Context) (map[string]string, error) {
	all, err := mgr.Plugins(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(all))
	for _, p := range all {
		out[p.ID] = p.State
	}
	return out, nil
}
