package api

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

type vector struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	Inputs   json.RawMessage `json:"inputs"`
	Derived  json.RawMessage `json:"derived"`
	Expected json.RawMessage `json:"expected"`
}

func loadVectors(t *testing.T, kinds ...string) []vector {
	t.Helper()
	b, err := os.ReadFile("../core/tari/testdata/tari-vectors.json")
	if err != nil {
		t.Skip("vectors not available:", err)
	}
	var all struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	var out []vector
	for _, v := range all.Vectors {
		for _, k := range kinds {
			if v.Kind == k {
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no vectors of", kinds)
	}
	return out
}

// TestReferenceWalletNotifications replays the reference server's recorded
// hot-wallet requests byte for byte: valid signatures pass, invalid ones get
// an empty 401.
func TestReferenceWalletNotifications(t *testing.T) {
	eachDB(t, map[string]string{"TPG_DISABLE_WALLET_WHITELIST": "true"}, func(t *testing.T, h *harness) {
		ctx := context.Background()
		checked := 0
		defer func() {
			if checked < 10 {
				t.Errorf("only %d vectors checked", checked)
			}
		}()
		for _, v := range loadVectors(t, "wallet_signature/payment", "wallet_signature/confirmation") {
			var in struct {
				Auth struct {
					Address string `json:"address"`
					Nonce   int64  `json:"nonce"`
				} `json:"auth"`
				Payment      json.RawMessage `json:"payment_as_sent"`
				Confirmation json.RawMessage `json:"confirmation_as_sent"`
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(v.Inputs, &in); err != nil || json.Unmarshal(v.Inputs, &raw) != nil {
				t.Fatal(v.ID, err)
			}
			var d struct {
				Valid *bool `json:"signature_valid"`
			}
			_ = json.Unmarshal(v.Derived, &d)
			if d.Valid == nil {
				_ = json.Unmarshal(v.Expected, &d)
			}
			if d.Valid == nil {
				continue
			}
			addr, err := tari.ParseAddress(in.Auth.Address)
			if err != nil {
				t.Fatal(err)
			}
			_ = h.eng.DeregisterWallet(ctx, addr)
			if err := h.eng.RegisterWallet(ctx, addr, "127.0.0.1", in.Auth.Nonce-1); err != nil {
				t.Fatal(err)
			}
			path, body := "/wallet/incoming_payment", `{"payment":`+string(in.Payment)+`,"auth":`+string(raw["auth"])+`}`
			if in.Confirmation != nil {
				path, body = "/wallet/tx_confirmation", `{"confirmation":`+string(in.Confirmation)+`,"auth":`+string(raw["auth"])+`}`
			}
			r := h.c.Do("POST", path, body, nil)
			checked++
			if *d.Valid && r.Status != 200 || !*d.Valid && (r.Status != 401 || len(r.Body) != 0) {
				t.Errorf("%s (valid=%v): %d %s", v.ID, *d.Valid, r.Status, r.Body)
			}
		}
	})
}

// TestReferenceLoginTokens: a login token made by the reference's taritools
// logs in; obsolete address claims and bad signatures do not.
func TestReferenceLoginTokens(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		logins := 0
		defer func() {
			if logins == 0 {
				t.Error("no reference token logged in")
			}
		}()
		for _, v := range loadVectors(t, "jwt") {
			var in struct {
				Token string `json:"token"`
			}
			var d struct {
				Claims struct {
					Address json.RawMessage `json:"address"`
					Roles   []string        `json:"desired_roles"`
				} `json:"claims"`
			}
			var exp struct {
				Valid bool `json:"signature_valid"`
			}
			_ = json.Unmarshal(v.Inputs, &in)
			_ = json.Unmarshal(v.Derived, &d)
			_ = json.Unmarshal(v.Expected, &exp)
			if d.Claims.Address == nil { // not a login token
				continue
			}
			addr, addrErr := tari.ParseRawAddressJSON(d.Claims.Address)
			if addrErr == nil {
				var rs []core.Role
				for _, r := range d.Claims.Roles {
					if role, ok := core.ParseRole(r); ok && role != core.RoleUser {
						rs = append(rs, role)
					}
				}
				if err := h.eng.AssignRoles(context.Background(), addr, rs, nil); err != nil {
					t.Fatal(err)
				}
			}
			r := h.c.Do("POST", "/auth", nil, map[string]string{"tpg_auth_token": in.Token})
			wantOK := exp.Valid && addrErr == nil
			if wantOK != (r.Status == 200) {
				t.Errorf("%s (valid=%v, address ok=%v): %d %s", v.ID, exp.Valid, addrErr == nil, r.Status, r.Body)
			}
			if wantOK {
				logins++
				if cl, err := tari.ParseAccessToken(string(r.Body), h.srv.pub, h.srv.now()); err != nil || strings.Join(cl.Roles, ",") != strings.Join(d.Claims.Roles, ",") {
					t.Errorf("%s: %v %v", v.ID, cl, err)
				}
			}
		}
	})
}

// TestReferenceShopifyHMAC: the reference's HMAC vector passes the guard (and
// then fails JSON parsing, as its body is elided); a wrong one is refused.
func TestReferenceShopifyHMAC(t *testing.T) {
	v := loadVectors(t, "shopify_hmac")[0]
	var in struct{ Body, Secret string }
	var d map[string]string
	_ = json.Unmarshal(v.Inputs, &in)
	_ = json.Unmarshal(v.Expected, &d)
	eachDB(t, map[string]string{"TPG_SHOPIFY_HMAC_SECRET": in.Secret}, func(t *testing.T, h *harness) {
		hdr := map[string]string{"X-Shopify-Hmac-Sha256": d["X-Shopify-Hmac-Sha256"]}
		if r := h.c.Do("POST", "/shopify/webhook/checkout_create", in.Body, hdr); r.Status != 400 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r := h.c.Do("POST", "/shopify/webhook/checkout_create", in.Body+" ", hdr); r.Status != 403 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}
