package plugins

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// The shipped plugins' manifests are compiled into the server, so it knows
// their ids, subscriptions and grants even where their source is absent.
//
//go:embed defaults/*/manifest.json
var defaultManifests embed.FS

const modulePath = "github.com/tari-payment/tps"

// DefaultPluginIDs lists the plugins shipped with the server.
func DefaultPluginIDs() []string {
	entries, _ := fs.ReadDir(defaultManifests, "defaults")
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.Name())
	}
	sort.Strings(ids)
	return ids
}

func defaultManifest(id string) (*Manifest, error) {
	b, err := defaultManifests.ReadFile("defaults/" + id + "/manifest.json")
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("shipped manifest %s: %w", id, err)
	}
	return m, nil
}

// FindSourceDir returns the module root of this repository, where the
// default plugins' source lives: the directory this file was compiled from
// (a server built or run from a checkout, unless built with -trimpath), else
// the first parent of the working directory holding the module. It returns
// "" when the server runs away from any checkout.
func FindSourceDir() string {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		root := filepath.Dir(filepath.Dir(file))
		if isModuleRoot(root) {
			return root
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if isModuleRoot(dir) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func isModuleRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && strings.Contains(string(b), "module "+modulePath+"\n")
}

// sourceHash digests everything a shipped plugin is built from, so a build
// is reused until its source (or the SDK, or go.mod/go.sum) changes.
func sourceHash(root, pkgDir string) (string, error) {
	h := sha256.New()
	add := func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(b))
		h.Write(b)
		return nil
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := add(filepath.Join(root, f)); err != nil {
			return "", err
		}
	}
	for _, dir := range []string{filepath.Join(root, "sdk"), pkgDir} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			return "", err
		}
		sort.Strings(files)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			if err := add(f); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// BuildPlugin compiles the plugin package at pkgDir (inside module root) to
// out with the standard toolchain:
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared.
func BuildPlugin(ctx context.Context, root, pkgDir, out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		if _, serr := os.Stat("/usr/local/go/bin/go"); serr == nil {
			goBin = "/usr/local/go/bin/go"
		} else {
			return errors.New("the go toolchain is not on PATH")
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	rel, err := filepath.Rel(root, pkgDir)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".*.tmp")
	if err != nil {
		return err
	}
	f.Close()
	tmp := f.Name() // unique: concurrent builds of one plugin must not mix
	cmd := exec.CommandContext(ctx, goBin, "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "-o", tmp, "./"+filepath.ToSlash(rel))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("go build %s: %v: %s", rel, err, strings.TrimSpace(stderr.String()))
	}
	return os.Rename(tmp, out)
}

// resolveDefault finds (or builds) the module of shipped plugin id: a build
// cached under buildDir keyed by the source hash; else a fresh build when Go
// is installed; else the output of `make plugins` in the source tree.
func (mgr *Manager) resolveDefault(ctx context.Context, id string) (string, error) {
	root := mgr.cfg.SourceDir
	if root == "" {
		return "", errors.New("not built: the server is not running inside its source tree; run `make plugins` and copy plugins/defaults/" + id + " into TPG_PLUGINS_DIR")
	}
	pkgDir := filepath.Join(root, "plugins", "defaults", id)
	hash, err := sourceHash(root, pkgDir)
	if err != nil {
		return "", fmt.Errorf("reading source: %w", err)
	}
	out := filepath.Join(mgr.cfg.BuildDir, id+"-"+hash+".wasm")
	if isWasmFile(out) {
		return out, nil
	}
	os.Remove(out) // absent, or damaged (e.g. truncated by a full disk): build again
	start := time.Now()
	mgr.log.Info("building default plugin from source (once per source change)", "plugin", id, "into", out)
	berr := BuildPlugin(ctx, root, pkgDir, out)
	if berr == nil {
		mgr.log.Info("built default plugin", "plugin", id, "took", time.Since(start).Round(time.Millisecond))
		return out, nil
	}
	prebuilt := filepath.Join(pkgDir, "plugin.wasm")
	if _, err := os.Stat(prebuilt); err == nil {
		mgr.log.Warn("could not build default plugin; using the prebuilt module from `make plugins`", "plugin", id, "err", berr)
		return prebuilt, nil
	}
	return "", fmt.Errorf("not built (%v); install Go or run `make plugins`", berr)
}

// isWasmFile reports whether path holds something that starts like a
// WebAssembly module; a cached build that does not is rebuilt.
func isWasmFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == "\x00asm"
}
