package tari

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWTAlg is the JWS "alg" of Tari tokens.
const JWTAlg = "Ristretto256"

// AccessTokenLifetime is fixed by the reference: no refresh, no renewal.
const AccessTokenLifetime = 24 * time.Hour

// Token errors. ErrTokenFormat means the token could not even be split and
// decoded (the reference answers 400); every other error means it is not
// acceptable (401).
var (
	ErrTokenFormat             = errors.New("token is not in the correct format")
	ErrTokenAlg                = errors.New("token algorithm is not " + JWTAlg)
	ErrTokenMalformedSignature = errors.New("malformed token signature")
	ErrTokenSignature          = errors.New("signature has failed verification")
	ErrTokenClaims             = errors.New("token claims are invalid")
	ErrTokenExpired            = errors.New("token has expired")
)

// Roles known to the server; tokens naming any other role are rejected.
const (
	RoleUser          = "user"
	RoleReadAll       = "read_all"
	RoleWrite         = "write"
	RolePaymentWallet = "payment_wallet"
	RoleSuperAdmin    = "super_admin"
)

// ValidRole reports whether r is one of the roles above.
func ValidRole(r string) bool {
	switch r {
	case RoleUser, RoleReadAll, RoleWrite, RolePaymentWallet, RoleSuperAdmin:
		return true
	}
	return false
}

// SigningMethodRistretto256 is the golang-jwt signing method for Tari JWTs:
// Schnorr over the transmitted "header.claims" ASCII in the
// com.tari.jwt-ristretto domain. Sign takes a SecretKey, Verify a PublicKey.
var SigningMethodRistretto256 jwt.SigningMethod = ristrettoMethod{}

func init() {
	jwt.RegisterSigningMethod(JWTAlg, func() jwt.SigningMethod { return SigningMethodRistretto256 })
}

type ristrettoMethod struct{}

func (ristrettoMethod) Alg() string { return JWTAlg }

func (ristrettoMethod) Sign(signingString string, key any) ([]byte, error) {
	var k SecretKey
	switch v := key.(type) {
	case SecretKey:
		k = v
	case *SecretKey:
		k = *v
	default:
		return nil, fmt.Errorf("%s signs with a tari.SecretKey, got %T", JWTAlg, key)
	}
	if k.IsZero() {
		return nil, errors.New("zero secret key")
	}
	sig := Sign(JWTDomain, k, []byte(signingString))
	b := sig.Bytes()
	return b[:], nil
}

func (ristrettoMethod) Verify(signingString string, sigBytes []byte, key any) error {
	var p PublicKey
	switch v := key.(type) {
	case PublicKey:
		p = v
	case *PublicKey:
		p = *v
	default:
		return fmt.Errorf("%s verifies with a tari.PublicKey, got %T", JWTAlg, key)
	}
	sig, err := SignatureFromBytes(sigBytes)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTokenMalformedSignature, err)
	}
	if !Verify(JWTDomain, p, []byte(signingString), sig) {
		return ErrTokenSignature
	}
	return nil
}

// rawClaims carries the claims JSON through golang-jwt untouched, so the
// claims are decoded (strictly) by this package after the signature check.
type rawClaims struct{ json []byte }

