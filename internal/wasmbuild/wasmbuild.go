// Package wasmbuild compiles plugin packages of this repository to
// WebAssembly for tests (test plugins under plugins/testdata, the examples).
// The server never builds anything: its shipped plugins are embedded
// (plugins/embedded, `make plugins`).
package wasmbuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

const modulePath = "github.com/tari-payment/tps"

// RepoRoot returns the module root this file was compiled in, or "".
func RepoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.Contains(string(b), "module "+modulePath+"\n") {
		return ""
	}
	return filepath.Clean(root)
}

// Build compiles the package at pkgDir (inside module root) to out with the
// go on PATH, with the flags `make plugins` uses.
func Build(ctx context.Context, root, pkgDir, out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return errors.New("the go toolchain is not on PATH")
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
	cmd := exec.CommandContext(ctx, goBin, "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", tmp, "./"+filepath.ToSlash(rel))
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
