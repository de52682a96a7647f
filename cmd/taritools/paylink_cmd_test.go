package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tari-payment/tps/core"
)

func TestAdminPayLink(t *testing.T) {
	t.Setenv("TARITOOLS_CONFIG", t.TempDir()+"/profiles.json")
	t.Setenv(payLinkSecretEnv, "")
	if _, err := runOffline(t, "admin", "pay-link", "1001", "--server", "https://pay.example.com"); err == nil || !strings.Contains(err.Error(), payLinkSecretEnv) {
		t.Fatalf("without the secret: %v", err)
	}
	const secret = "my-pay-link-secret"
	t.Setenv(payLinkSecretEnv, secret)
	out, err := runOffline(t, "admin", "pay-link", "5906123450001", "--server", "https://pay.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	// The token is the HMAC vector of core's test (openssl dgst -sha256 -hmac).
	want := "https://pay.example.com/pay/5906123450001/cefad416bf99288b3947b4015c5c36fb"
	if !strings.HasPrefix(out, want+"\n") || !strings.Contains(out, want+"/qr.png") {
		t.Fatalf("output:\n%s", out)
	}
	out, err = runOffline(t, "admin", "pay-link", "#1001", "--server", "https://pay.example.com", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil || got["pay_link"] != "https://pay.example.com"+core.PayLinkPath(secret, "#1001") || !strings.Contains(got["pay_link"], "/pay/%231001/") {
		t.Fatalf("json: %s %v", out, err)
	}
	if _, err := runOffline(t, "admin", "pay-link", "1001"); err == nil || !strings.Contains(err.Error(), "--server") {
		t.Fatalf("without a server URL: %v", err)
	}
}
