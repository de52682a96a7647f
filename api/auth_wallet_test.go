package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

func TestLogin(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		w := apitest.NewWallet()
		login := func(tok string) apitest.Response {
			return h.c.Do("POST", "/auth", nil, map[string]string{"tpg_auth_token": tok})
		}
		if r := h.c.Do("POST", "/auth", nil, nil); r.Status != 400 || r.Error() != "Auth token signature invalid or not provided" {
			t.Fatalf("missing: %d %s", r.Status, r.Body)
		}
		if r := login("garbage"); r.Status != 400 || r.Error() != "Authentication Error. Login token is not in the correct format. InvalidTokenStructure" {
			t.Fatalf("garbage: %d %s", r.Status, r.Body)
		}
		good := apitest.LoginToken(t, w, 100, "user")
		parts := strings.Split(good, ".")
		forged := parts[0] + "." + parts[1] + "." + strings.Split(apitest.LoginToken(t, apitest.NewWallet(), 100, "user"), ".")[2]
		if r := login(forged); r.Status != 401 || !strings.HasPrefix(r.Error(), "Authentication Error. Login token signature is invalid.") {
			t.Fatalf("forged: %d %s", r.Status, r.Body)
		}
		// A forged token does not burn the nonce (D24).
		r := login(good)
		if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" || strings.HasPrefix(string(r.Body), `"`) {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		cl, err := tari.ParseAccessToken(string(r.Body), h.srv.pub, h.srv.now())
		if err != nil || !cl.Address.Equal(w.Addr) || len(cl.Roles) != 1 || cl.ExpiresAt.Sub(cl.IssuedAt).Hours() != 24 {
			t.Fatalf("claims %+v %v", cl, err)
		}
		// Replay and non-increasing nonces.
		for _, n := range []uint64{100, 99} {
			if r := login(apitest.LoginToken(t, w, n, "user")); r.Status != 401 || r.Error() != "Authentication Error. Login token signature is invalid. Nonce is not strictly increasing." {
				t.Fatalf("nonce %d: %d %s", n, r.Status, r.Body)
			}
		}
		// Roles not assigned → 403 (and, D24, the nonce is not used up).
		if r := login(apitest.LoginToken(t, w, 101, "user", "write", "read_all")); r.Status != 403 || r.Error() != "Insufficient Permissions. User requested at least 2 roles that are not allowed" {
			t.Fatalf("roles: %d %s", r.Status, r.Body)
		}
		if r := login(apitest.LoginToken(t, w, 101)); r.Status != 200 {
			t.Fatalf("nonce burnt by a failed role check: %d %s", r.Status, r.Body)
		}
		// Duplicate roles are fine (reference bug 26).
		if r := login(apitest.LoginToken(t, w, 103, "user", "user")); r.Status != 200 {
			t.Fatalf("duplicate roles: %d %s", r.Status, r.Body)
		}
		// An empty role list logs in but cannot pass check_token (needs user).
		r = login(apitest.LoginToken(t, w, 104))
		if r.Status != 200 {
			t.Fatal(r.Status)
		}
		if r := h.do("GET", "/api/check_token", nil, string(r.Body)); r.Status != 403 || r.Error() != "Insufficient permissions." {
			t.Fatalf("empty roles check_token: %d %s", r.Status, r.Body)
		}
	})
}

func TestRolesRoute(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		w := apitest.NewWallet()
		roles := func() []core.Role {
			rs, err := h.eng.RolesForAddress(context.Background(), w.Addr)
			if err != nil {
				t.Fatal(err)
			}
			return rs
		}
		body := []map[string]any{{"address": w.Addr.Emoji(), "apply": []string{"read_all", "write"}}}
		for i := 0; i < 2; i++ { // D18: applying twice is a no-op success
			if r := h.do("POST", "/api/roles", body, h.adminT); r.Status != 200 || len(r.Body) != 0 {
				t.Fatalf("apply: %d %s", r.Status, r.Body)
			}
		}
		if rs := roles(); !containsRole(rs, core.RoleWrite) || !containsRole(rs, core.RoleReadAll) {
			t.Fatal(rs)
		}
		// Revoke-only works (D18), with a hex address.
		if r := h.do("POST", "/api/roles", []map[string]any{{"address": w.Addr.Hex(), "revoke": []string{"write"}}}, h.adminT); r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if rs := roles(); containsRole(rs, core.RoleWrite) || !containsRole(rs, core.RoleReadAll) {
			t.Fatal(rs)
		}
		if r := h.do("POST", "/api/roles", []map[string]any{{"address": "nope", "apply": []string{"write"}}}, h.adminT); r.Status != 400 || !strings.HasPrefix(r.Error(), "Could not read request path:") {
			t.Fatalf("bad address: %d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/api/roles", []map[string]any{{"address": w.Addr.Base58(), "apply": []string{"god"}}}, h.adminT); r.Status != 400 {
			t.Fatalf("bad role: %d %s", r.Status, r.Body)
		}
		// A write user cannot manage roles.
		_, wt := h.user("write")
		if r := h.do("POST", "/api/roles", body, wt); r.Status != 403 {
			t.Fatalf("write user: %d", r.Status)
		}
	})
}

func containsRole(rs []core.Role, r core.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func TestWalletAuth(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		sender := apitest.NewWallet()
		p := apitest.NewPayment{Sender: sender.Addr, Amount: 5_000_000, TxID: "tx1", Memo: apitest.Str("héllo \"/\" \u00e9")}
		// Unsigned garbage: empty-body 401.
		bad := apitest.WalletPaymentBody(h.hot, 1, p)
		bad["payment"].(map[string]any)["amount"] = 6_000_000
		if r := h.c.Do("POST", "/wallet/incoming_payment", bad, nil); r.Status != 401 || len(r.Body) != 0 {
			t.Fatalf("tampered: %d %q", r.Status, r.Body)
		}
		// Unregistered wallet.
		stranger := apitest.NewWallet()
		if r := h.c.Do("POST", "/wallet/incoming_payment", apitest.WalletPaymentBody(stranger, 1, p), nil); r.Status != 401 || len(r.Body) != 0 {
			t.Fatalf("stranger: %d %q", r.Status, r.Body)
		}
		// The real thing, with the payload re-serialised server-side.
		r := h.c.Do("POST", "/wallet/incoming_payment", apitest.WalletPaymentBody(h.hot, 5, p), nil)
		var jr jsonResponse
		r.JSON(t, &jr)
		if r.Status != 200 || !jr.Success {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		var pay core.Payment
		if err := json.Unmarshal([]byte(jr.Message), &pay); err != nil || pay.TxID != "tx1" || pay.Status != core.PaymentReceived || pay.Sender != sender.Addr.Base58() {
			t.Fatalf("%s %v", jr.Message, err)
		}
		// Replay of nonce 5, and an older nonce: 401.
		for _, n := range []int64{5, 4} {
			if r := h.c.Do("POST", "/wallet/incoming_payment", apitest.WalletPaymentBody(h.hot, n, p), nil); r.Status != 401 {
				t.Fatalf("nonce %d: %d", n, r.Status)
			}
		}
		// Duplicate txid with a fresh nonce: success, nothing changes (D20).
		r = h.c.Do("POST", "/wallet/incoming_payment", apitest.WalletPaymentBody(h.hot, 6, p), nil)
		if r.Status != 200 || string(r.Body) != `{"success":true,"message":"Payment already exists."}` {
			t.Fatalf("dup: %d %s", r.Status, r.Body)
		}
		// Confirmation, twice, and an unknown txid.
		if r := h.c.Do("POST", "/wallet/tx_confirmation", apitest.WalletConfirmationBody(h.hot, 7, "tx1"), nil); string(r.Body) != `{"success":true,"message":"Payment tx1 confirmed successfully."}` {
			t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
		if r := h.c.Do("POST", "/wallet/tx_confirmation", apitest.WalletConfirmationBody(h.hot, 8, "tx1"), nil); string(r.Body) != `{"success":true,"message":"Payment already confirmed."}` {
			t.Fatalf("confirm again: %d %s", r.Status, r.Body)
		}
		if r := h.c.Do("POST", "/wallet/tx_confirmation", apitest.WalletConfirmationBody(h.hot, 9, "nope"), nil); string(r.Body) != `{"success":false,"message":"Could not confirm payment."}` {
			t.Fatalf("confirm unknown: %d %s", r.Status, r.Body)
		}
		if r := h.c.Do("POST", "/wallet/tx_confirmation", apitest.WalletConfirmationBody(h.hot, 9, "tx1"), nil); r.Status != 401 {
			t.Fatalf("confirm replay: %d", r.Status)
		}
		// Balance reflects the confirmed payment, addressed in all three forms.
		for _, form := range []string{sender.Addr.Base58(), sender.Addr.Emoji(), sender.Addr.Hex()} {
			r := h.do("GET", "/api/balance/"+form, nil, h.adminT)
			var b core.AddressBalance
			r.JSON(t, &b)
			if r.Status != 200 || b.CurrentBalance != 5_000_000 || b.Address != sender.Addr.Base58() {
				t.Fatalf("%s: %d %s", form, r.Status, r.Body)
			}
		}
		if r := h.do("GET", "/api/balance/notanaddress", nil, h.adminT); r.Status != 404 {
			t.Fatalf("bad path address: %d", r.Status)
		}
		// send_to lists the hot wallet.
		r = h.c.Do("GET", "/wallet/send_to", nil, nil)
		if r.Status != 200 || string(r.Body) != `["`+h.hot.Addr.Base58()+`"]` {
			t.Fatalf("send_to %s", r.Body)
		}
		// Negative amounts are refused after auth (200, success false).
		neg := apitest.NewPayment{Sender: sender.Addr, Amount: -1, TxID: "neg"}
		if r := h.c.Do("POST", "/wallet/incoming_payment", apitest.WalletPaymentBody(h.hot, 20, neg), nil); r.Status != 200 || !strings.Contains(string(r.Body), `"success":false`) {
			t.Fatalf("negative: %d %s", r.Status, r.Body)
		}
	})
}

// TestWalletIP: the registered IP must match, taken from the peer or, when
// enabled, from forwarding headers; the whitelist switch skips only the IP.
func TestWalletIP(t *testing.T) {
	sender := apitest.NewWallet()
	send := func(h *harness, nonce int64, txid string, hdr map[string]string) int {
		p := apitest.NewPayment{Sender: sender.Addr, Amount: 1, TxID: txid}
		return h.c.Do("POST", "/wallet/incoming_payment", apitest.WalletPaymentBody(h.hot, nonce, p), hdr).Status
	}
	eachDB(t, nil, func(t *testing.T, h *harness) {
		if s := send(h, 1, "a", map[string]string{"X-Forwarded-For": "10.0.0.9"}); s != 200 {
			t.Fatalf("peer IP ignored headers: %d", s)
		}
		other := apitest.NewWallet()
		if err := h.eng.RegisterWallet(context.Background(), other.Addr, "10.0.0.9", 0); err != nil {
			t.Fatal(err)
		}
		h.hot = other
		if s := send(h, 2, "b", nil); s != 401 {
			t.Fatalf("wrong IP: %d", s)
		}
	})
	eachDB(t, map[string]string{"TPG_USE_X_FORWARDED_FOR": "true"}, func(t *testing.T, h *harness) {
		other := apitest.NewWallet()
		if err := h.eng.RegisterWallet(context.Background(), other.Addr, "10.0.0.9", 0); err != nil {
			t.Fatal(err)
		}
		h.hot = other
		if s := send(h, 1, "a", map[string]string{"X-Forwarded-For": "10.0.0.9"}); s != 200 {
			t.Fatalf("XFF: %d", s)
		}
		if s := send(h, 2, "b", map[string]string{"X-Forwarded-For": "6.6.6.6, 10.0.0.9"}); s != 200 {
			t.Fatalf("XFF last hop: %d", s)
		}
		if s := send(h, 3, "c", map[string]string{"X-Forwarded-For": "10.0.0.9, 6.6.6.6"}); s != 401 {
			t.Fatalf("XFF spoofed first hop: %d", s)
		}
		if s := send(h, 4, "d", nil); s != 401 {
			t.Fatalf("no header falls back to peer: %d", s)
		}
	})
	eachDB(t, map[string]string{"TPG_USE_FORWARDED": "yes"}, func(t *testing.T, h *harness) {
		other := apitest.NewWallet()
		if err := h.eng.RegisterWallet(context.Background(), other.Addr, "2001:db8::1", 0); err != nil {
			t.Fatal(err)
		}
		h.hot = other
		if s := send(h, 1, "a", map[string]string{"Forwarded": `for="[2001:db8::1]:4711";proto=https`}); s != 200 {
			t.Fatalf("Forwarded: %d", s)
		}
	})
	eachDB(t, map[string]string{"TPG_DISABLE_WALLET_WHITELIST": "1"}, func(t *testing.T, h *harness) {
		other := apitest.NewWallet()
		if err := h.eng.RegisterWallet(context.Background(), other.Addr, "10.9.9.9", 0); err != nil {
			t.Fatal(err)
		}
		h.hot = other
		if s := send(h, 1, "a", nil); s != 200 {
			t.Fatalf("whitelist off: %d", s)
		}
		if s := send(h, 1, "b", nil); s != 401 {
			t.Fatalf("whitelist off still checks nonces: %d", s)
		}
	})
}

func TestWalletRegistry(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		w := apitest.NewWallet()
		body := map[string]any{"address": w.Addr.Emoji(), "ip_address": "100.50.60.70", "initial_nonce": 3}
		if r := h.do("POST", "/api/wallets", body, h.adminT); r.Status != 200 || len(r.Body) != 0 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/api/wallets", body, h.adminT); r.Status != 400 {
			t.Fatalf("duplicate: %d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/api/wallets", map[string]any{"address": w.Addr.Base58(), "ip_address": "999.1.1.1"}, h.adminT); r.Status != 400 {
			t.Fatalf("bad ip: %d", r.Status)
		}
		_, ro := h.user("read_all")
		r := h.do("GET", "/api/wallets", nil, ro)
		var ws []core.WalletInfo
		r.JSON(t, &ws)
		found := false
		for _, x := range ws {
			if x.Address == w.Addr.Base58() && x.IPAddress == "100.50.60.70" && x.LastNonce == 3 {
				found = true
			}
		}
		if !found {
			t.Fatalf("%s", r.Body)
		}
		if r := h.do("POST", "/api/wallets", body, ro); r.Status != 403 {
			t.Fatalf("read_all adds wallet: %d", r.Status)
		}
		if r := h.do("DELETE", "/api/wallets/"+w.Addr.Hex(), nil, h.adminT); r.Status != 200 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := h.do("DELETE", "/api/wallets/"+w.Addr.Base58(), nil, h.adminT); r.Status != 404 {
			t.Fatalf("delete unknown: %d %s", r.Status, r.Body)
		}
		if r := h.do("DELETE", "/api/wallets/xyz", nil, h.adminT); r.Status != 404 {
			t.Fatalf("delete bad address: %d", r.Status)
		}
	})
}
