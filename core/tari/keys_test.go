package tari

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// groupOrder is ℓ little-endian: the smallest non-canonical scalar.
const groupOrderHex = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"

func TestSignVerifyRoundTrip(t *testing.T) {
	k := GenerateSecretKey()
	p := k.PublicKey()
	other := GenerateSecretKey().PublicKey()
	msg := []byte("14s9vDTwrweZvWEgQ9gNhXXPX68DPXSSAHNFWYEPi5JsBQY:oid554432")
	for _, d := range []Domain{MemoDomain, WalletDomain, JWTDomain, DefaultDomain} {
		sig := Sign(d, k, msg)
		if !Verify(d, p, msg, sig) {
			t.Fatalf("%s: own signature does not verify", d)
		}
		if Sign(d, k, msg) == sig {
			t.Errorf("%s: two signatures are identical; nonces must be random", d)
		}
		for _, wrong := range []Domain{MemoDomain, WalletDomain, JWTDomain, DefaultDomain} {
			if wrong != d && Verify(wrong, p, msg, sig) {
				t.Errorf("signature for %s verifies under %s", d, wrong)
			}
		}
		if Verify(d, other, msg, sig) {
			t.Errorf("%s: verifies with another key", d)
		}
		tampered := append([]byte{}, msg...)
		tampered[len(tampered)-1] ^= 1
		if Verify(d, p, tampered, sig) {
			t.Errorf("%s: verifies a tampered message", d)
		}
		// Round trip through the hex wire form.
		back, err := ParseSignature(sig.Hex())
		if err != nil || back != sig || !Verify(d, p, msg, back) {
			t.Errorf("%s: hex round trip: %v", d, err)
		}
		// Flipping any bit of R or s breaks it (or makes it unparseable).
		for _, i := range []int{0, 31, 32, 63} {
			b := sig.Bytes()
			b[i] ^= 0x04
			if s2, err := SignatureFromBytes(b[:]); err == nil && Verify(d, p, msg, s2) {
				t.Errorf("%s: verifies with byte %d flipped", d, i)
			}
		}
	}
}

func TestVerifyRejectsIdentityKey(t *testing.T) {
	var id PublicKey // all zeros: the identity, a valid encoding
	if _, err := ParsePublicKey(strings.Repeat("0", 64)); err != nil {
		t.Fatalf("identity should parse as a point: %v", err)
	}
	// With P = identity, s·G == R holds for R = s·G whatever the message:
	// exactly the forgery the identity check prevents.
	s := GenerateSecretKey()
	r := s.PublicKey()
	var raw [64]byte
	copy(raw[:32], r.b[:])
	copy(raw[32:], s.b[:])
	sig, err := SignatureFromBytes(raw[:])
	if err != nil {
		t.Fatal(err)
	}
	if Verify(MemoDomain, id, []byte("anything"), sig) {
		t.Fatal("identity public key accepted a forged signature")
	}
}

func TestSignWithNonceIsDeterministic(t *testing.T) {
	k, _ := ParseSecretKey("1dbbce83de2b0233c404b96b9234233bb3cec51503e2124d8c728a2d9b4fb00c")
	r, _ := ParseSecretKey("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00")
	msg := []byte("hello")
	a, b := SignWithNonce(MemoDomain, k, r, msg), SignWithNonce(MemoDomain, k, r, msg)
	if a != b || !Verify(MemoDomain, k.PublicKey(), msg, a) {
		t.Fatal("fixed-nonce signing is not deterministic or not valid")
	}
	rp := r.PublicKey()
	if !bytes.Equal(a.b[:32], rp.b[:]) {
		t.Fatal("R is not nonce·G")
	}
}

func TestParseSecretKey(t *testing.T) {
	const h = "1dbbce83de2b0233c404b96b9234233bb3cec51503e2124d8c728a2d9b4fb00c"
	for _, ok := range []string{h, strings.ToUpper(h), "0x" + h, "  " + h + "\n"} {
		k, err := ParseSecretKey(ok)
		if err != nil || k.Hex() != h {
			t.Errorf("ParseSecretKey(%q) = %v", ok, err)
		}
	}
	for _, c := range []struct {
		in   string
		want error
	}{
		{"", ErrKeyFormat},
		{h[:62], ErrKeyFormat},
		{h + "00", ErrKeyFormat},
		{"zz" + h[2:], ErrKeyFormat},
		{groupOrderHex, ErrNonCanonical},
		{strings.Repeat("f", 64), ErrNonCanonical},
	} {
		if _, err := ParseSecretKey(c.in); !errors.Is(err, c.want) {
			t.Errorf("ParseSecretKey(%q) = %v, want %v", c.in, err, c.want)
		}
	}
	if _, err := ParseSecretKey(h[:10]); err == nil || err.Error() != "not 64 hex characters" {
		t.Errorf("error text %q", err)
	}
	k, _ := ParseSecretKey(h)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k)} {
		if strings.Contains(s, h[:16]) {
			t.Errorf("secret leaks through fmt: %s", s)
		}
	}
	if !k.Equal(k) || k.Equal(GenerateSecretKey()) {
		t.Error("Equal")
	}
}

