// Package console is the merchant's web console, served at /console: pages
// rendered on the server with html/template, assets embedded in the binary,
// no script and no external request, so a strict Content-Security-Policy
// holds.
//
// Sign-in is passwordless: `taritools console` makes a one-time link carrying
// a login token signed by the profile's key (the POST /auth format). The
// console checks the signature and the link's age, consumes the nonce with the
// engine's login (so the link works once) and opens a session: a random
// secret in an HttpOnly, SameSite=Strict cookie (Secure behind TLS) whose
// SHA-256 is stored in the database with the session's CSRF token, for 8 h or
// until logout. Every request re-reads the session and the address's roles
// from the database, so a logout or a revoked role holds at once on every
// instance. Every form posts the session's CSRF token; destructive actions
// show a confirmation page first.
package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/tari"
)

// PluginAdmin is what the plugin pages need from the plugin host (the API's
// PluginAdmin has the same methods).
type PluginAdmin interface {
	Plugins(ctx context.Context) (any, error)
	FailedDeliveries(ctx context.Context) (any, error)
	Redeliver(ctx context.Context, id int64) error
	RedeliverAll(ctx context.Context) (int, error)
}

// PluginEnabler is the optional re-enable operation of a PluginAdmin.
type PluginEnabler interface {
	EnablePlugin(ctx context.Context, id string) (any, error)
}

// Options configures the console.
type Options struct {
	Engine Engine
	// Plugins serves the plugin page; nil says plugins are not enabled.
	Plugins PluginAdmin
	// Rescan fetches the store's open orders the server missed and says what
	// it did; nil hides the action.
	Rescan func(ctx context.Context) (string, error)
	// SetRate stores an exchange rate and reprices the store's products as
	// POST /api/exchange_rate does, saying what it did; nil stores the rate
	// only. A repricing error comes after the rate was stored.
	SetRate func(ctx context.Context, currency string, rate core.MicroTari) (string, error)
	// Secure reports whether a request arrived over TLS (directly or through
	// a trusted proxy): the session cookie is then marked Secure. nil: TLS on
	// the connection itself.
	Secure func(r *http.Request) bool
	// LoginLimit, when set, runs before the sign-in routes (the API's
	// per-IP rate limit, as on POST /auth: each checks a signature).
	LoginLimit gin.HandlerFunc
	Logger     *slog.Logger
	Now        func() time.Time
}

