package tari

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestMemoRoundTrip(t *testing.T) {
	k := GenerateSecretKey()
	view := GenerateSecretKey().PublicKey()
	for _, a := range []Address{NewAddress(Mainnet, k.PublicKey()), NewDualAddress(Esmeralda, view, k.PublicKey())} {
		for _, oid := range []string{"5674593747156", "id-#3000", "", "ünïcode \"quoted\" \\ </script>"} {
			m := SignMemo(k, a, oid)
			if m.Address != a.Base58() || m.OrderID != oid || len(m.Signature) != 128 {
				t.Fatalf("SignMemo produced %+v", m)
			}
			// JSON() and encoding/json both give text the parser accepts.
			std, _ := json.Marshal(m)
			for _, text := range []string{m.JSON(), string(std), "\n " + m.JSON() + " \t"} {
				p, err := ParseMemoSignature(text)
				if err != nil || p != m || !p.Verify() {
					t.Fatalf("parse %s: %v", text, err)
				}
			}
			if !m.ParsedAddress().Equal(a) {
				t.Error("ParsedAddress")
			}
			other := m
			other.OrderID = oid + "1"
			if other.Verify() {
				t.Error("verifies for another order")
			}
			other = m
			other.Address = NewAddress(Mainnet, GenerateSecretKey().PublicKey()).Base58()
			if other.Verify() {
				t.Error("verifies for another address")
			}
		}
	}
	// A signature made over the hex form of the address does not verify:
	// the verifier rebuilds the message from base58.
	a := NewAddress(Mainnet, k.PublicKey())
	sig := Sign(MemoDomain, k, []byte(a.Hex()+":o1"))
	if (MemoSignature{Address: a.Hex(), OrderID: "o1", Signature: sig.Hex()}).Verify() {
		t.Error("signature over hex address accepted")
	}
	// Nor does one made in the wallet domain.
	sig = Sign(WalletDomain, k, MemoMessage(a, "o1"))
	if (MemoSignature{Address: a.Base58(), OrderID: "o1", Signature: sig.Hex()}).Verify() {
		t.Error("wallet-domain signature accepted as memo")
	}
}

