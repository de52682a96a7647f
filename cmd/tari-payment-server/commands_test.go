package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/config"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/internal/version"
)

// TestHelpListsEveryVariable: --help prints every entry of config.Vars with
// its default and meaning, and the value of a set variable (secrets only as
// "set").
func TestHelpListsEveryVariable(t *testing.T) {
	env := map[string]string{"TPG_PORT": "9999", "TPG_JWT_SIGNING_KEY": "0123456789abcdef"}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, func(k string) string { return env[k] }, &out, &out); err != nil {
		t.Fatal(err)
	}
	help := out.String()
	for _, g := range config.Vars {
		for _, v := range g.Vars {
			def := v.Default
			if def == "" {
				def = "unset"
			}
			if !strings.Contains(help, "  "+v.Name+" (default: "+def+")") || !strings.Contains(help, v.Help) {
				t.Errorf("help lacks %s with its default %q and meaning", v.Name, def)
			}
		}
	}
	if !strings.Contains(help, "TPG_PORT (default: 8360) now: 9999") || !strings.Contains(help, "TPG_JWT_SIGNING_KEY (default: unset) now: set") ||
		strings.Contains(help, "0123456789abcdef") {
		t.Fatalf("current values wrong or secret shown:\n%s", help)
	}
	if err := run(context.Background(), []string{"--bogus"}, func(string) string { return "" }, &out, &out); err == nil || !strings.Contains(err.Error(), "--help") {
		t.Fatalf("unknown argument: %v", err)
	}
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	in := version.Get()
	if want := "tari-payment-server " + in.Version + " (commit "; !strings.HasPrefix(out.String(), want) {
		t.Fatalf("%q does not start with %q", out.String(), want)
	}
}

// TestHealthcheckCommand: `healthcheck` succeeds against a running server
// (a wildcard TPG_HOST is probed on loopback) and fails once it stopped.
func TestHealthcheckCommand(t *testing.T) {
	s := start(t, storetest.SQLiteURL(t), map[string]string{"TPG_PLUGINS_DISABLE": "shopify,webhook"})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.c.BaseURL, "http://"))
	env := map[string]string{"TPG_HOST": "0.0.0.0", "TPG_PORT": port}
	var out bytes.Buffer
	// The command the Dockerfile's HEALTHCHECK runs (the image has no curl).
	args := dockerHealthcheck(t)
	if err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &out); err != nil {
		t.Fatalf("healthcheck of a running server: %v", err)
	}
	if !strings.Contains(out.String(), "healthy: GET http://127.0.0.1:"+port+"/health: 200 OK") {
		t.Fatalf("%q", out.String())
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s.stop = func() error { return nil }
	if err := run(context.Background(), []string{"healthcheck"}, func(k string) string { return env[k] }, &out, &out); err == nil {
		t.Fatal("healthcheck of a stopped server succeeded")
	}
}

// TestReleaseBinary builds the server as `make release` does (static,
// -trimpath, no VCS stamp, version set at link time) and checks the built
// program: --version reports the link-time version, `healthcheck` passes
// against it, and SIGINT (Ctrl-C) stops it with exit status 0.
func TestReleaseBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server")
	}
	bin := filepath.Join(t.TempDir(), "tari-payment-server")
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X github.com/tari-payment/tps/internal/version.version=v9.8.7 -X github.com/tari-payment/tps/internal/version.commit=0123456789abcdef0123",
		"-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "tari-payment-server v9.8.7 (commit 0123456789ab) go") {
		t.Fatalf("--version: %v %q", err, out)
	}

	dir := t.TempDir()
	srv := exec.Command(bin)
	srv.Dir = dir
	srv.Env = append(os.Environ(), "TPG_PORT=0", "TPG_DATABASE_URL=sqlite://"+filepath.Join(dir, "data", "db.sqlite"),
		"TPG_PLUGINS_DISABLE=shopify,webhook", "TPG_LOG_LEVEL=info")
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	listening := regexp.MustCompile(`listening" addr=127\.0\.0\.1:(\d+)`)
	var port string
	deadline := time.After(2 * time.Minute)
	for port == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("server exited before listening")
			}
			if m := listening.FindStringSubmatch(l); m != nil {
				port = m[1]
			}
		case <-deadline:
			t.Fatal("server did not start")
		}
	}
	hc := exec.Command(bin, "healthcheck")
	hc.Env = append(os.Environ(), "TPG_PORT="+port)
	if out, err := hc.CombinedOutput(); err != nil {
		t.Fatalf("healthcheck: %v %s", err, out)
	}

	if err := srv.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	stopped := false
	deadline = time.After(40 * time.Second)
	for open := true; open; {
		select {
		case l, ok := <-lines:
			open = ok
			stopped = stopped || strings.Contains(l, "msg=stopped")
		case <-deadline:
			t.Fatal("server did not exit after SIGINT")
		}
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("after SIGINT: %v (want exit status 0)", err)
	}
	if !stopped {
		t.Fatal(`no "stopped" line: not a graceful shutdown`)
	}
}

