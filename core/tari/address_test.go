package tari

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

var allNetworks = []Network{Mainnet, Stagenet, Nextnet, Localnet, Igor, Esmeralda}

func TestNetworks(t *testing.T) {
	first := map[Network]byte{Mainnet: '1', Stagenet: '2', Nextnet: '3', Localnet: 'H', Igor: 'd', Esmeralda: 'f'}
	p := GenerateSecretKey().PublicKey()
	for _, n := range allNetworks {
		got, err := ParseNetwork(strings.ToUpper(n.String()))
		if err != nil || got != n {
			t.Errorf("ParseNetwork(%q) = %v, %v", n, got, err)
		}
		if b := NewAddress(n, p).Base58(); b[0] != first[n] {
			t.Errorf("%s base58 starts %q, want %q", n, b[0], first[n])
		}
	}
	if n, err := ParseNetwork("esme"); err != nil || n != Esmeralda {
		t.Error("esme")
	}
	if _, err := ParseNetwork("testnet"); !errors.Is(err, ErrUnknownNetwork) {
		t.Errorf("testnet: %v", err)
	}
}

// TestAddressRoundTrips covers every network, feature value and both kinds.
func TestAddressRoundTrips(t *testing.T) {
	spend := GenerateSecretKey().PublicKey()
	view := GenerateSecretKey().PublicKey()
	for _, n := range allNetworks {
		for f := byte(0); f <= 3; f++ {
			for _, a := range []Address{
				{Network: n, Features: f, SpendKey: spend},
				{Network: n, Features: f, ViewKey: &view, SpendKey: spend},
			} {
				b58, emo, hx := a.Base58(), a.Emoji(), a.Hex()
				wantLen, wantEmoji := 35, 35
				if a.IsDual() {
					wantLen, wantEmoji = 67, 67
				}
				if len(a.Bytes()) != wantLen || utf8.RuneCountInString(emo) != wantEmoji || len(hx) != 2*wantLen {
					t.Fatalf("%s: sizes %d %d %d", n, len(a.Bytes()), utf8.RuneCountInString(emo), len(hx))
				}
				if a.IsDual() && (len(b58) < 90 || len(b58) > 91) || !a.IsDual() && (len(b58) < 46 || len(b58) > 48) {
					t.Errorf("base58 length %d", len(b58))
				}
				if b58[1] != "1234"[f] {
					t.Errorf("features %d encodes as %q", f, b58[1])
				}
				for _, s := range []string{b58, emo, hx, strings.ToUpper(hx), " 0x" + hx + "\t", "|" + emo + "|"} {
					got, err := ParseAddress(s)
					if err != nil || !got.Equal(a) {
						t.Fatalf("%s f=%d dual=%v: parse %q: %v", n, f, a.IsDual(), s, err)
					}
				}
				if DammSum(a.Bytes()) != 0 {
					t.Error("checksum over all bytes is not 0")
				}
				raw, err := ParseRawAddressJSON(a.RawJSON())
				if err != nil || !raw.Equal(a) {
					t.Errorf("raw JSON round trip %s: %v", a.RawJSON(), err)
				}
			}
		}
	}
}

func withChecksum(b []byte) []byte {
	b = append([]byte{}, b[:len(b)-1]...)
	return append(b, DammSum(b))
}