func (c *rawClaims) MarshalJSON() ([]byte, error) { return c.json, nil }
func (c *rawClaims) UnmarshalJSON(b []byte) error {
	c.json = append([]byte(nil), b...)
	return nil
}
func (c *rawClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (c *rawClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (c *rawClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c *rawClaims) GetIssuer() (string, error)                   { return "", nil }
func (c *rawClaims) GetSubject() (string, error)                  { return "", nil }
func (c *rawClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

const maxTokenLen = 16 << 10

// precheck enforces what golang-jwt does not: only base64url characters in
// three non-empty-header segments (Go's base64 decoder silently skips CR/LF).
func precheck(token string) error {
	if len(token) > maxTokenLen {
		return fmt.Errorf("%w: too long", ErrTokenFormat)
	}
	if strings.Count(token, ".") != 2 {
		return fmt.Errorf("%w: want 3 segments", ErrTokenFormat)
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%w: character %q is not base64url", ErrTokenFormat, c)
		}
	}
	return nil
}

var parser = jwt.NewParser(
	jwt.WithValidMethods([]string{JWTAlg}),
	jwt.WithStrictDecoding(),
	jwt.WithoutClaimsValidation(), // exp/iat are checked here, with the caller's clock
)

// verifyJWT checks structure, alg and signature. keyFor picks the key from
// the (unverified) claims JSON.
func verifyJWT(token string, keyFor func(claims []byte) (PublicKey, error)) (map[string]any, []byte, error) {
	if err := precheck(token); err != nil {
		return nil, nil, err
	}
	// golang-jwt treats claims that are not JSON as a malformed token; the
	// reference decodes claims only after splitting, so that is a 401.
	seg := strings.Split(token, ".")
	var hdr map[string]any
	if h, err := base64.RawURLEncoding.Strict().DecodeString(seg[0]); err != nil || json.Unmarshal(h, &hdr) != nil {
		return nil, nil, fmt.Errorf("%w: header", ErrTokenFormat)
	}
	if c, err := base64.RawURLEncoding.Strict().DecodeString(seg[1]); err == nil && !json.Valid(c) {
		return nil, nil, fmt.Errorf("%w: claims are not JSON", ErrTokenClaims)
	}
	claims := &rawClaims{}
	var keyErr error
	tok, err := parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if cty, ok := t.Header["cty"]; ok {
			if s, _ := cty.(string); !strings.EqualFold(s, "json") {
				keyErr = fmt.Errorf("%w: content type %v is not supported", ErrTokenClaims, cty)
				return nil, keyErr
			}
		}
		p, err := keyFor(claims.json)
		if err != nil {
			keyErr = err
			return nil, err
		}
		return p, nil
	})
	if err == nil {
		return tok.Header, claims.json, nil
	}
	switch {
	case keyErr != nil:
		return nil, nil, keyErr
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, nil, fmt.Errorf("%w: %v", ErrTokenFormat, err)
	case errors.Is(err, ErrTokenMalformedSignature):
		return nil, nil, ErrTokenMalformedSignature
	case errors.Is(err, ErrTokenSignature):
		return nil, nil, ErrTokenSignature
	case errors.Is(err, jwt.ErrTokenUnverifiable), errors.Is(err, jwt.ErrTokenSignatureInvalid):
		// Unknown or disallowed alg ("none", HS256, ...).
		return nil, nil, fmt.Errorf("%w: %v", ErrTokenAlg, err)
	}
	return nil, nil, fmt.Errorf("%w: %v", ErrTokenSignature, err)
}

// VerifyJWT checks a Ristretto256 token's structure and signature with key
// and returns its header and raw claims JSON; it does not look at claims.
func VerifyJWT(token string, key PublicKey) (header map[string]any, claims []byte, err error) {
	return verifyJWT(token, func([]byte) (PublicKey, error) { return key, nil })
}

// signJWT signs claimsJSON (sent as is) with header {"alg":"Ristretto256","typ":"JWT"}.
func signJWT(k SecretKey, claimsJSON []byte) (string, error) {
	return jwt.NewWithClaims(SigningMethodRistretto256, &rawClaims{json: claimsJSON}).SignedString(k)
}

// strictObject decodes a JSON object into its members with exact
// (case-sensitive) keys, refusing duplicates as serde does.
func strictObject(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("claims are not a JSON object")
	}
	m := map[string]json.RawMessage{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("duplicate field %q", k)
		}
		m[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return m, nil
}

func decodeRoles(raw json.RawMessage, field string) ([]string, error) {
	var roles []string
	if err := json.Unmarshal(raw, &roles); err != nil || roles == nil {
		return nil, fmt.Errorf("%s must be an array of strings", field)
	}
	for _, r := range roles {
		if !ValidRole(r) {
			return nil, fmt.Errorf("unknown role %q in %s", r, field)
		}
	}
	return roles, nil
}

func rolesJSON(roles []string) ([]byte, error) {
	if roles == nil {
		roles = []string{}
	}
	for _, r := range roles {
		if !ValidRole(r) {
			return nil, fmt.Errorf("unknown role %q", r)
		}
	}
	return json.Marshal(roles)
}

// LoginClaims are what a wallet asserts in a login token.
type LoginClaims struct {
	Address      Address
	Nonce        uint64
	DesiredRoles []string
}

