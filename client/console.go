package client

import (
	"net/url"

	"github.com/tari-payment/tps/core/tari"
)

// ConsoleLoginURL makes the one-time sign-in link of the server's web console
// (GET /console/login): a fresh login token, signed by the client's key, with
// the next nonce. The server accepts each nonce once (the same rule as
// POST /auth) and only for a short while after it was made.
func (c *Client) ConsoleLoginURL() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	roles := c.Roles
	if roles == nil {
		roles = []string{"user"}
	}
	tok, err := tari.NewLoginToken(c.Key, c.Address, c.nextNonce(), roles)
	if err != nil {
		return "", err
	}
	return c.BaseURL + "/console/login?token=" + url.QueryEscape(tok), nil
}