func TestAddressRejects(t *testing.T) {
	spend := GenerateSecretKey().PublicKey()
	good := NewAddress(Mainnet, spend).Bytes()
	badKey := append([]byte{0, 3}, mustHex(t, strings.Repeat("f", 64))...)
	badKey = append(badKey, 0)
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"34 bytes", good[:34], ErrAddressLength},
		{"36 bytes", append(append([]byte{}, good...), 0), ErrAddressLength},
		{"legacy 33 bytes", mustHex(t, "b8971598a865b25b6508d4ba154db228e044f367bd9a1ef50dd4051db42b63143d"), ErrAddressLength},
		{"bad checksum", append(append([]byte{}, good[:34]...), good[34]^1), ErrAddressChecksum},
		{"flipped key bit", func() []byte { b := append([]byte{}, good...); b[10] ^= 1; return b }(), ErrAddressChecksum},
		{"unknown network", withChecksum(append([]byte{0x05}, good[1:]...)), ErrUnknownNetwork},
		{"payment-id feature", withChecksum(append([]byte{0, 0x07}, good[2:]...)), ErrAddressFeatures},
		{"invalid key", withChecksum(badKey), ErrAddressKey},
	}
	for _, c := range cases {
		if _, err := AddressFromBytes(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v want %v", c.name, err, c.want)
		}
		// The hex form reaches the same check through ParseAddress.
		if _, err := ParseAddress(hex.EncodeToString(c.b)); !errors.Is(err, c.want) {
			t.Errorf("%s via ParseAddress: got %v want %v", c.name, err, c.want)
		}
	}
	a := NewAddress(Mainnet, spend)
	emo := []rune(a.Emoji())
	for name, s := range map[string]string{
		"empty":               "",
		"base58 bad char":     "0" + a.Base58()[1:],
		"base58 truncated":    a.Base58()[:40],
		"base58 extra char":   a.Base58() + "1",
		"emoji wrong count":   string(emo[1:]),
		"emoji not in table":  string(append([]rune{'😀'}, emo[1:]...)),
		"hex odd":             a.Hex()[1:],
		"legacy hex":          "b8971598a865b25b6508d4ba154db228e044f367bd9a1ef50dd4051db42b63143d",
		"random text":         "hello world",
		"base58 of hex bytes": base58Encode(a.Bytes()),
	} {
		if _, err := ParseAddress(s); err == nil {
			t.Errorf("%s: %q accepted", name, s)
		}
	}
}

func TestKnownAddresses(t *testing.T) {
	// Donation default and gumbo dummy addresses from http-api.md §1.2.
	a, err := ParseAddress("143UtnSymZykCAm95xAKKKe8nowL6zif8qb1h7yHxgtD9XZ")
	if err != nil || a.Network != Mainnet || a.Features != 3 || a.IsDual() {
		t.Fatalf("donation address: %v %+v", err, a)
	}
	eq(t, "dummy bob", DummyAddress("bob").Base58(), "13111eLuVvxBvAAf3tKJFWKNhJrv5e1dV4on8e3AW1Qq4e")
	for _, id := range []string{"", "1234", "guest:a@b.c", strings.Repeat("x", 1000)} {
		d := DummyAddress(id)
		if !strings.HasPrefix(d.Base58(), "13111eLuVvx") || d.Features != FeatureInteractive {
			t.Errorf("dummy %q = %s", id, d.Base58())
		}
		if _, err := ParseAddress(d.Base58()); err != nil {
			t.Errorf("dummy %q does not parse: %v", id, err)
		}
	}
}

func TestAccountKey(t *testing.T) {
	spend := GenerateSecretKey().PublicKey()
	view := GenerateSecretKey().PublicKey()
	single := NewAddress(Mainnet, spend)
	oneSided := Address{Network: Mainnet, Features: FeatureOneSided, SpendKey: spend}
	dual := NewDualAddress(Mainnet, view, spend)
	if single.AccountKey() != oneSided.AccountKey() || single.AccountKey() != dual.AccountKey() || !single.SameAccount(dual) {
		t.Error("forms of one wallet have different account keys")
	}
	if single.Equal(dual) || single.Equal(oneSided) || single.Base58() == oneSided.Base58() {
		t.Error("different addresses compare equal")
	}
	if single.AccountKey() == NewAddress(Nextnet, spend).AccountKey() {
		t.Error("networks share an account key")
	}
	if single.AccountKey() == NewAddress(Mainnet, view).AccountKey() {
		t.Error("keys share an account key")
	}
}

