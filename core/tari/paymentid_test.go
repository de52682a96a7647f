package tari

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// paymentIDVectors mirrors testdata/tari-payment-id-vectors.json (a copy of
// testdata/tari-payment-id-vectors.json, docs/tari-formats.md §5.7).
type paymentIDVectors struct {
	Vectors []struct {
		Network       string `json:"network"`
		View          string `json:"view_public_key"`
		Spend         string `json:"spend_public_key"`
		Plain         string `json:"address_without_payment_id_base58"`
		PaymentIDUTF8 string `json:"payment_id_utf8"`
		PaymentIDHex  string `json:"payment_id_hex"`
		Hex           string `json:"hex"`
		Base58        string `json:"base58"`
		Emoji         string `json:"emoji"`
		Features      string `json:"features"`
	} `json:"vectors"`
}

func TestPaymentIDVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/tari-payment-id-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f paymentIDVectors
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) != 24 {
		t.Fatalf("%d vectors, want 24", len(f.Vectors))
	}
	for i, v := range f.Vectors {
		name := v.Network + "/" + strconv.Itoa(i)
		n, err := ParseNetwork(v.Network)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		view, err1 := ParsePublicKey(v.View)
		spend, err2 := ParsePublicKey(v.Spend)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: keys: %v %v", name, err1, err2)
		}
		pid, err := hex.DecodeString(v.PaymentIDHex)
		if err != nil || string(pid) != v.PaymentIDUTF8 {
			t.Fatalf("%s: payment id hex %q does not match its text", name, v.PaymentIDHex)
		}
		feat, _ := strconv.ParseUint(strings.TrimPrefix(v.Features, "0x"), 16, 8)

		// Emit: the plain address plus the payment id gives all three forms.
		plain, err := ParseAddress(v.Plain)
		if err != nil {
			t.Fatalf("%s: plain address: %v", name, err)
		}
		if plain.HasPaymentID() || *plain.ViewKey != view || plain.SpendKey != spend || plain.Network != n {
			t.Fatalf("%s: plain address does not carry the vector's keys", name)
		}
		a, err := plain.WithPaymentID(pid)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a.Features != byte(feat) || a.Features&FeaturePaymentID == 0 {
			t.Errorf("%s: features 0x%02x, want %s", name, a.Features, v.Features)
		}
		if a.Hex() != v.Hex || a.Base58() != v.Base58 || a.Emoji() != v.Emoji {
			t.Errorf("%s: emitted forms differ:\n hex %s\n b58 %s\n emo %s", name, a.Hex(), a.Base58(), a.Emoji())
		}

		// Parse: every form, through the generic parser and its own.
		for form, s := range map[string]string{"hex": v.Hex, "base58": v.Base58, "emoji": v.Emoji, "emoji|": "|" + v.Emoji + "| ", "HEX": "0x" + strings.ToUpper(v.Hex)} {
			got, err := ParseAddress(s)
			if err != nil {
				t.Fatalf("%s %s: %v", name, form, err)
			}
			if !got.Equal(a) || got.PaymentID != v.PaymentIDUTF8 {
				t.Errorf("%s %s: parsed %+v", name, form, got)
			}
			// D25: the same account as the wallet's plain address.
			if !got.SameAccount(plain) || got.AccountKey() != plain.AccountKey() {
				t.Errorf("%s %s: not the same account as the plain address", name, form)
			}
			if !got.WithoutPaymentID().Equal(plain) {
				t.Errorf("%s %s: without its payment id it is not the plain address", name, form)
			}
		}
		if got, err := ParseBase58Address(v.Base58); err != nil || !got.Equal(a) {
			t.Errorf("%s: ParseBase58Address: %v", name, err)
		}
		if got, err := ParseEmojiAddress(v.Emoji); err != nil || !got.Equal(a) {
			t.Errorf("%s: ParseEmojiAddress: %v", name, err)
		}
		if got, err := ParseHexAddress(v.Hex); err != nil || !got.Equal(a) {
			t.Errorf("%s: ParseHexAddress: %v", name, err)
		}
	}
}

