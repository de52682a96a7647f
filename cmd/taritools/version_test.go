package main

import (
	"strings"
	"testing"

	"github.com/tari-payment/tps/internal/version"
)

func TestVersionFlag(t *testing.T) {
	out, err := runOffline(t, "--version")
	if err != nil {
		t.Fatal(err)
	}
	if want := "taritools " + version.Get().Version + " (commit "; !strings.HasPrefix(out, want) {
		t.Fatalf("%q does not start with %q", out, want)
	}
}
