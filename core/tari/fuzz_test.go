package tari

import (
	"strings"
	"testing"
	"time"
)

// Fuzz targets: parsers must never panic, and whatever they accept must
// survive a re-encode/re-parse round trip unchanged.

func addressSeeds(f *testing.F) {
	k, _ := ParseSecretKey("c63b5b436d007bec0566bff2f3512f3f962a6d43161fe48616e8dad58fd2b80d")
	v, _ := ParseSecretKey("6ee8a6d1078755bfebd91751bd5d2fb76544ab49f23fe61d5c9a2857b7eea503")
	for _, a := range []Address{NewAddress(Mainnet, k.PublicKey()), NewDualAddress(Igor, v.PublicKey(), k.PublicKey()), DummyAddress("1234")} {
		f.Add(a.Base58())
		f.Add(a.Emoji())
		f.Add(a.Hex())
		f.Add("|" + a.Emoji() + "| ")
	}
	withPID, _ := NewDualAddress(Igor, v.PublicKey(), k.PublicKey()).WithPaymentID([]byte("#1001"))
	f.Add(withPID.Base58())
	f.Add(withPID.Emoji())
	f.Add(withPID.Hex())
	f.Add("b8971598a865b25b6508d4ba154db228e044f367bd9a1ef50dd4051db42b63143d")
	f.Add("")
	f.Add(strings.Repeat("1", 300))
}

func FuzzParseAddress(f *testing.F) {
	addressSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			return
		}
		for _, form := range []string{a.Base58(), a.Emoji(), a.Hex()} {
			b, err := ParseAddress(form)
			if err != nil || !b.Equal(a) {
				t.Fatalf("%q parsed, but its form %q does not round trip: %v", s, form, err)
			}
		}
		if r, err := ParseRawAddressJSON(a.RawJSON()); err != nil || !r.Equal(a.WithoutPaymentID()) {
			t.Fatalf("raw JSON round trip: %v", err)
		}
	})
}

func FuzzParseSignature(f *testing.F) {
	k := GenerateSecretKey()
	f.Add(Sign(MemoDomain, k, []byte("x")).Hex())
	f.Add(strings.Repeat("0", 128))
	f.Add(strings.Repeat("f", 128))
	f.Add(strings.Repeat("0", 64) + groupOrderHex)
	f.Add("foobar")
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := ParseSignature(s)
		if err != nil {
			return
		}
		if sig.Hex() != strings.ToLower(s) {
			t.Fatalf("%q re-encodes as %q", s, sig.Hex())
		}
		_ = Verify(MemoDomain, k.PublicKey(), []byte(s), sig)
	})
}

func FuzzParseMemoSignature(f *testing.F) {
	k := GenerateSecretKey()
	m := SignMemo(k, NewAddress(Mainnet, k.PublicKey()), "alice001")
	f.Add(m.JSON())
	f.Add(`{"address":"14wqR3rjyVbjgXDyLVaL97p3CksHc84cz9hLLMMTMYDjtBt","order_id":"alice001","signature":"4c58346a94d80eaa6409cd1b85dc0f7b3d1e2ab308e367a8afa39a973ca5d228ffaae9013bf61e67497913647c4ea74ab0f2a1039f02b986adaadf1be0b96307"}`)
	f.Add(`{"claim":` + m.JSON() + `}`)
	f.Add(`{"address":null}`)
	f.Add(`Order number 1002`)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMemoSignature(s)
		if err != nil {
			return
		}
		again, err := ParseMemoSignature(m.JSON())
		if err != nil || again != m {
			t.Fatalf("JSON() of an accepted memo does not parse back: %v", err)
		}
		_ = m.Verify()
	})
}

var fuzzServer, _ = ParseSecretKey("925842e1e4e4ddbc1c2a43eb33b3d3e0eef0b9787f6fc2c1d4cc6ff9a1e9430e")

