package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Read routes this project adds for the admin tools (not in the reference).

// adminListingRoutes are their paths (the route table test counts the
// reference's routes without them).
var adminListingRoutes = map[string]bool{"/api/exchange_rates": true, "/api/roles/:address": true}

// GET /api/exchange_rates: the latest rate of every currency, sorted by
// currency, each in the shape of GET /api/exchange_rate/{currency}.
func (s *Server) listExchangeRates(c *gin.Context) {
	rs, err := s.eng.AllExchangeRates(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]exchangeRateResult, len(rs))
	for i, r := range rs {
		out[i] = exchangeRateResult{Currency: r.Currency, Rate: r.Rate,
			UpdatedAt: r.UpdatedAt.UTC().Format("2006-01-02T15:04:05.999999999") + "+00:00"}
	}
	writeJSON(c, http.StatusOK, out)
}

// rolesResult is the answer of GET /api/roles/{address}.
type rolesResult struct {
	Address string   `json:"address"`
	Roles   []string `json:"roles"`
}

// GET /api/roles/{address}: the roles assigned to an address's account
// (user always included).
func (s *Server) rolesFor(c *gin.Context) {
	a, ok := pathAddress(c, "address")
	if !ok {
		return
	}
	rs, err := s.eng.RolesForAddress(c.Request.Context(), a)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := rolesResult{Address: a.Base58(), Roles: make([]string, len(rs))}
	for i, r := range rs {
		out.Roles[i] = string(r)
	}
	writeJSON(c, http.StatusOK, out)
}