const (
	// Prefix is where the console is served.
	Prefix = "/console"
	// SessionLifetime is how long a sign-in lasts.
	SessionLifetime = 8 * time.Hour
	// LinkLifetime bounds how old a sign-in link may be (its nonce is the
	// Unix time in milliseconds when taritools made it).
	LinkLifetime = 15 * time.Minute
	// linkFuture tolerates clock skew between the merchant's machine and the server.
	linkFuture = 5 * time.Minute

	sessionCookie   = "tps_console"
	loginCSRFCookie = "tps_console_login"

	csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Console holds the handlers.
type Console struct {
	eng       Engine
	plugins   PluginAdmin
	rescan    func(ctx context.Context) (string, error)
	storeRate func(ctx context.Context, currency string, rate core.MicroTari) (string, error)
	secure    func(r *http.Request) bool
	log       *slog.Logger
	now       func() time.Time
	pages     map[string]*template.Template
	limit     gin.HandlerFunc
}

// New builds the console.
func New(o Options) *Console {
	c := &Console{eng: o.Engine, plugins: o.Plugins, rescan: o.Rescan, storeRate: o.SetRate, secure: o.Secure, log: o.Logger, now: o.Now, limit: o.LoginLimit}
	if c.limit == nil {
		c.limit = func(*gin.Context) {}
	}
	if c.secure == nil {
		c.secure = func(r *http.Request) bool { return r.TLS != nil }
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.pages = parseTemplates()
	return c
}

func parseTemplates() map[string]*template.Template {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
	}
	return out
}

// Register mounts the console's routes on r.
func (c *Console) Register(r gin.IRouter) {
	g := r.Group(Prefix, securityHeaders)
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	fileServer := http.StripPrefix(Prefix+"/static/", http.FileServer(http.FS(static)))
	g.GET("/static/*file", func(ctx *gin.Context) {
		ctx.Header("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(ctx.Writer, ctx.Request)
	})
	g.GET("/login", c.limit, c.loginPage)
	g.POST("/login", c.limit, c.loginSubmit)

	read := g.Group("", c.requireSession(core.RoleReadAll))
	read.GET("", c.overview)
	read.GET("/", c.overview)
	read.GET("/orders", c.orders)
	read.GET("/orders/:order_id", c.orderPage)
	read.GET("/payments", c.payments)
	read.GET("/payments/:txid", c.paymentPage)
	read.GET("/customers", c.customers)
	read.GET("/customers/:customer_id", c.customerPage)
	read.GET("/addresses/:address", c.addressPage)
	read.GET("/rates", c.rates)
	read.GET("/wallets", c.wallets)
	read.GET("/export", c.exportPage)
	read.GET("/export/orders.csv", c.exportOrders)
	read.GET("/export/payments.csv", c.exportPayments)
	read.POST("/logout", c.logout)

	write := g.Group("", c.requireSession(core.RoleWrite))
	write.POST("/orders/:order_id/:action", c.orderAction)
	write.POST("/customers/:customer_id/settle", c.settleCustomer)
	write.POST("/addresses/:address/settle", c.settleAddress)
	write.POST("/credit", c.credit)
	write.POST("/rates", c.setRate)
	write.POST("/rescan", c.rescanOrders)
	write.GET("/plugins", c.pluginsPage)
	write.POST("/plugins/deliveries/:id/redeliver", c.redeliver)
	write.POST("/plugins/deliveries/redeliver", c.redeliverAll)
	write.POST("/plugins/:id/enable", c.enablePlugin)

	sa := g.Group("", c.requireSession(core.RoleSuperAdmin))
	sa.GET("/roles", c.roles)
	sa.POST("/roles", c.changeRoles)
	sa.POST("/roles/sessions", c.endSessions)
	sa.POST("/wallets", c.addWallet)
	sa.POST("/wallets/remove", c.removeWallet)
}

func securityHeaders(ctx *gin.Context) {
	h := ctx.Writer.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer") // sign-in links carry a token
	if ctx.Request.URL.Path != Prefix+"/static/console.css" {
		h.Set("Cache-Control", "no-store")
	}
	ctx.Next()
}

// viewer is the signed-in user of one request.
type viewer struct {
	Session engine.ConsoleSession
	Roles   []core.Role
}

func (v viewer) has(r core.Role) bool {
	return slices.Contains(v.Roles, core.RoleSuperAdmin) || slices.Contains(v.Roles, r)
}

// CanWrite and the others decide what the templates show.
func (v viewer) CanWrite() bool      { return v.has(core.RoleWrite) }
func (v viewer) IsSuperAdmin() bool  { return v.has(core.RoleSuperAdmin) }
func (v viewer) Address() string     { return v.Session.Address.Base58() }
func (v viewer) CSRF() string        { return v.Session.CSRFToken }
func (v viewer) RoleNames() []string { return rolesText(v.Roles) }

const viewerKey = "console.viewer"

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// requireSession loads the session and the address's current roles and
// requires role (super_admin passes everything); a POST must carry the
// session's CSRF token.
func (c *Console) requireSession(role core.Role) gin.HandlerFunc {
	return func(ctx *gin.Context) {
		v, ok := c.viewerOf(ctx)
		if !ok {
			return
		}
		if !v.has(core.RoleReadAll) || !v.has(role) {
			c.deny(ctx, v)
			return
		}
		if ctx.Request.Method == http.MethodPost {
			sent := ctx.PostForm("csrf")
			if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(v.Session.CSRFToken)) != 1 {
				c.renderStatus(ctx, http.StatusForbidden, "message", v, gin.H{"Title": "Refused", "Message": "This form is missing its security token or it is out of date. Go back, reload the page and try again."})
				ctx.Abort()
				return
			}
		}
		ctx.Next()
	}
}

// viewerOf finds the request's session (or redirects to the sign-in help).
func (c *Console) viewerOf(ctx *gin.Context) (viewer, bool) {
	if v, ok := ctx.Get(viewerKey); ok {
		return v.(viewer), true
	}
	ck, err := ctx.Request.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		c.signedOut(ctx)
		return viewer{}, false
	}
	s, err := c.eng.ConsoleSessionByHash(ctx.Request.Context(), hashToken(ck.Value), c.now())
	if errors.Is(err, engine.ErrSessionNotFound) {
		c.clearCookie(ctx, sessionCookie, Prefix)
		c.signedOut(ctx)
		return viewer{}, false
	}
	if err != nil {
		c.internal(ctx, err)
		return viewer{}, false
	}
	roles, err := c.eng.RolesForAddress(ctx.Request.Context(), s.Address)
	if err != nil {
		c.internal(ctx, err)
		return viewer{}, false
	}
	v := viewer{Session: s, Roles: roles}
	ctx.Set(viewerKey, v)
	return v, true
}