func TestParsePublicKey(t *testing.T) {
	k := GenerateSecretKey()
	p := k.PublicKey()
	if q, err := ParsePublicKey(strings.ToUpper(p.Hex())); err != nil || q != p {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{
		strings.Repeat("f", 64),        // field element ≥ p
		"01" + strings.Repeat("0", 62), // negative s
		"0200000000000000000000000000000000000000000000000000000000000000", // not on the curve
		p.Hex()[:62],
		p.Hex() + "00",
	} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
	}
}

func TestParseSignature(t *testing.T) {
	k := GenerateSecretKey()
	sig := Sign(MemoDomain, k, []byte("m"))
	h := sig.Hex()
	if s, err := ParseSignature(strings.ToUpper(h)); err != nil || s != sig {
		t.Fatalf("uppercase: %v", err)
	}
	R, s := h[:64], h[64:]
	for _, c := range []struct {
		name, in string
	}{
		{"empty", ""},
		{"127 chars", h[:127]},
		{"129 chars", h + "0"},
		{"130 chars", h + "00"},
		{"non-hex", "g" + h[1:]},
		{"0x prefix", "0x" + h[2:]},
		{"R invalid point", strings.Repeat("f", 64) + s},
		{"R not on curve", "02" + strings.Repeat("0", 62) + s},
		{"s = group order", R + groupOrderHex},
		{"s all ones", R + strings.Repeat("f", 64)},
		{"whitespace", " " + h[1:]},
	} {
		if _, err := ParseSignature(c.in); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if _, err := SignatureFromBytes(make([]byte, 63)); err == nil {
		t.Error("63 bytes accepted")
	}
}

func TestDomainHashLayout(t *testing.T) {
	// Length prefix on the tag and each chunk, u64 little-endian (tari-formats.md §1.2),
	// checked against the preimage of the worked memo example in the spec.
	R := mustHex(t, "74236918f5815383ad7a889fa2c26037418b217f983575b5b5cfde21c7bcf309")
	P := mustHex(t, "a8d523755de41b9c14de709ca59d52bc1772658258962ef5bbefa8c59082e547")
	msg := []byte("14s9vDTwrweZvWEgQ9gNhXXPX68DPXSSAHNFWYEPi5JsBQY:oid554432")
	c := challengeHash(MemoDomain, R, P, msg)
	eq(t, "challenge", hex.EncodeToString(c[:]), "36cdb599e02ede05e9292740dc6f2e8d3db47bca68f48b75c3f9f0390e7bb8f066e7e05fc1ee302ad1204128b6806f4da67219ccf57ae8bb377a1cb1fa175131")
	e := challenge(MemoDomain, R, P, msg)
	eq(t, "e", hex.EncodeToString(e.Encode(nil)), "9f2a17e4ff8fa08ee57bb9ec3d1902f9274cf68b53272e860d70b3892f268e0c")
}

func TestPointCacheStaysBounded(t *testing.T) {
	pointCacheN.Store(pointCacheMax)
	k := GenerateSecretKey()
	msg := []byte("m")
	if !Verify(MemoDomain, k.PublicKey(), msg, Sign(MemoDomain, k, msg)) {
		t.Fatal("verify after cache reset")
	}
	if n := pointCacheN.Load(); n != 1 {
		t.Fatalf("cache count %d after overflow, want 1", n)
	}
	if _, ok := pointCache.Load(k.PublicKey().b); !ok {
		t.Fatal("key not cached")
	}
}

// Verify shares the decoded-key cache between goroutines (run with -race).
func TestVerifyConcurrent(t *testing.T) {
	keys := []SecretKey{GenerateSecretKey(), GenerateSecretKey(), GenerateSecretKey()}
	msg := []byte("concurrent")
	sigs := make([]Signature, len(keys))
	for i, k := range keys {
		sigs[i] = Sign(WalletDomain, k, msg)
	}
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func(g int) {
			ok := true
			for i := 0; i < 20; i++ {
				j := (g + i) % len(keys)
				ok = ok && Verify(WalletDomain, keys[j].PublicKey(), msg, sigs[j]) &&
					!Verify(WalletDomain, keys[(j+1)%len(keys)].PublicKey(), msg, sigs[j])
			}
			done <- ok
		}(g)
	}
	for g := 0; g < 4; g++ {
		if !<-done {
			t.Error("wrong verification result under concurrency")
		}
	}
}