func FuzzParseLoginToken(f *testing.F) {
	k := GenerateSecretKey()
	tok, _ := NewLoginToken(k, NewAddress(Mainnet, k.PublicKey()), 7, []string{"user", "write"})
	f.Add(tok)
	f.Add("eyJhbGciOiJSaXN0cmV0dG8yNTYiLCJ0eXAiOiJKV1QifQ.eyJhZGRyZXNzIjp7IlNpbmdsZSI6eyJuZXR3b3JrIjoibWFpbm5ldCIsImZlYXR1cmVzIjozLCJwdWJsaWNfc3BlbmRfa2V5IjoiYzA4ZjEwOGUzZTQ1ZmZmNjhkYmNmOGJkYTlhMzZjOGUxYTEyMzA5NTlkNzdkNTdiM2RlNmEwYTVmNTE5NjM1NCJ9fSwibm9uY2UiOjE3MjUyOTg1ODUsImRlc2lyZWRfcm9sZXMiOlsidXNlciIsIndyaXRlIiwicmVhZF9hbGwiXX0.CIF4QH5u4Z2MmTPUnorXU1LIl7qgxhZYPzUivmBxrTyu9KUjc3ly8D0csJgKM3xete_c8K_NH9cSSwkWZ-SXAg")
	f.Add("a.b.c")
	f.Add("..")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseLoginToken(s)
		if err != nil {
			return
		}
		if _, _, err := VerifyJWT(s, c.Address.SpendKey); err != nil {
			t.Fatalf("accepted login token does not verify with its own key: %v", err)
		}
		for _, r := range c.DesiredRoles {
			if !ValidRole(r) {
				t.Fatalf("role %q", r)
			}
		}
	})
}

func FuzzParseAccessToken(f *testing.F) {
	now := time.Unix(1725298445, 0)
	tok, _ := NewAccessToken(fuzzServer, NewAddress(Mainnet, fuzzServer.PublicKey()), []string{"super_admin"}, now)
	f.Add(tok)
	f.Add(tok + "=")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseAccessToken(s, fuzzServer.PublicKey(), now)
		if err != nil {
			return
		}
		if now.After(c.ExpiresAt) {
			t.Fatal("expired token accepted")
		}
	})
}

// FuzzAddressFromBytes: the byte parser, payment ids included, never panics;
// what it accepts re-encodes to the same bytes and is the same account as
// its plain address (D25).
func FuzzAddressFromBytes(f *testing.F) {
	k, _ := ParseSecretKey("c63b5b436d007bec0566bff2f3512f3f962a6d43161fe48616e8dad58fd2b80d")
	v, _ := ParseSecretKey("6ee8a6d1078755bfebd91751bd5d2fb76544ab49f23fe61d5c9a2857b7eea503")
	dual := NewDualAddress(Mainnet, v.PublicKey(), k.PublicKey())
	f.Add(dual.Bytes())
	f.Add(NewAddress(Esmeralda, k.PublicKey()).Bytes())
	for _, pid := range []string{"1", "#1001", strings.Repeat("x", MaxPaymentIDLen)} {
		a, _ := dual.WithPaymentID([]byte(pid))
		f.Add(a.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := AddressFromBytes(b)
		if err != nil {
			return
		}
		if got := a.Bytes(); string(got) != string(b) {
			t.Fatalf("re-encodes as %x, was %x", got, b)
		}
		if !a.WithoutPaymentID().SameAccount(a) {
			t.Fatal("the plain address is another account")
		}
		if again, err := ParseAddress(a.Base58()); err != nil || !again.Equal(a) {
			t.Fatalf("base58 round trip: %v", err)
		}
	})
}

// FuzzPaymentIDUserData: the display-form reader never panics, and what it
// returns is trimmed text found inside its input.
func FuzzPaymentIDUserData(f *testing.F) {
	for _, s := range []string{"None", "u256(42)", "Raw(00ff)", "type(PaymentToOther), data(1001)",
		"sender_address(12JVm6AR), sender_one_sided(true), fee(25), type(PaymentToOther), data(#1001)",
		"recipient_address(14JV), sender_one_sided(false), amount(1), fee(2), type(Burn), data(a (b) c)", "data(31)", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text, ok := PaymentIDUserData(s)
		if !ok && text != "" {
			t.Fatalf("%q: text %q without ok", s, text)
		}
		if text != strings.TrimSpace(text) || !strings.Contains(s, text) {
			t.Fatalf("%q gave %q", s, text)
		}
	})
}
