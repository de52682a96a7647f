package store_test

import (
	"testing"
	"time"
)

// waitFor polls cond until it holds, failing the test with what (and the
// current state, from describe) after 10 s. Tests wait on conditions with it
// instead of sleeping and hoping.
func waitFor(t *testing.T, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(describe())
		}
		time.Sleep(time.Millisecond)
	}
}
