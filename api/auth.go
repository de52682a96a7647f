package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

const (
	headerLoginToken  = "tpg_auth_token"
	headerAccessToken = "tpg_access_token"
	claimsKey         = "tps.claims"
)

// jwtStructureOK reports whether token is a compact JWS whose header and
// claims decode to JSON objects: the reference answers 400 when it is not,
// 401 when it is but does not verify.
func jwtStructureOK(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts[:2] {
		b, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil {
			return false
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return false
		}
	}
	_, err := base64.RawURLEncoding.DecodeString(parts[2])
	return err == nil
}

// accessToken finds the access token: the tpg_access_token header, then an
// Authorization: Bearer header, then the tpg_access_token cookie.
func accessToken(r *http.Request) string {
	if v := r.Header.Get(headerAccessToken); v != "" {
		return strings.TrimSpace(v)
	}
	if v := r.Header.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "Bearer ") {
		return strings.TrimSpace(v[7:])
	}
	if ck, err := r.Cookie(headerAccessToken); err == nil && ck.Value != "" {
		return ck.Value
	}
	return ""
}

// accessClaims validates the request's access token.
func (s *Server) accessClaims(c *gin.Context) (tari.AccessClaims, *Error) {
	if v, ok := c.Get(claimsKey); ok {
		return v.(tari.AccessClaims), nil
	}
	tok := accessToken(c.Request)
	if tok == "" {
		return tari.AccessClaims{}, &Error{Status: http.StatusUnauthorized, Msg: msgNoJWT}
	}
	if !jwtStructureOK(tok) {
		return tari.AccessClaims{}, &Error{Status: http.StatusBadRequest, Msg: msgBadJWT}
	}
	cl, err := tari.ParseAccessToken(tok, s.pub, s.now())
	if err != nil {
		return tari.AccessClaims{}, &Error{Status: http.StatusUnauthorized, Msg: msgBadJWT}
	}
	if cl.Roles, err = s.heldRoles(c, cl); err != nil {
		s.log.Error("reading the roles of a token's address", "request_id", requestID(c), "err", err)
		return tari.AccessClaims{}, &Error{Status: http.StatusServiceUnavailable, Msg: "The database is unreachable."}
	}
	c.Set(claimsKey, cl)
	return cl, nil
}

// heldRoles is the token's roles that its address still holds (D28): a
// revoked role stops working at once, for tokens already issued too. A token
// naming only user (every address holds it) costs nothing; any other token
// costs one indexed read of its account's assignments (role_assignments by
// account, on a read connection: no write lock). Every instance reads the
// same database, so a revocation through any instance is seen by all of them
// on the next request, with no cache to invalidate.
func (s *Server) heldRoles(c *gin.Context, cl tari.AccessClaims) ([]string, error) {
	if s.eng == nil || !slices.ContainsFunc(cl.Roles, func(r string) bool { return r != string(core.RoleUser) }) {
		return cl.Roles, nil
	}
	have, err := s.eng.RolesForAddress(c.Request.Context(), cl.Address)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(slices.Clone(cl.Roles), func(r string) bool { return !slices.Contains(have, core.Role(r)) }), nil
}

func (s *Server) requireJWT(c *gin.Context) {
	if _, e := s.accessClaims(c); e != nil {
		abortJSON(c, e.Status, e.Msg)
		return
	}
	c.Next()
}

func claims(c *gin.Context) tari.AccessClaims { return c.MustGet(claimsKey).(tari.AccessClaims) }

func hasRole(cl tari.AccessClaims, r core.Role) bool { return slices.Contains(cl.Roles, string(r)) }

// allowed is the ACL rule: super_admin passes everything; otherwise every
// listed role must be in the token.
func allowed(tokenRoles []string, need []core.Role) bool {
	if slices.Contains(tokenRoles, string(core.RoleSuperAdmin)) {
		return true
	}
	for _, r := range need {
		if !slices.Contains(tokenRoles, string(r)) {
			return false
		}
	}
	return true
}

func requireRoles(need []core.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !allowed(claims(c).Roles, need) {
			abortJSON(c, http.StatusForbidden, msgACL)
			return
		}
		c.Next()
	}
}

// GET /api/check_token
func (s *Server) checkToken(c *gin.Context) {
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte("Token is valid."))
}
