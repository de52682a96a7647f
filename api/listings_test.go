package api

import (
	"testing"
)

// TestAdminListings: GET /api/exchange_rates lists every currency's latest
// rate in the shape of GET /api/exchange_rate/{cur}; GET /api/roles/{address}
// shows an address's roles, for any address form, and refuses a bad one.
func TestAdminListings(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		r := h.do("GET", "/api/exchange_rates", nil, h.adminT)
		if r.Status != 200 || string(r.Body) != "[]" {
			t.Fatalf("no rates: %d %s", r.Status, r.Body)
		}
		h.setRate("usd", 300)
		h.setRate("EUR", 400)
		h.setRate("USD", 250)
		var rates []exchangeRateResult
		r = h.do("GET", "/api/exchange_rates", nil, h.adminT)
		r.JSON(t, &rates)
		if len(rates) != 2 || rates[0].Currency != "EUR" || rates[0].Rate != 400 || rates[1].Currency != "USD" || rates[1].Rate != 250 {
			t.Fatalf("rates: %s", r.Body)
		}
		var one exchangeRateResult
		h.do("GET", "/api/exchange_rate/USD", nil, h.adminT).JSON(t, &one)
		if one != rates[1] {
			t.Fatalf("list entry %+v differs from the single read %+v", rates[1], one)
		}

		w, _ := h.user("read_all", "write")
		var roles rolesResult
		r = h.do("GET", "/api/roles/"+w.Addr.Emoji(), nil, h.adminT)
		r.JSON(t, &roles)
		if roles.Address != w.Addr.Base58() || len(roles.Roles) != 3 {
			t.Fatalf("roles: %s", r.Body)
		}
		for _, want := range []string{"user", "read_all", "write"} {
			found := false
			for _, got := range roles.Roles {
				found = found || got == want
			}
			if !found {
				t.Fatalf("roles lack %s: %s", want, r.Body)
			}
		}
		if r := h.do("GET", "/api/roles/not-an-address", nil, h.adminT); r.Status != 404 {
			t.Fatalf("bad address: %d %s", r.Status, r.Body)
		}
	})
}