func TestAddressJSON(t *testing.T) {
	a := NewAddress(Mainnet, GenerateSecretKey().PublicKey())
	// Default JSON: base58 string; any form accepted on input.
	b, _ := json.Marshal(struct{ A Address }{a})
	eq(t, "json", string(b), `{"A":"`+a.Base58()+`"}`)
	var in struct{ A Address }
	if err := json.Unmarshal([]byte(`{"A":"`+a.Emoji()+`"}`), &in); err != nil || !in.A.Equal(a) {
		t.Errorf("unmarshal emoji: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"A":"nope"}`), &in); err == nil {
		t.Error("bad address unmarshalled")
	}
	// RawAddress: the serde enum object.
	b, _ = json.Marshal(struct {
		SendTo RawAddress `json:"send_to"`
	}{RawAddress{a}})
	eq(t, "raw json", string(b), `{"send_to":{"Single":{"network":"mainnet","features":3,"public_spend_key":"`+a.SpendKey.Hex()+`"}}}`)
	var r RawAddress
	if err := json.Unmarshal([]byte(`{"Single":{"network":"MainNet","features":3,"public_spend_key":"`+strings.ToUpper(a.SpendKey.Hex())+`"}}`), &r); err != nil || !r.Equal(a) {
		t.Errorf("raw unmarshal: %v", err)
	}
	k := a.SpendKey.Hex()
	for _, bad := range []string{
		`{"network":"mainnet","public_key":"` + k + `"}`,
		`{"Single":{"network":"mainnet","features":3}}`,
		`{"Single":{"network":"mars","features":3,"public_spend_key":"` + k + `"}}`,
		`{"Single":{"network":"mainnet","features":4,"public_spend_key":"` + k + `"}}`,
		`{"Single":{"network":"mainnet","features":256,"public_spend_key":"` + k + `"}}`,
		`{"Single":{"network":"mainnet","features":"3","public_spend_key":"` + k + `"}}`,
		`{"Single":{"network":"mainnet","features":3,"public_spend_key":"` + strings.Repeat("f", 64) + `"}}`,
		`{"Dual":{"network":"mainnet","features":3,"public_spend_key":"` + k + `"}}`,
		`{"Single":{},"Dual":{}}`,
		`{"Triple":{}}`,
		`"` + a.Base58() + `"`,
		`null`,
	} {
		if _, err := ParseRawAddressJSON([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestBase58(t *testing.T) {
	for _, c := range []struct {
		in  []byte
		out string
	}{
		{[]byte{}, ""},
		{[]byte{0}, "1"},
		{[]byte{0, 0, 1}, "112"},
		{[]byte{0x10}, "H"},
		{[]byte{0x24}, "d"},
		{[]byte{0x26}, "f"},
		{[]byte{57}, "z"},
		{[]byte{58}, "21"},
		{[]byte("hello world"), "StV1DL6CwTryKyV"},
	} {
		eq(t, "encode", base58Encode(c.in), c.out)
		got, ok := base58Decode(c.out)
		if !ok || string(got) != string(c.in) {
			t.Errorf("decode %q = %x %v", c.out, got, ok)
		}
	}
	if _, ok := base58Decode("0OIl"); ok {
		t.Error("invalid characters accepted")
	}
}

func TestLegacyAddress(t *testing.T) {
	p := GenerateSecretKey().PublicKey()
	for _, n := range allNetworks {
		gn, gp, err := ParseLegacyAddress(LegacyAddressHex(n, p))
		if err != nil || gn != n || gp != p {
			t.Errorf("%s: %v", n, err)
		}
	}
	h := LegacyAddressHex(Mainnet, p)
	last, _ := hex.DecodeString(h[64:])
	bad := h[:64] + hex.EncodeToString([]byte{last[0] ^ 0x05})
	if _, _, err := ParseLegacyAddress(bad); !errors.Is(err, ErrUnknownNetwork) {
		t.Errorf("unknown legacy network: %v", err)
	}
}

// An address whose key starts with zero bytes has a base58 form shorter than
// the reference's 45-character minimum; the server emits that form, so it
// must read it back (found by FuzzParseAddress: the all-zero address, whose
// key is the identity point).
func TestShortBase58RoundTrips(t *testing.T) {
	a, err := ParseAddress(strings.Repeat("00", 35))
	if err != nil {
		t.Fatal(err)
	}
	s := a.Base58()
	if len(s) >= 45 {
		t.Fatalf("base58 %q is not shorter than 45 characters; the test needs a shorter one", s)
	}
	b, err := ParseAddress(s)
	if err != nil || !b.Equal(a) {
		t.Fatalf("ParseAddress(%q) = %v, %v", s, b, err)
	}
	if _, err := ParseBase58Address(s[:len(s)-1]); err == nil {
		t.Fatal("a base58 form one character short parsed")
	}
}
