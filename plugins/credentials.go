package plugins

import "net/http"

// clientBase returns the HTTP client a plugin's requests go through: the
// shared Config.HTTPClient, or a copy whose transport is the one the server
// gave this plugin in Config.Transports. That is how the shipped shopify
// plugin's requests to the shop carry the current Admin API token (obtained
// and renewed by the server from the app's client credentials) without the
// plugin ever seeing the client secret.
func (c *Config) clientBase(pluginID string) *http.Client {
	rt, ok := c.Transports[pluginID]
	if !ok || rt == nil {
		return c.HTTPClient
	}
	cl := *c.HTTPClient
	cl.Transport = rt
	return &cl
}
