package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
)

// Plugin pages and endpoints: /plugins/{id}/… is served by the plugin's
// manifest routes (plugins/ABI.md "Routes"). This file is the HTTP side: the
// route's access rule (public, rate limited per IP; or the access token and
// roles, checked as for /api), the body cap, what of the request reaches the
// plugin (no credentials) and what of its answer reaches the client (no
// cookies; the server's own security headers and CSP).

// PluginRouter is implemented by a PluginAdmin whose plugins may serve
// routes. Without it /plugins/… answers 404.
type PluginRouter interface {
	// PluginRouteAccess says how method path (below /plugins/{id}) is guarded;
	// an error wrapping ErrPluginNotFound or ErrPluginRouteNotFound when
	// nothing serves it.
	PluginRouteAccess(id, method, path string) (PluginRouteAccess, error)
	// ServePluginRoute calls the plugin. Errors may wrap
	// ErrPluginRouteTimeout (504), ErrPluginRouteBusy (503) or the not-found
	// errors (404); anything else is the plugin's failure (502).
	ServePluginRoute(ctx context.Context, id string, req PluginRouteRequest) (PluginRouteResponse, error)
}

// PluginRouteAccess is a route's access rule.
type PluginRouteAccess struct {
	Public       bool
	Roles        []core.Role // all required unless Public (super_admin passes)
	MaxBodyBytes int64
	Timeout      time.Duration // the route's deadline, for the 504 message
}

// PluginRouteRequest is what the plugin is told of a request.
type PluginRouteRequest struct {
	Method, Path, Query string
	Header              map[string]string
	Body                []byte
	Address             string   // the caller on a route with roles
	Roles               []string // the caller's roles still held
	Nonce               string   // the CSP nonce of this response
}

// PluginRouteResponse is the plugin's answer, before the server filters it.
type PluginRouteResponse struct {
	Status int
	Header map[string]string
	Body   []byte
}

// Errors a PluginRouter may return (wrapped).
var (
	ErrPluginRouteNotFound = errors.New("plugin route not found")
	ErrPluginRouteTimeout  = errors.New("plugin route timed out")
	ErrPluginRouteBusy     = errors.New("plugin busy")
)

