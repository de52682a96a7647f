// Package browser drives Debian's headless Chromium through chromedp for the
// tests of the server's pages (pay pages, console). A page test fails on any
// console error, uncaught exception or Content-Security-Policy violation the
// page produces, so a page that works only by accident does not pass.
package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ExecPath finds Chromium: $TPG_CHROMIUM, then Debian's /usr/bin/chromium.
func ExecPath() string {
	if p := os.Getenv("TPG_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is one headless Chromium tab with a fixed viewport.
type Browser struct {
	Ctx context.Context
	t   testing.TB

	mu       sync.Mutex
	problems []string
}

// Open starts Chromium with a width×height viewport, closed when t ends.
// Without Chromium the test is skipped, except under CI (CI set), where a
// missing browser is a failure: .ci/run installs it.
func Open(t testing.TB, width, height int) *Browser {
	t.Helper()
	path := ExecPath()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium not found (install Debian's chromium package, or set TPG_CHROMIUM)")
		}
		t.Skip("chromium not found: apt-get install chromium (or set TPG_CHROMIUM) to run the browser tests")
	}
	// Not t.TempDir: Chromium's helper processes can still be writing the
	// profile for a moment after the browser exits, and t.TempDir fails the
	// test when its removal meets a file created meanwhile.
	profile, err := os.MkdirTemp("", "tps-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// The machine has no network: without these Chromium retries its
		// own background connections, which slows start-up.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(width, height),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b := &Browser{Ctx: ctx, t: t}
	chromedp.ListenTarget(ctx, b.listen)
	if err := chromedp.Run(ctx, log.Enable(), chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		cancelCtx()
		cancelAlloc()
		removeProfile(profile)
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		removeProfile(profile)
	})
	return b
}

// removeProfile deletes Chromium's profile directory, retrying for a short
// while as its last writers exit; a leftover is not the page's fault.
func removeProfile(dir string) {
	deadline := time.Now().Add(5 * time.Second)
	for os.RemoveAll(dir) != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *Browser) listen(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeAssert {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			problem = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
		}
	case *runtime.EventExceptionThrown:
		problem = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			problem += " " + ev.ExceptionDetails.Exception.Description
		}
	case *log.EventEntryAdded:
		// CSP violations, failed loads and blocked requests arrive here.
		if ev.Entry.Level == log.LevelError {
			problem = fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	}
	if problem != "" {
		b.mu.Lock()
		b.problems = append(b.problems, problem)
		b.mu.Unlock()
	}
}

// Problems returns the console errors, exceptions and error log entries
// seen so far.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// RequireNoProblems fails the test if the page logged any error.
func (b *Browser) RequireNoProblems() {
	b.t.Helper()
	if p := b.Problems(); len(p) > 0 {
		b.t.Fatalf("the page logged %d error(s):\n  %s", len(p), strings.Join(p, "\n  "))
	}
}

// Run runs chromedp actions with a deadline, failing the test on error.
func (b *Browser) Run(timeout time.Duration, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (page problems so far: %v)", err, b.Problems())
	}
}

// ScreenshotDir is where screenshots go: $TPG_SCREENSHOTS, or
// tps-screenshots in the system's temporary directory. Files are named after
// the test, so a rerun overwrites them in place.
func ScreenshotDir() string {
	if d := os.Getenv("TPG_SCREENSHOTS"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "tps-screenshots")
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot writes a full-page PNG named after the test and name, and logs
// its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	var png []byte
	b.Run(20*time.Second, chromedp.FullScreenshot(&png, 100)) // quality 100 is PNG; below it, JPEG
	dir := ScreenshotDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, unsafeName.ReplaceAllString(b.t.Name()+"-"+name, "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}
