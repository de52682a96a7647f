package tari

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const tokenPrefix = "eyJhbGciOiJSaXN0cmV0dG8yNTYiLCJ0eXAiOiJKV1QifQ"

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// forge signs arbitrary header/claims text with k, as an attacker with a
// valid key (or a buggy client) could.
func forge(k SecretKey, header, claims string) string {
	in := b64(header) + "." + b64(claims)
	sig := Sign(JWTDomain, k, []byte(in)).Bytes()
	return in + "." + base64.RawURLEncoding.EncodeToString(sig[:])
}

func TestSigningMethodRegistered(t *testing.T) {
	if m := jwt.GetSigningMethod("Ristretto256"); m == nil || m.Alg() != JWTAlg {
		t.Fatal("Ristretto256 is not registered with golang-jwt")
	}
}

func TestLoginToken(t *testing.T) {
	k := GenerateSecretKey()
	a := NewAddress(Mainnet, k.PublicKey())
	tok, err := NewLoginToken(k, a, 1725298445, []string{"user", "write"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, tokenPrefix+".") {
		t.Errorf("header segment: %s", tok[:60])
	}
	_, claims, err := VerifyJWT(tok, a.SpendKey)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "claims", string(claims), `{"address":{"Single":{"network":"mainnet","features":3,"public_spend_key":"`+a.SpendKey.Hex()+`"}},"nonce":1725298445,"desired_roles":["user","write"]}`)
	c, err := ParseLoginToken(tok)
	if err != nil || !c.Address.Equal(a) || c.Nonce != 1725298445 || strings.Join(c.DesiredRoles, ",") != "user,write" {
		t.Fatalf("ParseLoginToken: %+v %v", c, err)
	}
	// Dual addresses and empty role lists work too.
	d := NewDualAddress(Nextnet, GenerateSecretKey().PublicKey(), k.PublicKey())
	tok2, err := NewLoginToken(k, d, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := ParseLoginToken(tok2); err != nil || !c.Address.Equal(d) || c.DesiredRoles == nil || len(c.DesiredRoles) != 0 {
		t.Fatalf("dual: %+v %v", c, err)
	}
	// Signing for an address whose key is not ours is refused up front.
	if _, err := NewLoginToken(GenerateSecretKey(), a, 1, nil); err == nil {
		t.Error("token for someone else's address")
	}
	if _, err := NewLoginToken(k, a, 1, []string{"admin"}); err == nil {
		t.Error("unknown role accepted when signing")
	}
}

func TestLoginTokenRejects(t *testing.T) {
	k := GenerateSecretKey()
	a := NewAddress(Mainnet, k.PublicKey())
	good, _ := NewLoginToken(k, a, 5, []string{"user"})
	parts := strings.Split(good, ".")
	hdr := `{"alg":"Ristretto256","typ":"JWT"}`
	claims := `{"address":` + string(a.RawJSON()) + `,"nonce":5,"desired_roles":["user"]}`
	mallory := GenerateSecretKey()
	sigBytes, _ := base64.RawURLEncoding.DecodeString(parts[2])
	pkBytes := a.SpendKey.Bytes()
	hs256, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"address": "x"}).SignedString(pkBytes[:])
	if err != nil {
		t.Fatal(err)
	}
	nonCanonicalS := append(append([]byte{}, sigBytes[:32]...), mustHex(t, groupOrderHex)...)
	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrTokenFormat},
		{"two segments", parts[0] + "." + parts[1], ErrTokenFormat},
		{"four segments", good + ".x", ErrTokenFormat},
		{"padding", good + "==", ErrTokenFormat},
		{"newline inside", parts[0] + ".\n" + parts[1] + "." + parts[2], ErrTokenFormat},
		{"space", " " + good, ErrTokenFormat},
		{"standard base64 chars", strings.ReplaceAll(strings.ReplaceAll(good, "-", "+"), "_", "/") + "+", ErrTokenFormat},
		{"header not json", b64("nope") + "." + parts[1] + "." + parts[2], ErrTokenFormat},
		{"alg none", b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + ".", ErrTokenAlg},
		{"alg HS256 keyed with the public key", hs256, ErrTokenAlg},
		{"alg missing", forge(k, `{"typ":"JWT"}`, claims), ErrTokenAlg},
		{"alg case", forge(k, `{"alg":"ristretto256"}`, claims), ErrTokenAlg},
		{"cty cbor", forge(k, `{"alg":"Ristretto256","cty":"CBOR"}`, claims), ErrTokenClaims},
		{"tampered claims", parts[0] + "." + b64(strings.Replace(claims, `"nonce":5`, `"nonce":6`, 1)) + "." + parts[2], ErrTokenSignature},
		{"signed by another key", forge(mallory, hdr, claims), ErrTokenSignature},
		{"signature of another token", forge(k, hdr, claims)[:len(parts[0])+len(parts[1])+1] + "." + parts[2][:10] + parts[2][10:], errNil},
		{"short signature", parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sigBytes[:63]), ErrTokenMalformedSignature},
		{"empty signature", parts[0] + "." + parts[1] + ".", ErrTokenMalformedSignature},
		{"non-canonical s", parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(nonCanonicalS), ErrTokenMalformedSignature},
		{"R not a point", parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(append(mustHex(t, strings.Repeat("f", 64)), sigBytes[32:]...)), ErrTokenMalformedSignature},
		{"legacy claims", forge(k, hdr, `{"address":{"network":"mainnet","public_key":"`+a.SpendKey.Hex()+`"},"nonce":1,"desired_roles":["user"]}`), ErrTokenClaims},
		{"unknown role", forge(k, hdr, strings.Replace(claims, `["user"]`, `["user","god"]`, 1)), ErrTokenClaims},
		{"negative nonce", forge(k, hdr, strings.Replace(claims, `"nonce":5`, `"nonce":-5`, 1)), ErrTokenClaims},
		{"missing nonce", forge(k, hdr, strings.Replace(claims, `"nonce":5,`, ``, 1)), ErrTokenClaims},
		{"duplicate nonce", forge(k, hdr, strings.Replace(claims, `"nonce":5`, `"nonce":5,"nonce":9`, 1)), ErrTokenClaims},
		{"claims not json", forge(k, hdr, `nope`), ErrTokenClaims},
		{"identity key in claims", forge(k, hdr, strings.Replace(claims, a.SpendKey.Hex(), strings.Repeat("0", 64), 1)), ErrTokenSignature},
	}
	for _, c := range cases {
		_, err := ParseLoginToken(c.token)
		if c.want == errNil {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	// Extra registered claims are ignored on login tokens.
	if _, err := ParseLoginToken(forge(k, hdr, `{"exp":1,"iat":1,`+claims[1:])); err != nil {
		t.Errorf("exp/iat on a login token: %v", err)
	}
	// Non-canonical trailing bits in a segment are refused (strict decoding).
	last := parts[2][len(parts[2])-1]
	alt := map[byte]byte{'A': 'B', 'Q': 'R', 'g': 'h', 'w': 'x'}[last]
	if alt != 0 {
		if _, err := ParseLoginToken(parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1] + string(alt)); err == nil {
			t.Error("non-canonical base64 accepted")
		}
	}
}

