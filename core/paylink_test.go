package core

import "testing"

// The token is HMAC-SHA256 hex truncated to 32 characters, as Liquid's
// hmac_sha256 then slice: 0, 32 makes it (vector computed independently with
// `printf %s 5906123450001 | openssl dgst -sha256 -hmac my-pay-link-secret`).
func TestPayLinkToken(t *testing.T) {
	const secret, id = "my-pay-link-secret", "5906123450001"
	got := PayLinkToken(secret, id)
	if len(got) != 32 || got != wantPayLinkToken {
		t.Fatalf("token = %q, want %q", got, wantPayLinkToken)
	}
	if !PayLinkTokenValid(secret, id, got) {
		t.Fatal("own token refused")
	}
	for _, bad := range []string{"", got[:31], got + "0", "X" + got[1:], PayLinkToken("other-secret-xxxx", id), PayLinkToken(secret, id+"1")} {
		if PayLinkTokenValid(secret, id, bad) {
			t.Fatalf("%q accepted", bad)
		}
	}
	if p := PayLinkPath(secret, "#1001"); p != "/pay/%231001/"+PayLinkToken(secret, "#1001") {
		t.Fatal(p)
	}
}

const wantPayLinkToken = "cefad416bf99288b3947b4015c5c36fb"
