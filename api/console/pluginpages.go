package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
)

// Plugin pages through the console: /console/plugins/{id}/… serves the same
// manifest routes as /plugins/{id}/… (plugins/ABI.md "Routes") to a
// signed-in console user, so a browser needs no access token. The console
// checks the session (roles re-read from the database, as on every console
// page); the server's PluginPages applies the route's own access rule to
// the session's address and roles and serves the page exactly as /plugins
// does (header filtering, body cap, plugin-page CSP, error mapping).
//
// Only GET and HEAD are served here: a plugin's page cannot know the
// session's CSRF token, so a form of its own could never pass the console's
// check; POST and the others stay on /plugins with the access token in a
// header.

// PluginPage is one plugin page asked for through the console.
type PluginPage struct {
	ID   string
	Path string // below /plugins/{id}, starting with "/"
	// Address and Roles are the session's, the roles as read for this
	// request.
	Address string
	Roles   []core.Role
	// Refuse answers an error as a console page (status and message);
	// Internal a failure of the server (500, no details).
	Refuse   func(status int, msg string)
	Internal func(err error)
}

// pluginPagePrefix is where the console serves plugin pages.
const pluginPagePrefix = Prefix + "/plugins/"

// GET|HEAD /console/plugins/{id}/*path
func (c *Console) pluginPage(ctx *gin.Context) {
	v := viewerOf(ctx)
	id := ctx.Param("id")
	refuse := func(status int, msg string) {
		// The page is the console's own again: its CSP, not the plugin's.
		ctx.Writer.Header().Set("Content-Security-Policy", csp)
		title := "Plugin page"
		switch status {
		case http.StatusNotFound:
			title = "No such page"
		case http.StatusForbidden:
			title = "Not allowed"
		}
		c.renderStatus(ctx, status, "message", v, gin.H{"Title": title, "Message": msg, "Back": Prefix + "/plugins"})
		ctx.Abort()
	}
	if !pluginIDPattern.MatchString(id) {
		refuse(http.StatusBadRequest, "A plugin id is lower-case letters, digits and '-'.")
		return
	}
	if c.pluginPages == nil {
		refuse(http.StatusNotFound, "Plugins serve no pages on this server.")
		return
	}
	c.pluginPages(ctx, PluginPage{ID: id, Path: ctx.Param("path"), Address: v.Address(), Roles: v.Roles,
		Refuse: refuse, Internal: func(err error) { c.internal(ctx, err) }})
}

// GET /console/plugins/{id}: the plugin's pages start at …/{id}/, so that
// relative links in them resolve below it.
func (c *Console) pluginPageRoot(ctx *gin.Context) {
	id := ctx.Param("id")
	if !pluginIDPattern.MatchString(id) {
		c.bad(ctx, viewerOf(ctx), "A plugin id is lower-case letters, digits and '-'.")
		return
	}
	ctx.Redirect(http.StatusMovedPermanently, pluginPagePrefix+id+"/")
}

// routeView is a manifest route as the plugin host reports it.
type routeView struct {
	Path    string   `json:"path"`
	Methods []string `json:"methods"`
	Public  bool     `json:"public"`
	Roles   []string `json:"roles"`
}

// pageLink is a link to one of a plugin's pages: its address in the
// console and its route path as the label.
type pageLink struct{ Href, Label string }

// pageLinks are the console links to a plugin's GET pages the viewer may
// open; a wildcard route ("/export/*") links to its folder.
func pageLinks(id string, routes []routeView, v viewer) []pageLink {
	var out []pageLink
	for _, r := range routes {
		if len(r.Methods) > 0 && !slices.Contains(r.Methods, http.MethodGet) {
			continue
		}
		if !r.Public && slices.ContainsFunc(r.Roles, func(n string) bool { return !v.has(core.Role(n)) }) {
			continue
		}
		path := strings.TrimSuffix(r.Path, "*")
		out = append(out, pageLink{Href: pluginPagePrefix + id + path, Label: path})
	}
	return out
}
