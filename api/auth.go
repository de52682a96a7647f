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
	c.Set(claimsKey, cl)
	return cl, nil
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
