package api

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > 0x7e || s[i] < 0x20 {
			return false
		}
	}
	return true
}

// POST /auth: the login token in the tpg_auth_token header is exchanged for
// a 24 h access token (http-api.md §2.3). The nonce check and the role check
// run in one engine transaction; the nonce is used up only by a valid login
// (D24).
func (s *Server) authLogin(c *gin.Context) {
	tok := c.GetHeader(headerLoginToken)
	if tok == "" || !isASCII(tok) {
		e := errAuthTokenMissing()
		abortJSON(c, e.Status, e.Msg)
		return
	}
	if !jwtStructureOK(tok) {
		e := errLoginFormat("InvalidTokenStructure")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	lc, err := tari.ParseLoginToken(tok)
	if err != nil {
		e := errLoginSignature(err.Error())
		abortJSON(c, e.Status, e.Msg)
		return
	}
	var roles []core.Role
	var names []string
	for _, r := range lc.DesiredRoles {
		role, ok := core.ParseRole(r)
		if !ok {
			e := errLoginSignature("unknown role " + r)
			abortJSON(c, e.Status, e.Msg)
			return
		}
		if !slices.Contains(roles, role) { // duplicates are harmless (reference bug 26)
			roles = append(roles, role)
			names = append(names, r)
		}
	}
	if _, err := s.eng.Login(c.Request.Context(), lc.Address, lc.Nonce, roles); err != nil {
		s.fail(c, err)
		return
	}
	if names == nil {
		names = []string{}
	}
	access, err := tari.NewAccessToken(s.key, lc.Address, names, s.now())
	if err != nil {
		e := newErr(http.StatusBadRequest, "Could not serialize access token. %s", err.Error())
		abortJSON(c, e.Status, e.Msg)
		return
	}
	// The reference answers the raw token text with a JSON content type.
	c.Data(http.StatusOK, "application/json", []byte(access))
}

type roleUpdate struct {
	Address *string  `json:"address" required:"true"`
	Apply   []string `json:"apply"`
	Revoke  []string `json:"revoke"`
}

func parseRoles(names []string) ([]core.Role, *Error) {
	out := make([]core.Role, 0, len(names))
	for _, n := range names {
		r, ok := core.ParseRole(n)
		if !ok {
			return nil, errInvalidBody("Json deserialize error: unknown variant `" + n + "`, expected one of `user`, `read_all`, `write`, `payment_wallet`, `super_admin`")
		}
		out = append(out, r)
	}
	return out, nil
}

// POST /api/roles (super_admin). Entries apply in order; the first error
// stops, earlier entries stay applied (as the reference). D18: re-assigning
// is a no-op and revoke-only works.
func (s *Server) modifyRoles(c *gin.Context) {
	var req []roleUpdate
	if !s.bind(c, &req) {
		return
	}
	type parsed struct {
		addr          tari.Address
		apply, revoke []core.Role
	}
	// Validate the whole request first so a typo in entry 3 does not leave
	// entries 1–2 applied.
	all := make([]parsed, 0, len(req))
	for _, u := range req {
		a, err := tari.ParseAddress(*u.Address)
		if err != nil {
			e := errInvalidPath(err.Error())
			abortJSON(c, e.Status, e.Msg)
			return
		}
		apply, e := parseRoles(u.Apply)
		if e != nil {
			abortJSON(c, e.Status, e.Msg)
			return
		}
		revoke, e := parseRoles(u.Revoke)
		if e != nil {
			abortJSON(c, e.Status, e.Msg)
			return
		}
		all = append(all, parsed{a, apply, revoke})
	}
	for _, p := range all {
		if err := s.eng.AssignRoles(c.Request.Context(), p.addr, p.apply, p.revoke); err != nil {
			s.fail(c, err)
			return
		}
	}
	c.Status(http.StatusOK)
}