func TestPaymentIDRules(t *testing.T) {
	k, _ := ParseSecretKey("c63b5b436d007bec0566bff2f3512f3f962a6d43161fe48616e8dad58fd2b80d")
	v, _ := ParseSecretKey("6ee8a6d1078755bfebd91751bd5d2fb76544ab49f23fe61d5c9a2857b7eea503")
	dual := NewDualAddress(Mainnet, v.PublicKey(), k.PublicKey())
	single := NewAddress(Mainnet, k.PublicKey())

	if _, err := single.WithPaymentID([]byte("1")); !errors.Is(err, ErrPaymentID) {
		t.Errorf("a single address took a payment id: %v", err)
	}
	if _, err := dual.WithPaymentID(make([]byte, MaxPaymentIDLen+1)); !errors.Is(err, ErrPaymentID) {
		t.Errorf("a 257-byte payment id was accepted: %v", err)
	}
	withPID, err := dual.WithPaymentID([]byte("1001"))
	if err != nil || withPID.Features != DefaultFeatures|FeaturePaymentID {
		t.Fatalf("features 0x%02x, %v", withPID.Features, err)
	}
	cleared, _ := withPID.WithPaymentID(nil)
	if !cleared.Equal(dual) || cleared.Features != DefaultFeatures {
		t.Errorf("an empty payment id did not clear the bit: %+v", cleared)
	}
	if withPID.Equal(dual) {
		t.Error("an address with a payment id equals the one without")
	}

	// A payment id without the bit, and the bit without a payment id, are refused.
	b := withPID.Bytes()
	b[1] &^= FeaturePaymentID
	if _, err := AddressFromBytes(withChecksum(b)); !errors.Is(err, ErrAddressFeatures) {
		t.Errorf("payment id without the bit: %v", err)
	}
	d := dual.Bytes()
	d[1] |= FeaturePaymentID
	if _, err := AddressFromBytes(withChecksum(d)); !errors.Is(err, ErrAddressFeatures) {
		t.Errorf("bit without a payment id: %v", err)
	}
	// A single address cannot carry one: 36..66 bytes are no address.
	s := append(single.Bytes()[:singleLen-1], '1', 0)
	s[1] |= FeaturePaymentID
	if _, err := AddressFromBytes(withChecksum(s)); !errors.Is(err, ErrAddressLength) {
		t.Errorf("single with a payment id: %v", err)
	}
	// Too long.
	long, _ := dual.WithPaymentID(make([]byte, MaxPaymentIDLen))
	lb := long.Bytes()
	lb = append(lb[:len(lb)-1], 'x', 0)
	if _, err := AddressFromBytes(withChecksum(lb)); !errors.Is(err, ErrAddressLength) {
		t.Errorf("257-byte payment id: %v", err)
	}
	// The serde form describes the plain address.
	if r, err := ParseRawAddressJSON(withPID.RawJSON()); err != nil || !r.Equal(dual) {
		t.Errorf("raw JSON of an address with a payment id: %v", err)
	}
}

func TestPaymentIDUserData(t *testing.T) {
	for in, want := range map[string]string{
		"type(PaymentToOther), data(1001)": "1001",
		"sender_address(12JVm6AR), sender_one_sided(true), fee(25), type(PaymentToOther), data(#1001)":                    "#1001",
		"recipient_address(14JV), sender_one_sided(false), amount(2500000), fee(25), type(PaymentToOther), data(a (b) c)": "a (b) c",
		"None":      "",
		"Raw(00ff)": "",
		"u256(42)":  "42",
	} {
		if got, ok := PaymentIDUserData(in); !ok || got != want {
			t.Errorf("PaymentIDUserData(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"1001", "data(31303031)", "order 1001", "type(x) data(1)"} {
		if _, ok := PaymentIDUserData(in); ok {
			t.Errorf("%q taken for a display form", in)
		}
	}
}
