package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPIReachesTheEngineOnlyThroughItsInterface: the HTTP layer and the
// console hold an Engine interface, never a *engine.Engine or its database
// handle (the only mentions are the compile-time checks that *engine.Engine
// satisfies the interfaces).
func TestAPIReachesTheEngineOnlyThroughItsInterface(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob("console/*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range append(files, more...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for i, line := range strings.Split(string(b), "\n") {
			if code, _, _ := strings.Cut(line, "//"); strings.Contains(code, "= (*engine.Engine)(nil)") || strings.TrimSpace(code) == "" {
				continue
			}
			if code, _, _ := strings.Cut(line, "//"); strings.Contains(code, "*engine.Engine") || strings.Contains(code, ".DB()") {
				t.Errorf("%s:%d reaches past the Engine interface: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d files checked", checked)
	}
}