func (c *Console) signedOut(ctx *gin.Context) {
	c.renderStatus(ctx, http.StatusUnauthorized, "signedout", viewer{}, gin.H{"Title": "Sign in"})
	ctx.Abort()
}

func (c *Console) deny(ctx *gin.Context, v viewer) {
	msg := "Your address does not have the role this page needs."
	if !v.has(core.RoleReadAll) {
		msg = "Your address has no console roles (read_all, write or super_admin). Ask a super_admin to grant them."
		v = viewer{} // show no navigation
	}
	c.renderStatus(ctx, http.StatusForbidden, "message", v, gin.H{"Title": "Not allowed", "Message": msg})
	ctx.Abort()
}

func (c *Console) setCookie(ctx *gin.Context, name, value, path string, maxAge time.Duration) {
	http.SetCookie(ctx.Writer, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: int(maxAge / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.secure(ctx.Request),
	})
}

func (c *Console) clearCookie(ctx *gin.Context, name, path string) {
	http.SetCookie(ctx.Writer, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.secure(ctx.Request)})
}

// GET /console/login?token=…: check the link and show a sign-in button. The
// nonce is consumed only by the button's POST, so a link preview that
// fetches the URL does not use the link up.
func (c *Console) loginPage(ctx *gin.Context) {
	tok := ctx.Query("token")
	lc, msg := c.checkLink(tok)
	if msg != "" {
		c.renderStatus(ctx, http.StatusBadRequest, "message", viewer{}, gin.H{"Title": "Sign-in link refused", "Message": msg})
		return
	}
	csrf := randomToken()
	c.setCookie(ctx, loginCSRFCookie, csrf, Prefix+"/login", LinkLifetime)
	c.render(ctx, "login", viewer{}, gin.H{"Title": "Sign in", "Token": tok, "LoginCSRF": csrf, "SignInAddress": lc.Address.Base58()})
}

// checkLink verifies a sign-in token's signature and age; msg says why not.
func (c *Console) checkLink(tok string) (tari.LoginClaims, string) {
	if tok == "" || len(tok) > 4096 {
		return tari.LoginClaims{}, "This sign-in link has no token. Make a new one with: taritools console -p <profile>"
	}
	lc, err := tari.ParseLoginToken(tok)
	if err != nil {
		return tari.LoginClaims{}, "This sign-in link is not valid (its signature does not verify). Make a new one with: taritools console -p <profile>"
	}
	made := time.UnixMilli(int64(min(lc.Nonce, uint64(1)<<62)))
	now := c.now()
	if made.Before(now.Add(-LinkLifetime)) || made.After(now.Add(linkFuture)) {
		return tari.LoginClaims{}, "This sign-in link has expired (links last 15 minutes). Make a new one with: taritools console -p <profile>"
	}
	return lc, ""
}