// pluginRouteCSP is the policy of every plugin response: nothing runs
// (no script-src, so none), styles only from <style nonce> elements of this
// response, images from the server or data: URLs (inline <svg> needs no
// source), forms only to the server, no framing. The nonce is fresh per
// response and handed to the plugin in the request document.
func pluginRouteCSP(nonce string) string {
	return "default-src 'none'; style-src 'nonce-" + nonce + "'; img-src 'self' data:; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// pluginRequestDropped are request headers no plugin sees: credentials of
// the caller (the access token is checked here; the plugin gets the address
// and roles instead).
var pluginRequestDropped = map[string]bool{
	"Cookie": true, "Authorization": true, "Proxy-Authorization": true,
	http.CanonicalHeaderKey(headerAccessToken): true, http.CanonicalHeaderKey(headerLoginToken): true,
}

// pluginResponseAllowed are the response headers a plugin may set; every
// other one (Set-Cookie, CSP, CORS, …) is dropped.
var pluginResponseAllowed = []string{"Content-Type", "Content-Disposition", "Cache-Control", "Etag", "Last-Modified", "Content-Language", "Location"}

// ANY /plugins/{id}/*path
func (s *Server) pluginRoute(c *gin.Context) {
	nonce := newNonce()
	h := c.Writer.Header()
	setPageHeaders(h)
	h.Set("Content-Security-Policy", pluginRouteCSP(nonce))
	h.Set("Cache-Control", "no-store")
	id, ok := pluginIDParam(c)
	if !ok {
		return
	}
	path := c.Param("path")
	notFound := func() {
		e := errNotFound("The plugin " + id + " serves no " + c.Request.Method + " " + path)
		abortJSON(c, e.Status, e.Msg)
	}
	// Without a plugin host that serves routes there is no such page: 404,
	// not the admin API's 501.
	pr, ok := s.plugins.(PluginRouter)
	if !ok {
		notFound()
		return
	}
	access, err := pr.PluginRouteAccess(id, c.Request.Method, path)
	if errors.Is(err, ErrPluginNotFound) || errors.Is(err, ErrPluginRouteNotFound) {
		notFound()
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	req := PluginRouteRequest{Method: c.Request.Method, Path: path, Query: c.Request.URL.RawQuery, Nonce: nonce, Header: map[string]string{}}
	if access.Public {
		if key := s.clientKey(c); key != "" {
			if okTake, wait := s.publicLimit.take(key); !okTake {
				s.tooMany(c, budgetPublic, wait)
				return
			}
		}
	} else {
		cl, e := s.accessClaims(c)
		if e != nil {
			abortJSON(c, e.Status, e.Msg)
			return
		}
		if !allowed(cl.Roles, access.Roles) {
			abortJSON(c, http.StatusForbidden, msgACL)
			return
		}
		// A browser sends the access-token cookie with a request another
		// site makes it send: a request that changes something must carry
		// the token in a header, which another site cannot set.
		if !safeMethod(c.Request.Method) && tokenFromCookieOnly(c.Request) {
			abortJSON(c, http.StatusForbidden, "Send the access token in the tpg_access_token or Authorization header for a "+c.Request.Method+" request; the cookie is accepted for GET only.")
			return
		}
		req.Address, req.Roles = cl.Address.Base58(), cl.Roles
	}
	if c.Request.Body != nil {
		limit := min(access.MaxBodyBytes, maxBodyBytes)
		body, err := io.ReadAll(io.LimitReader(c.Request.Body, limit+1))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig) || int64(len(body)) > limit:
			abortJSON(c, http.StatusRequestEntityTooLarge, msgBodyTooLarge)
			return
		case err != nil:
			e := errInvalidBody(err.Error())
			abortJSON(c, e.Status, e.Msg)
			return
		}
		req.Body = body
	}
	for k, v := range c.Request.Header {
		if !pluginRequestDropped[http.CanonicalHeaderKey(k)] {
			req.Header[http.CanonicalHeaderKey(k)] = strings.Join(v, ", ")
		}
	}
	resp, err := pr.ServePluginRoute(c.Request.Context(), id, req)
	switch {
	case err == nil:
	case errors.Is(err, ErrPluginNotFound) || errors.Is(err, ErrPluginRouteNotFound):
		notFound()
		return
	case errors.Is(err, ErrPluginRouteTimeout):
		s.log.Warn("plugin route timed out", "request_id", requestID(c), "plugin", id, "path", path, "err", err)
		abortJSON(c, http.StatusGatewayTimeout, "The plugin "+id+" did not answer within its "+access.Timeout.String()+" deadline and was stopped.")
		return
	case errors.Is(err, ErrPluginRouteBusy):
		s.log.Warn("plugin route busy", "request_id", requestID(c), "plugin", id, "path", path, "err", err)
		c.Header("Retry-After", "1")
		abortJSON(c, http.StatusServiceUnavailable, "The plugin "+id+" is busy; retry in a moment.")
		return
	case errors.Is(err, context.Canceled):
		c.Abort() // the client went away
		return
	default:
		s.log.Error("plugin route failed", "request_id", requestID(c), "plugin", id, "path", path, "err", err)
		abortJSON(c, http.StatusBadGateway, "The plugin "+id+" failed to answer this request (request id "+requestID(c)+").")
		return
	}
	for _, k := range pluginResponseAllowed {
		v, ok := pluginHeader(resp.Header, k)
		if !ok {
			continue
		}
		switch {
		case k == "Location" && (!strings.HasPrefix(v, "/plugins/"+id+"/") || strings.Contains(v, "..") || strings.ContainsAny(v, `\%`)):
			continue // a plugin redirects within its own pages only (no way out by .., \ or escapes)
		case k == "Cache-Control" && !access.Public:
			continue // a page for one caller's roles is never cached
		}
		h.Set(k, v)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/octet-stream")
	}
	c.Status(resp.Status)
	_, _ = c.Writer.Write(resp.Body)
}

// pluginHeader looks k up in a plugin's header map, in any case.
func pluginHeader(m map[string]string, k string) (string, bool) {
	for mk, v := range m {
		if strings.EqualFold(mk, k) && !strings.ContainsAny(v, "\r\n") {
			return v, true
		}
	}
	return "", false
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// tokenFromCookieOnly: the request's access token came from the cookie (see
// accessToken for the order).
func tokenFromCookieOnly(r *http.Request) bool {
	if r.Header.Get(headerAccessToken) != "" {
		return false
	}
	v := r.Header.Get("Authorization")
	return !(len(v) > 7 && strings.EqualFold(v[:7], "Bearer "))
}

func newNonce() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// pluginPagePath is the route table's path of plugin pages (an addition to
// the reference's table, like the /api/plugins administration);
// pluginRootPath redirects to the plugin's "/" page.
const (
	pluginPagePath = "/plugins/:id/*path"
	pluginRootPath = "/plugins/:id"
)

// pluginPageRoutes are the route table's entries of plugin pages, one per
// method a manifest route may list; access is checked per manifest route in
// pluginRoute.
func (s *Server) pluginPageRoutes() []route {
	var out []route
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		out = append(out, route{method: m, path: pluginPagePath, guard: guardNone, handler: s.pluginRoute})
	}
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		out = append(out, route{method: m, path: pluginRootPath, guard: guardNone, handler: pluginRootRedirect})
	}
	return out
}

// GET /plugins/{id}: the plugin's pages start at /plugins/{id}/ (relative
// links in them resolve below it).
func pluginRootRedirect(c *gin.Context) {
	id, ok := pluginIDParam(c)
	if !ok {
		return
	}
	c.Redirect(http.StatusMovedPermanently, "/plugins/"+id+"/")
}