func (c LoginClaims) json() ([]byte, error) {
	roles, err := rolesJSON(c.DesiredRoles)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"address":`)
	b.Write(c.Address.RawJSON())
	b.WriteString(`,"nonce":`)
	b.WriteString(strconv.FormatUint(c.Nonce, 10))
	b.WriteString(`,"desired_roles":`)
	b.Write(roles)
	b.WriteByte('}')
	return b.Bytes(), nil
}

func parseLoginClaims(data []byte) (LoginClaims, error) {
	m, err := strictObject(data)
	if err != nil {
		return LoginClaims{}, fmt.Errorf("%w: %v", ErrTokenClaims, err)
	}
	for _, f := range []string{"address", "nonce", "desired_roles"} {
		if _, ok := m[f]; !ok {
			return LoginClaims{}, fmt.Errorf("%w: missing field %q", ErrTokenClaims, f)
		}
	}
	var c LoginClaims
	if c.Address, err = ParseRawAddressJSON(m["address"]); err != nil {
		return LoginClaims{}, fmt.Errorf("%w: %v", ErrTokenClaims, err)
	}
	if err := json.Unmarshal(m["nonce"], &c.Nonce); err != nil {
		return LoginClaims{}, fmt.Errorf("%w: nonce must be an unsigned integer", ErrTokenClaims)
	}
	if c.DesiredRoles, err = decodeRoles(m["desired_roles"], "desired_roles"); err != nil {
		return LoginClaims{}, fmt.Errorf("%w: %v", ErrTokenClaims, err)
	}
	return c, nil
}

// NewLoginToken makes the self-signed token a wallet sends to POST /auth.
// k must be the secret of a's spend key.
func NewLoginToken(k SecretKey, a Address, nonce uint64, roles []string) (string, error) {
	if k.IsZero() || k.PublicKey() != a.SpendKey {
		return "", errors.New("secret key does not match the address's spend key")
	}
	claims, err := LoginClaims{Address: a, Nonce: nonce, DesiredRoles: roles}.json()
	if err != nil {
		return "", err
	}
	return signJWT(k, claims)
}

// ParseLoginToken verifies a login token with the spend key named in its
// own claims (so it proves possession of that key) and returns the claims.
// exp/iat, if present, are ignored as the reference does; the caller checks
// the nonce and the roles.
func ParseLoginToken(token string) (LoginClaims, error) {
	var c LoginClaims
	_, _, err := verifyJWT(token, func(claims []byte) (PublicKey, error) {
		var err error
		c, err = parseLoginClaims(claims)
		if err != nil {
			return PublicKey{}, err
		}
		return c.Address.SpendKey, nil
	})
	if err != nil {
		return LoginClaims{}, err
	}
	return c, nil
}

// AccessClaims are what the server grants in an access token.
type AccessClaims struct {
	Address   Address
	Roles     []string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// NewAccessToken issues a 24-hour access token signed with the server key.
// Claims in the reference's order: exp, iat, address, roles.
func NewAccessToken(server SecretKey, a Address, roles []string, now time.Time) (string, error) {
	r, err := rolesJSON(roles)
	if err != nil {
		return "", err
	}
	iat := now.Unix()
	var b bytes.Buffer
	b.WriteString(`{"exp":`)
	b.WriteString(strconv.FormatInt(iat+int64(AccessTokenLifetime/time.Second), 10))
	b.WriteString(`,"iat":`)
	b.WriteString(strconv.FormatInt(iat, 10))
	b.WriteString(`,"address":`)
	b.Write(a.RawJSON())
	b.WriteString(`,"roles":`)
	b.Write(r)
	b.WriteByte('}')
	return signJWT(server, b.Bytes())
}

// maxIssuedAtSkew tolerates server clocks that differ a little between
// instances; a token issued further in the future is refused.
const maxIssuedAtSkew = time.Minute

// ParseAccessToken verifies an access token with the server's public key
// and checks that exp is present and not passed at now (no leeway) and that
// iat is present and not in the future.
func ParseAccessToken(token string, server PublicKey, now time.Time) (AccessClaims, error) {
	_, raw, err := VerifyJWT(token, server)
	if err != nil {
		return AccessClaims{}, err
	}
	m, err := strictObject(raw)
	if err != nil {
		return AccessClaims{}, fmt.Errorf("%w: %v", ErrTokenClaims, err)
	}
	var exp, iat int64
	for f, dst := range map[string]*int64{"exp": &exp, "iat": &iat} {
		v, ok := m[f]
		if !ok {
			return AccessClaims{}, fmt.Errorf("%w: missing %q", ErrTokenClaims, f)
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return AccessClaims{}, fmt.Errorf("%w: %s must be an integer", ErrTokenClaims, f)
		}
	}
	c := AccessClaims{IssuedAt: time.Unix(iat, 0).UTC(), ExpiresAt: time.Unix(exp, 0).UTC()}
	if now.After(c.ExpiresAt) {
		return AccessClaims{}, ErrTokenExpired
	}
	if c.IssuedAt.After(now.Add(maxIssuedAtSkew)) {
		return AccessClaims{}, fmt.Errorf("%w: issued in the future", ErrTokenClaims)
	}
	addr, ok := m["address"]
	if !ok {
		return AccessClaims{}, fmt.Errorf("%w: missing \"address\"", ErrTokenClaims)
	}
	if c.Address, err = ParseRawAddressJSON(addr); err != nil {
		return AccessClaims{}, fmt.Errorf("%w: %v", ErrTokenClaims, err)
	}
	roles, ok := m["roles"]
	if !ok {
		return AccessClaims{}, fmt.Errorf("%w: missing \"roles\"", ErrTokenClaims)
	}
	if c.Roles, err = decodeRoles(roles, "roles"); err != nil {
		return AccessClaims{}, fmt.Errorf("%w: %v", ErrTokenClaims, err)
	}
	return c, nil
}