// POST /console/login: consume the link's nonce and open a session.
func (c *Console) loginSubmit(ctx *gin.Context) {
	ck, err := ctx.Request.Cookie(loginCSRFCookie)
	sent := ctx.PostForm("csrf")
	if err != nil || sent == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(sent)) != 1 {
		c.renderStatus(ctx, http.StatusForbidden, "message", viewer{}, gin.H{"Title": "Refused", "Message": "This sign-in form is missing its security token. Open the sign-in link again."})
		return
	}
	c.clearCookie(ctx, loginCSRFCookie, Prefix+"/login")
	lc, msg := c.checkLink(ctx.PostForm("token"))
	if msg != "" {
		c.renderStatus(ctx, http.StatusBadRequest, "message", viewer{}, gin.H{"Title": "Sign-in link refused", "Message": msg})
		return
	}
	var desired []core.Role
	for _, n := range lc.DesiredRoles {
		r, ok := core.ParseRole(n)
		if !ok {
			c.renderStatus(ctx, http.StatusBadRequest, "message", viewer{}, gin.H{"Title": "Sign-in link refused", "Message": "The link asks for an unknown role " + n + "."})
			return
		}
		if !slices.Contains(desired, r) {
			desired = append(desired, r)
		}
	}
	rc := ctx.Request.Context()
	if _, err := c.eng.Login(rc, lc.Address, lc.Nonce, desired); err != nil {
		switch {
		case errors.Is(err, core.ErrInvalidNonce):
			msg = "This sign-in link was already used. Make a new one with: taritools console -p <profile>"
		case errors.Is(err, core.ErrRolesNotAllowed):
			msg = "The profile asks for roles this address does not have. Fix the profile's roles or ask a super_admin."
		default:
			c.internal(ctx, err)
			return
		}
		c.renderStatus(ctx, http.StatusForbidden, "message", viewer{}, gin.H{"Title": "Sign-in refused", "Message": msg})
		return
	}
	roles, err := c.eng.RolesForAddress(rc, lc.Address)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	if v := (viewer{Roles: roles}); !v.has(core.RoleReadAll) {
		c.deny(ctx, v)
		return
	}
	secret := randomToken()
	now := c.now()
	s := engine.ConsoleSession{TokenHash: hashToken(secret), Address: lc.Address, CSRFToken: randomToken(),
		CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)}
	if err := c.eng.CreateConsoleSession(rc, s); err != nil {
		c.internal(ctx, err)
		return
	}
	c.setCookie(ctx, sessionCookie, secret, Prefix, SessionLifetime)
	ctx.Redirect(http.StatusSeeOther, Prefix+"/")
}

// POST /console/logout
func (c *Console) logout(ctx *gin.Context) {
	v := ctx.MustGet(viewerKey).(viewer)
	if err := c.eng.DeleteConsoleSession(ctx.Request.Context(), v.Session.TokenHash); err != nil {
		c.internal(ctx, err)
		return
	}
	c.clearCookie(ctx, sessionCookie, Prefix)
	c.render(ctx, "signedout", viewer{}, gin.H{"Title": "Signed out", "SignedOut": true})
}

func (c *Console) render(ctx *gin.Context, page string, v viewer, data gin.H) {
	c.renderStatus(ctx, http.StatusOK, page, v, data)
}

func (c *Console) renderStatus(ctx *gin.Context, status int, page string, v viewer, data gin.H) {
	t, ok := c.pages[page]
	if !ok {
		panic("console: no template " + page)
	}
	if data == nil {
		data = gin.H{}
	}
	data["V"] = v
	data["SignedIn"] = v.Session.TokenHash != ""
	data["Path"] = ctx.Request.URL.Path
	// The result of a post/redirect/get action.
	if ctx.Request.Method == http.MethodGet && v.Session.TokenHash != "" {
		if d := doneMessage(ctx.Request.URL.Query()); d != "" {
			data["Done"] = d
		}
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		c.log.Error("console: render", "page", page, "err", err)
		ctx.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error\n"))
		return
	}
	ctx.Data(status, "text/html; charset=utf-8", []byte(b.String()))
}

