package wasmbuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// PinnedClang is the first line of `clang --version` of the toolchain the
// committed C modules (examples/*-c, plugins/testdata/*-c) are built with:
// Debian 12's clang 14 and wasi-libc (sdk/c/build.sh). That toolchain
// rebuilds them byte for byte; another clang builds a different, equally
// valid module.
const PinnedClang = "Debian clang version 14.0.6"

// ErrNoCToolchain wraps what is missing to build C plugins.
var ErrNoCToolchain = errors.New("no C toolchain for wasm32-wasi")

// CToolchain checks that clang can build a C plugin here (the compiler, the
// wasm linker, wasi-libc's reactor startup file and compiler-rt's wasm32
// builtins) and returns the first line of `clang --version`. An error wraps
// ErrNoCToolchain and names the missing part.
func CToolchain(ctx context.Context) (string, error) {
	cc := os.Getenv("WASI_CC")
	if cc == "" {
		cc = "clang"
	}
	hint := "install clang lld wasi-libc libclang-rt-dev-wasm32 (Debian), or set WASI_CC and WASI_SYSROOT"
	if _, err := exec.LookPath(cc); err != nil {
		return "", fmt.Errorf("%w: %s not found: %s", ErrNoCToolchain, cc, hint)
	}
	run := func(args ...string) (string, error) {
		if s := os.Getenv("WASI_SYSROOT"); s != "" && len(args) > 0 && args[0] != "--version" {
			args = append([]string{"--sysroot=" + s}, args...)
		}
		out, err := exec.CommandContext(ctx, cc, args...).Output()
		return strings.TrimSpace(string(out)), err
	}
	version, err := run("--version")
	if err != nil {
		return "", fmt.Errorf("%w: %s --version: %v", ErrNoCToolchain, cc, err)
	}
	version, _, _ = strings.Cut(version, "\n")
	for _, probe := range []struct{ what, flag string }{
		{"wasm-ld (lld)", "-print-prog-name=wasm-ld"},
		{"wasi-libc (crt1-reactor.o)", "-print-file-name=crt1-reactor.o"},
		{"compiler-rt builtins for wasm32", "-print-libgcc-file-name"},
	} {
		p, err := run("--target=wasm32-wasi", probe.flag)
		if err == nil && !filepath.IsAbs(p) {
			p, err = exec.LookPath(p) // a program name found on PATH
		}
		if err == nil {
			_, err = os.Stat(p)
		}
		if err != nil {
			return "", fmt.Errorf("%w: %s is missing (%s): %s", ErrNoCToolchain, probe.what, version, hint)
		}
	}
	return version, nil
}

// BuildC compiles the C plugin in srcDir (its main.c) with the module's
// sdk/c/build.sh, the flags `make examples-c` uses plus cflags, to out.
func BuildC(ctx context.Context, root, srcDir, out string, cflags ...string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "sh", filepath.Join(root, "sdk", "c", "build.sh"), out, filepath.Join(srcDir, "main.c"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "WASI_CFLAGS="+strings.Join(cflags, " "))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("sdk/c/build.sh %s: %v: %s", srcDir, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
