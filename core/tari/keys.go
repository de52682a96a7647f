package tari

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gtank/ristretto255"
	"golang.org/x/crypto/blake2b"
)

// SecretKey is a canonical Ristretto255 scalar (32 bytes little-endian).
// The zero value is the scalar 0 and is not a usable key.
type SecretKey struct {
	b [32]byte
}

// PublicKey is a compressed Ristretto255 point that is known to decode.
// It is comparable with ==.
type PublicKey struct {
	b [32]byte
}

// Signature is a Schnorr signature (public nonce R, scalar s) whose R decodes
// and whose s is canonical. Wire form: R || s.
type Signature struct {
	b [64]byte
}

// Domain names a signature use; the challenge tag is "<domain>.v1.challenge".
type Domain string

const (
	MemoDomain   Domain = "MemoSignature"
	WalletDomain Domain = "WalletSignature"
	JWTDomain    Domain = "com.tari.jwt-ristretto"
	// DefaultDomain is tari_crypto's own default; TPS never signs with it.
	DefaultDomain Domain = "com.tari.schnorr_signature"
)

var (
	ErrKeyFormat       = errors.New("not 64 hex characters")
	ErrNonCanonical    = errors.New("scalar is not canonical (must be less than the group order)")
	ErrInvalidPoint    = errors.New("not a valid Ristretto255 point encoding")
	ErrSignatureFormat = errors.New("signature is not 128 hex characters")
)

// decodeHex is tari_utilities' lenient from_hex: surrounding whitespace
// trimmed, optional 0x, either case.
func decodeHex(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "0x")
	return hex.DecodeString(s)
}

// GenerateSecretKey returns a uniformly random key.
func GenerateSecretKey() SecretKey {
	var k SecretKey
	copy(k.b[:], randomScalar().Encode(nil))
	return k
}

func randomScalar() *ristretto255.Scalar {
	var wide [64]byte
	if _, err := rand.Read(wide[:]); err != nil {
		panic("tari: system randomness failed: " + err.Error())
	}
	return ristretto255.NewScalar().FromUniformBytes(wide[:])
}

// ParseSecretKey reads 64 hex characters (lenient hex) holding a canonical
// scalar.
func ParseSecretKey(s string) (SecretKey, error) {
	b, err := decodeHex(s)
	if err != nil || len(b) != 32 {
		return SecretKey{}, ErrKeyFormat
	}
	var k SecretKey
	copy(k.b[:], b)
	if _, err := k.scalar(); err != nil {
		return SecretKey{}, err
	}
	return k, nil
}

func (k SecretKey) scalar() (*ristretto255.Scalar, error) {
	sc := ristretto255.NewScalar()
	if err := sc.Decode(k.b[:]); err != nil {
		return nil, ErrNonCanonical
	}
	return sc, nil
}

// Hex is the lowercase hex of the secret. Handle the result as a secret.
func (k SecretKey) Hex() string { return hex.EncodeToString(k.b[:]) }

// String and GoString keep secrets out of logs and %v output.
func (k SecretKey) String() string   { return "SecretKey(redacted)" }
func (k SecretKey) GoString() string { return "tari.SecretKey{redacted}" }

// Equal compares two secrets in constant time.
func (k SecretKey) Equal(o SecretKey) bool {
	return subtle.ConstantTimeCompare(k.b[:], o.b[:]) == 1
}

// IsZero reports whether k is the zero value.
func (k SecretKey) IsZero() bool {
	var z [32]byte
	return subtle.ConstantTimeCompare(k.b[:], z[:]) == 1
}

// PublicKey returns k·G.
func (k SecretKey) PublicKey() PublicKey {
	sc, err := k.scalar()
	if err != nil {
		panic("tari: invalid SecretKey value") // only constructible through checked paths
	}
	var p PublicKey
	ristretto255.NewElement().ScalarBaseMult(sc).Encode(p.b[:0])
	return p
}

// ParsePublicKey reads 64 hex characters (lenient hex) holding a valid
// compressed Ristretto255 point.
func ParsePublicKey(s string) (PublicKey, error) {
	b, err := decodeHex(s)
	if err != nil || len(b) != 32 {
		return PublicKey{}, ErrKeyFormat
	}
	return PublicKeyFromBytes(b)
}

// PublicKeyFromBytes checks and wraps a 32-byte compressed point.
func PublicKeyFromBytes(b []byte) (PublicKey, error) {
	if len(b) != 32 {
		return PublicKey{}, ErrInvalidPoint
	}
	if err := ristretto255.NewElement().Decode(b); err != nil {
		return PublicKey{}, ErrInvalidPoint
	}
	var p PublicKey
	copy(p.b[:], b)
	return p, nil
}

// Hex is the lowercase hex of the compressed point.
func (p PublicKey) Hex() string { return hex.EncodeToString(p.b[:]) }

// String is Hex.
func (p PublicKey) String() string { return p.Hex() }

// Bytes returns the compressed point.
func (p PublicKey) Bytes() [32]byte { return p.b }

// IsIdentity reports whether p is the group identity (all-zero encoding),
// which never verifies anything.
func (p PublicKey) IsIdentity() bool { return p.b == [32]byte{} }

// ParseSignature reads exactly 128 hex characters: R (a valid point) then s
// (a canonical scalar).
func ParseSignature(s string) (Signature, error) {
	if len(s) != 128 {
		return Signature{}, ErrSignatureFormat
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return Signature{}, ErrSignatureFormat
	}
	return SignatureFromBytes(b)
}

