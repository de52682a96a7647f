package client

import (
	"context"
	"net/http"

	"github.com/tari-payment/tps/core"
)

// Roles is the answer of GET /api/roles/{address}.
type Roles struct {
	Address string   `json:"address"`
	Roles   []string `json:"roles"`
}

// ExchangeRates calls GET /api/exchange_rates: every currency's latest rate.
func (c *Client) ExchangeRates(ctx context.Context) ([]core.ExchangeRate, error) {
	var out []core.ExchangeRate
	err := c.call(ctx, http.MethodGet, "/api/exchange_rates", true, nil, &out)
	return out, err
}

// RolesFor calls GET /api/roles/{address} (super_admin).
func (c *Client) RolesFor(ctx context.Context, address string) (Roles, error) {
	var out Roles
	err := c.call(ctx, http.MethodGet, "/api/roles/"+esc(address), true, nil, &out)
	return out, err
}
