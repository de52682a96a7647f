package main

import (
	"strings"
	"testing"
)

// The bench refuses anything but a local server before it sends a request.
// (Its load runs are tested in internal/load against a spawned server.)
func TestBenchRefusesRemoteServers(t *testing.T) {
	_, err := runOffline(t, "bench", "--url", "http://10.1.2.3:8360", "--hmac-secret", "s", "--admin-key", aliceSecret)
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("err = %v", err)
	}
	_, err = runOffline(t, "bench", "--spawn", "--instances", "2")
	if err == nil || !strings.Contains(err.Error(), "--postgres") {
		t.Fatalf("two instances on SQLite: err = %v", err)
	}
}