func TestParseMemoSignatureRejects(t *testing.T) {
	k := GenerateSecretKey()
	m := SignMemo(k, NewAddress(Mainnet, k.PublicKey()), "o1")
	a, s := `"`+m.Address+`"`, `"`+m.Signature+`"`
	good := `{"address":` + a + `,"order_id":"o1","signature":` + s + `}`
	if _, err := ParseMemoSignature(good); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseMemoSignature(`{"extra":[1,{"x":null}],"address":` + a + `,"order_id":"o1","signature":` + s + `,"more":null}`); err != nil {
		t.Errorf("unknown fields must be ignored: %v", err)
	}
	for name, text := range map[string]string{
		"empty":             ``,
		"not json":          `order 1000`,
		"array":             `[` + good + `]`,
		"string":            `"` + m.Address + `"`,
		"claim wrapper":     `{"claim":` + good + `}`,
		"missing address":   `{"order_id":"o1","signature":` + s + `}`,
		"missing order_id":  `{"address":` + a + `,"signature":` + s + `}`,
		"missing signature": `{"address":` + a + `,"order_id":"o1"}`,
		"null order_id":     `{"address":` + a + `,"order_id":null,"signature":` + s + `}`,
		"numeric order_id":  `{"address":` + a + `,"order_id":1,"signature":` + s + `}`,
		"duplicate field":   `{"address":` + a + `,"order_id":"o1","order_id":"o2","signature":` + s + `}`,
		"wrong case key":    `{"Address":` + a + `,"order_id":"o1","signature":` + s + `}`,
		"trailing text":     good + ` thanks`,
		"two objects":       good + good,
		"bad address":       `{"address":"14xyz","order_id":"o1","signature":` + s + `}`,
		"foobar signature":  `{"address":` + a + `,"order_id":"o1","signature":"foobar"}`,
		"short signature":   `{"address":` + a + `,"order_id":"o1","signature":"` + m.Signature[:126] + `"}`,
		"truncated":         good[:len(good)-1],
	} {
		if _, err := ParseMemoSignature(text); !errors.Is(err, ErrMemoFormat) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestSerdeJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                 `"plain"`,
		`q"b\`:                  `"q\"b\\"`,
		"\b\t\n\f\r":            `"\b\t\n\f\r"`,
		"\x00\x01\x1f":          `"\u0000\u0001\u001f"`,
		"\x7f":                  "\"\x7f\"",
		"</script>&amp;":        `"</script>&amp;"`,
		"\u2028\u2029":          "\"\u2028\u2029\"",
		"é😀":                    `"é😀"`,
		"bad\xffutf8":           "\"bad\uFFFDutf8\"",
		"order #12345":          `"order #12345"`,
		"{\"nested\":\"json\"}": `"{\"nested\":\"json\"}"`,
	} {
		eq(t, "escape "+in, SerdeJSONString(in), want)
		// Whatever we write must be JSON that decodes back to the input
		// (valid UTF-8 inputs only).
		if !strings.Contains(in, "\xff") {
			var back string
			if err := json.Unmarshal([]byte(want), &back); err != nil || back != in {
				t.Errorf("%q does not decode back: %v", want, err)
			}
		}
	}
}

func TestWalletRoundTrip(t *testing.T) {
	k := GenerateSecretKey()
	hot := NewAddress(Mainnet, k.PublicKey())
	sender := NewAddress(Mainnet, GenerateSecretKey().PublicKey())
	memo, oid := "order #1 \"quoted\" </b>", "#1001"
	for _, c := range []struct {
		memo, oid *string
		want      string
	}{
		{nil, nil, `{"sender":"` + sender.Base58() + `","amount":-5,"txid":"t\n1","memo":null,"order_id":null}`},
		{&memo, &oid, `{"sender":"` + sender.Base58() + `","amount":-5,"txid":"t\n1","memo":"order #1 \"quoted\" </b>","order_id":"#1001"}`},
	} {
		payload := PaymentPayloadJSON(sender, -5, "t\n1", c.memo, c.oid)
		eq(t, "payload", string(payload), strings.Replace(c.want, "t\n1", `t\n1`, 1))
		for _, nonce := range []int64{1, 1732540000000} {
			sig := SignWallet(k, hot, nonce, payload)
			if !VerifyWallet(hot, nonce, payload, sig) {
				t.Fatal("own signature does not verify")
			}
			if VerifyWallet(hot, nonce-1, payload, sig) {
				t.Error("verifies with another nonce")
			}
			if VerifyWallet(hot, nonce, ConfirmationPayloadJSON("t\n1"), sig) {
				t.Error("verifies for another payload")
			}
			if VerifyWallet(sender, nonce, payload, sig) {
				t.Error("verifies for another wallet")
			}
			if Verify(MemoDomain, hot.SpendKey, WalletMessage(hot, nonce, payload), sig) {
				t.Error("wallet signature valid in the memo domain")
			}
		}
	}
	eq(t, "confirmation", string(ConfirmationPayloadJSON(`a"b`)), `{"txid":"a\"b"}`)
	// The message uses the emoji form of the wallet address.
	msg := string(WalletMessage(hot, 7, []byte("{}")))
	if msg != hot.Emoji()+":7:{}" {
		t.Errorf("message %q", msg)
	}
}

// The examples of http-api.md §3.1, §3.2 and §4.2 (all verify with the
// reference's rules).
func TestHTTPAPIDocExamples(t *testing.T) {
	m := MemoSignature{Address: "145yntp6GHTuDuTVPtbyPdo8rVjRppjdfyoxZeY958kh1Mn", OrderID: "order10256", Signature: "6689435195fda30c9c3805b844b45adadac2d5b5ca647dca342531e50bd5ff658b0aa458d184e720a6fcd5c7be4efec65e7e7e78e1c86003bf00147962cb540d"}
	if !m.Verify() {
		t.Error("claim example does not verify")
	}
	hot, _ := ParseAddress("14z3iHvgokZcXmokAYQKveeJ4rMqSGtPahrC2CPvx63UQmG")
	sender, _ := ParseAddress("14wqR3rjyVbjgXDyLVaL97p3CksHc84cz9hLLMMTMYDjtBt")
	memo := "order 1000"
	for _, c := range []struct {
		sig  string
		memo *string
	}{
		{"f059d52b25d3f1387b8a9becca8775c1ff9a62b7293ba3791f78e77ac63a786e3c02534529809d4dd4ae8ccafeae28c6b2e4a105baf2fa9ebad44776978d4b02", nil},
		{"ac509cfdb1915e572faf9fb5c29ee5ab364f177f352f36a8f8b50ab48f34374961103694fea123f30a1e0ec66321186b6c3ead8e5cedf88c64e3256c1610fb03", &memo},
	} {
		sig, err := ParseSignature(c.sig)
		if err != nil || !VerifyWallet(hot, 1, PaymentPayloadJSON(sender, 2500000000, "payment001", c.memo, nil), sig) {
			t.Errorf("payment example %s does not verify (%v)", c.sig[:8], err)
		}
		// Sender sent as emoji: the payload is rebuilt with base58, so the
		// same signature still verifies.
		alt, _ := ParseAddress(sender.Emoji())
		if !VerifyWallet(hot, 1, PaymentPayloadJSON(alt, 2500000000, "payment001", c.memo, nil), sig) {
			t.Error("sender form changed the payload")
		}
	}
}