// internal logs an unexpected error and answers 500 without its details.
func (c *Console) internal(ctx *gin.Context, err error) {
	c.log.Error("console: request failed", "path", ctx.Request.URL.Path, "err", err)
	c.renderStatus(ctx, http.StatusInternalServerError, "message", viewer{}, gin.H{"Title": "Something went wrong", "Message": "The server could not complete this request. It has been logged."})
	ctx.Abort()
}

// userError maps the engine's refusals to a 4xx message; ok is false for
// anything else (a bug or an outage).
func userError(err error) (int, string, bool) {
	switch {
	case errors.Is(err, core.ErrOrderNotFound), errors.Is(err, core.ErrPaymentNotFound),
		errors.Is(err, core.ErrRateNotFound), errors.Is(err, core.ErrWalletNotFound):
		return http.StatusNotFound, err.Error(), true
	case errors.Is(err, core.ErrForbiddenChange), errors.Is(err, core.ErrNoOpChange),
		errors.Is(err, core.ErrUnsupportedAction), errors.Is(err, core.ErrInvalidAmount),
		errors.Is(err, core.ErrInvalidPrice), errors.Is(err, core.ErrWalletExists),
		errors.Is(err, core.ErrInvalidOrder), errors.Is(err, core.ErrUnsupportedCurrency):
		return http.StatusUnprocessableEntity, err.Error(), true
	}
	return 0, "", false
}

// fail answers an engine error: a message page for a refusal, 500 otherwise.
func (c *Console) fail(ctx *gin.Context, v viewer, err error) {
	if st, msg, ok := userError(err); ok {
		c.renderStatus(ctx, st, "message", v, gin.H{"Title": "Not done", "Message": msg})
		return
	}
	c.internal(ctx, err)
}

// bad answers a 400 for invalid input.
func (c *Console) bad(ctx *gin.Context, v viewer, msg string) {
	c.renderStatus(ctx, http.StatusBadRequest, "message", v, gin.H{"Title": "Check the form", "Message": msg})
}

// confirmed reports whether the form's confirmation step is done; when not,
// it renders the confirmation page, which posts the same fields again with
// confirm=yes.
func (c *Console) confirmed(ctx *gin.Context, v viewer, what string) bool {
	if ctx.PostForm("confirm") == "yes" {
		return true
	}
	_ = ctx.Request.ParseForm()
	type field struct{ Name, Value string }
	var fields []field
	for k, vals := range ctx.Request.PostForm {
		if k == "csrf" || k == "confirm" {
			continue
		}
		for _, val := range vals {
			fields = append(fields, field{k, val})
		}
	}
	slices.SortFunc(fields, func(a, b field) int { return strings.Compare(a.Name, b.Name) })
	c.render(ctx, "confirm", v, gin.H{"Title": "Confirm", "What": what, "Action": ctx.Request.URL.EscapedPath(), "Fields": fields, "Back": backLink(ctx)})
	return false
}

// backLink is the page a form was posted from (its "back" field), kept
// inside the console.
func backLink(ctx *gin.Context) string {
	b := ctx.PostForm("back")
	if u, err := url.Parse(b); err == nil && u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, Prefix+"/") && !strings.HasPrefix(b, "//") {
		return b
	}
	return Prefix + "/"
}

// done shows the result of an action with a link back.
func (c *Console) done(ctx *gin.Context, v viewer, msg string) {
	c.render(ctx, "message", v, gin.H{"Title": "Done", "Message": msg, "Back": backLink(ctx), "OK": true})
}

func rolesText(rs []core.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}
