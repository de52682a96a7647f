package seedwords

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/tari-payment/tps/core/tari"
)

// Fields checked elsewhere (checkKeys, the pipeline) or that are prose.
var nonAddressFields = map[string]bool{
	"birthday_days_since_2022": true, "derive_hash_comms_0": true, "entropy": true, "salt": true,
	"spend_public": true, "spend_secret": true, "spend_secret_comms_0": true, "view_public": true,
	"view_secret": true, "view_secret_data_encryption_0": true, "taritools_profile_secret_key_hex": true,
	"enciphered": true, "mnemonic": true, "decipher": true, "wrong passphrase": true,
	"wrong_passphrase_result": true, "language": true, "re_encipher_equals_input": true,
}

func init() {
	addressCheck = func(t *testing.T, v vector, cs CipherSeed) {
		t.Helper()
		spendSecret := cs.SpendKey()
		sk, err := tari.ParseSecretKey(hex.EncodeToString(spendSecret[:]))
		if err != nil {
			t.Fatal(err)
		}
		viewSecret := cs.ViewKey()
		vk, err := tari.ParseSecretKey(hex.EncodeToString(viewSecret[:]))
		if err != nil {
			t.Fatal(err)
		}
		spend, view := sk.PublicKey(), vk.PublicKey()
		dual := func(n tari.Network, features byte) tari.Address {
			return tari.Address{Network: n, Features: features, ViewKey: &view, SpendKey: spend}
		}
		got := map[string]string{
			"dual_address_mainnet_base58":                              dual(tari.Mainnet, 0x03).Base58(),
			"dual_address_mainnet_hex":                                 dual(tari.Mainnet, 0x03).Hex(),
			"dual_address_nextnet_base58":                              dual(tari.Nextnet, 0x03).Base58(),
			"dual_address_nextnet_hex":                                 dual(tari.Nextnet, 0x03).Hex(),
			"dual_address_esmeralda_base58":                            dual(tari.Esmeralda, 0x03).Base58(),
			"dual_address_esmeralda_hex":                               dual(tari.Esmeralda, 0x03).Hex(),
			"one_sided_mainnet_base58":                                 dual(tari.Mainnet, 0x01).Base58(),
			"one_sided_mainnet_hex":                                    dual(tari.Mainnet, 0x01).Hex(),
			"one_sided_mainnet_emoji":                                  dual(tari.Mainnet, 0x01).Emoji(),
			"single_address_mainnet_base58":                            tari.NewAddress(tari.Mainnet, spend).Base58(),
			"taritools_profile_address_mainnet_base58 (features 0x03)": dual(tari.Mainnet, 0x03).Base58(),
		}
		for _, m := range []map[string]any{v.Expected, v.Derived} {
			for k, exp := range m {
				if nonAddressFields[k] {
					continue
				}
				switch k {
				case "message", "signature_example":
					continue // the sanity vector, below
				}
				g, ok := got[k]
				if !ok {
					t.Errorf("unhandled field %q", k)
					continue
				}
				if g != exp {
					t.Errorf("%s = %s, want %v", k, g, exp)
				}
			}
		}
		if v.Kind != "sanity" {
			return
		}
		addr := str(v.Inputs, "address")
		if addr != dual(tari.Mainnet, 0x03).Base58() {
			t.Fatalf("sanity address %s is not the profile address", addr)
		}
		msg := addr + ":" + str(v.Inputs, "order_id")
		if msg != str(v.Derived, "message") {
			t.Fatalf("message %q", msg)
		}
		sig, err := tari.ParseSignature(str(v.Derived, "signature_example"))
		if err != nil {
			t.Fatal(err)
		}
		if !tari.Verify(tari.MemoDomain, spend, []byte(msg), sig) {
			t.Fatal("example memo signature does not verify against the spend key")
		}
		if tari.Verify(tari.MemoDomain, view, []byte(msg), sig) {
			t.Fatal("example memo signature verifies against the view key")
		}
		mine := tari.SignMemo(sk, dual(tari.Mainnet, 0x03), str(v.Inputs, "order_id"))
		if !mine.Verify() || !strings.HasPrefix(mine.Address, "14") {
			t.Fatalf("memo signed with the derived spend key does not verify: %+v", mine)
		}
	}
}
