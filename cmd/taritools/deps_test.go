package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoTestCodeInBinary: taritools ships to merchants; test helpers (and
// the testing package with its flags) must not be linked into it.
func TestNoTestCodeInBinary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || strings.HasSuffix(pkg, "/apitest") || strings.HasSuffix(pkg, "/storetest") {
			t.Errorf("taritools links %s", pkg)
		}
	}
}