// SignatureFromBytes checks and wraps the 64-byte R || s form.
func SignatureFromBytes(b []byte) (Signature, error) {
	if len(b) != 64 {
		return Signature{}, fmt.Errorf("signature is %d bytes, want 64", len(b))
	}
	if err := ristretto255.NewElement().Decode(b[:32]); err != nil {
		return Signature{}, fmt.Errorf("invalid public nonce: %w", ErrInvalidPoint)
	}
	if err := ristretto255.NewScalar().Decode(b[32:]); err != nil {
		return Signature{}, fmt.Errorf("invalid signature scalar: %w", ErrNonCanonical)
	}
	var sig Signature
	copy(sig.b[:], b)
	return sig, nil
}

// Hex is hex(R) + hex(s), 128 lowercase characters.
func (s Signature) Hex() string { return hex.EncodeToString(s.b[:]) }

// String is Hex.
func (s Signature) String() string { return s.Hex() }

// Bytes returns R || s.
func (s Signature) Bytes() [64]byte { return s.b }

// domainHasher feeds a hash the way tari_crypto's DomainSeparatedHasher does:
// the tag and every chunk, each preceded by its length as u64 little-endian.
type domainHasher struct{ h hash.Hash }

func newDomainHasher(h hash.Hash, domain string, version byte, label string) domainHasher {
	tag := domain + ".v" + strconv.Itoa(int(version))
	if label != "" {
		tag += "." + label
	}
	d := domainHasher{h}
	d.chunk([]byte(tag))
	return d
}

func (d domainHasher) chunk(b []byte) domainHasher {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
	d.h.Write(n[:])
	d.h.Write(b)
	return d
}

// DomainHash is tari_crypto's domain-separated hash of chunks with digest h
// (exported for vectors and cross-checks; signatures use challenge).
func DomainHash(h hash.Hash, domain string, version byte, label string, chunks ...[]byte) []byte {
	d := newDomainHasher(h, domain, version, label)
	for _, c := range chunks {
		d.chunk(c)
	}
	return h.Sum(nil)
}

// challengeHash is BLAKE2b-512 over (tag, R, P, msg).
func challengeHash(d Domain, r, p []byte, msg []byte) [64]byte {
	h, _ := blake2b.New512(nil)
	newDomainHasher(h, string(d), 1, "challenge").chunk(r).chunk(p).chunk(msg)
	var out [64]byte
	h.Sum(out[:0])
	return out
}

func challenge(d Domain, r, p []byte, msg []byte) *ristretto255.Scalar {
	c := challengeHash(d, r, p, msg)
	return ristretto255.NewScalar().FromUniformBytes(c[:])
}

// Sign makes a Schnorr signature over msg with a fresh random nonce.
func Sign(d Domain, k SecretKey, msg []byte) Signature {
	return sign(d, k, randomScalar(), msg)
}

// SignWithNonce signs with a caller-chosen nonce. Reusing a nonce for two
// messages reveals the key: use it only for golden tests.
func SignWithNonce(d Domain, k SecretKey, nonce SecretKey, msg []byte) Signature {
	r, err := nonce.scalar()
	if err != nil {
		panic("tari: invalid nonce value")
	}
	return sign(d, k, r, msg)
}

func sign(d Domain, k SecretKey, r *ristretto255.Scalar, msg []byte) Signature {
	sk, err := k.scalar()
	if err != nil {
		panic("tari: invalid SecretKey value")
	}
	var sig Signature
	ristretto255.NewElement().ScalarBaseMult(r).Encode(sig.b[:0])
	p := k.PublicKey()
	e := challenge(d, sig.b[:32], p.b[:], msg)
	s := ristretto255.NewScalar().Multiply(e, sk)
	s.Add(s, r)
	s.Encode(sig.b[32:32])
	return sig
}

// Verify checks s·G == R + e·P, computed as R == s·G − e·P with one
// variable-time double-base multiplication. The identity key never verifies.
func Verify(d Domain, p PublicKey, msg []byte, sig Signature) bool {
	return verify(d, p, msg, sig, true)
}

func verify(d Domain, p PublicKey, msg []byte, sig Signature, cached bool) bool {
	if p.IsIdentity() {
		return false
	}
	var P *ristretto255.Element
	if cached {
		P = decodeCached(p)
	} else {
		P = new(ristretto255.Element)
		if P.Decode(p.b[:]) != nil {
			P = nil
		}
	}
	var R ristretto255.Element
	if P == nil || R.Decode(sig.b[:32]) != nil {
		return false
	}
	var s ristretto255.Scalar
	if s.Decode(sig.b[32:]) != nil {
		return false
	}
	e := challenge(d, sig.b[:32], p.b[:], msg)
	e.Negate(e)
	var check ristretto255.Element
	check.VarTimeDoubleScalarBaseMult(e, P, &s)
	return check.Equal(&R) == 1
}

// Decoded public keys are cached: decoding costs about a tenth of a
// verification, and the server checks the same few keys (its own JWT key,
// the hot wallets) over and over. Entries are immutable; the cache is
// dropped wholesale when full, which keeps it bounded without bookkeeping.
var (
	pointCache  sync.Map // [32]byte → *ristretto255.Element
	pointCacheN atomic.Int64
)

const pointCacheMax = 4096

func decodeCached(p PublicKey) *ristretto255.Element {
	if v, ok := pointCache.Load(p.b); ok {
		return v.(*ristretto255.Element)
	}
	P := new(ristretto255.Element)
	if P.Decode(p.b[:]) != nil {
		return nil
	}
	if pointCacheN.Add(1) > pointCacheMax {
		pointCache.Clear()
		pointCacheN.Store(1)
	}
	pointCache.Store(p.b, P)
	return P
}
