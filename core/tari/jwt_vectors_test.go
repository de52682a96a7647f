package tari

import (
	"encoding/base64"
	"strings"
	"testing"
)

// checkJWTVector adds the typed-API view of a jwt vector: tokens in the
// current claims shape go through ParseLoginToken; legacy and foreign claim
// shapes must verify raw but be refused as login tokens.
func checkJWTVector(t *testing.T, token string, key PublicKey, valid bool) {
	t.Helper()
	parts := strings.Split(token, ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	current := strings.Contains(string(claims), `"desired_roles"`) && strings.Contains(string(claims), `{"Single":`)
	c, err := ParseLoginToken(token)
	switch {
	case current && valid:
		if err != nil {
			t.Fatalf("ParseLoginToken: %v", err)
		}
		if c.Address.SpendKey != key {
			t.Errorf("claims key %s, want %s", c.Address.SpendKey.Hex(), key.Hex())
		}
	case err == nil:
		t.Errorf("ParseLoginToken accepted a token it must refuse (current=%v valid=%v)", current, valid)
	}
}