// dockerHealthcheck reads the HEALTHCHECK of the repository's Dockerfile and
// returns the arguments it passes to the server binary.
func dockerHealthcheck(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`HEALTHCHECK[\s\S]*?CMD (\[[^\]]*\])`).FindSubmatch(b)
	if m == nil {
		t.Fatal("Dockerfile has no HEALTHCHECK ... CMD [...]")
	}
	var cmd []string
	if err := json.Unmarshal(m[1], &cmd); err != nil || len(cmd) < 2 || cmd[0] != "/usr/local/bin/tari-payment-server" {
		t.Fatalf("HEALTHCHECK CMD %s: want the server binary and its arguments (%v)", m[1], err)
	}
	if !bytes.Contains(b, []byte(`ENTRYPOINT ["/usr/local/bin/tari-payment-server"]`)) {
		t.Fatal("the Dockerfile's ENTRYPOINT is not the binary the HEALTHCHECK runs")
	}
	return cmd[1:]
}

// TestMakeRunStopsCleanlyOnCtrlC: Ctrl-C in a terminal sends SIGINT to the
// whole foreground process group (make, the server). The server must shut
// down gracefully and exit 0, so make reports no error. (With `go run` make
// printed "make: *** [Makefile:…: run] Error 1": go run exits 1 when it is
// interrupted, whatever the program returns.) GNU make itself always ends by
// re-raising the SIGINT it got, like any make target stopped with Ctrl-C.
func TestMakeRunStopsCleanlyOnCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	dir := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "run")
	cmd.Dir = filepath.Join("..", "..")
	// Not a sub-make of `make test`: a top-level make, as a merchant runs it.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "MAKEFLAGS" && k != "MAKELEVEL" && k != "MFLAGS" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TPG_PORT=0", "TPG_DATABASE_URL=sqlite://"+filepath.Join(dir, "db.sqlite"),
		"TPG_PLUGINS_DISABLE=shopify,webhook")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, like a terminal's foreground job
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var log strings.Builder
	deadline := time.After(5 * time.Minute) // a cold build of the server
	for listening := false; !listening; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("make run ended before the server listened:\n%s", log.String())
			}
			log.WriteString(l + "\n")
			listening = strings.Contains(l, "Tari payment server listening")
		case <-deadline:
			t.Fatalf("the server did not start:\n%s", log.String())
		}
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	deadline = time.After(40 * time.Second)
	for open := true; open; {
		select {
		case l, ok := <-lines:
			open = ok
			log.WriteString(l + "\n")
		case <-deadline:
			t.Fatalf("make run did not stop after SIGINT:\n%s", log.String())
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGINT) {
		t.Fatalf("make run after Ctrl-C: %v (want exit 0, or make's own SIGINT)\n%s", err, log.String())
	}
	if regexp.MustCompile(`make(\[\d+\])?: \*\*\*`).MatchString(log.String()) || strings.Contains(log.String(), "exit status") {
		t.Fatalf("make reported the server's exit as an error:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "msg=stopped") {
		t.Fatalf("no graceful shutdown:\n%s", log.String())
	}
}