var errNil = errors.New("expect success")

func TestAccessToken(t *testing.T) {
	server := GenerateSecretKey()
	pub := server.PublicKey()
	user := NewAddress(Mainnet, GenerateSecretKey().PublicKey())
	now := time.Unix(1725298445, 0)
	tok, err := NewAccessToken(server, user, []string{"user", "write"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, tokenPrefix+".") {
		t.Error("header")
	}
	_, raw, err := VerifyJWT(tok, pub)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "claims", string(raw), `{"exp":1725384845,"iat":1725298445,"address":`+string(user.RawJSON())+`,"roles":["user","write"]}`)
	c, err := ParseAccessToken(tok, pub, now.Add(time.Hour))
	if err != nil || !c.Address.Equal(user) || strings.Join(c.Roles, ",") != "user,write" || !c.IssuedAt.Equal(now) || !c.ExpiresAt.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := ParseAccessToken(tok, pub, now.Add(24*time.Hour)); err != nil {
		t.Errorf("at exactly exp: %v", err)
	}
	if _, err := ParseAccessToken(tok, pub, now.Add(24*time.Hour+time.Millisecond)); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("after exp: %v", err)
	}
	if _, err := ParseAccessToken(tok, GenerateSecretKey().PublicKey(), now); !errors.Is(err, ErrTokenSignature) {
		t.Errorf("other server key: %v", err)
	}
	if _, err := ParseAccessToken(tok, pub, now.Add(-2*time.Minute)); !errors.Is(err, ErrTokenClaims) {
		t.Errorf("issued in the future: %v", err)
	}
	// A login token, even one signed by the server key, is not an access token.
	k := GenerateSecretKey()
	login, _ := NewLoginToken(k, NewAddress(Mainnet, k.PublicKey()), 1, nil)
	if _, err := ParseAccessToken(login, k.PublicKey(), now); !errors.Is(err, ErrTokenClaims) {
		t.Errorf("login token as access token: %v", err)
	}
	hdr := `{"alg":"Ristretto256","typ":"JWT"}`
	for name, claims := range map[string]string{
		"missing exp":    `{"iat":1725298445,"address":` + string(user.RawJSON()) + `,"roles":[]}`,
		"missing iat":    `{"exp":1725384845,"address":` + string(user.RawJSON()) + `,"roles":[]}`,
		"float exp":      `{"exp":1725384845.5,"iat":1725298445,"address":` + string(user.RawJSON()) + `,"roles":[]}`,
		"string exp":     `{"exp":"1725384845","iat":1725298445,"address":` + string(user.RawJSON()) + `,"roles":[]}`,
		"missing roles":  `{"exp":1725384845,"iat":1725298445,"address":` + string(user.RawJSON()) + `}`,
		"unknown role":   `{"exp":1725384845,"iat":1725298445,"address":` + string(user.RawJSON()) + `,"roles":["root"]}`,
		"base58 address": `{"exp":1725384845,"iat":1725298445,"address":"` + user.Base58() + `","roles":[]}`,
	} {
		if _, err := ParseAccessToken(forge(server, hdr, claims), pub, now); !errors.Is(err, ErrTokenClaims) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
