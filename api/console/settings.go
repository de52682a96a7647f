package console

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// ---- Exchange rates ----

func (c *Console) rates(ctx *gin.Context) {
	v := viewerOf(ctx)
	rs, err := c.eng.ExchangeRates(ctx.Request.Context())
	if err != nil {
		c.internal(ctx, err)
		return
	}
	c.render(ctx, "rates", v, gin.H{"Title": "Exchange rates", "Rates": rs})
}

func (c *Console) setRate(ctx *gin.Context) {
	v := viewerOf(ctx)
	cur := strings.ToUpper(strings.TrimSpace(ctx.PostForm("currency")))
	if len(cur) < 3 || len(cur) > 8 || strings.IndexFunc(cur, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		c.bad(ctx, v, "A currency is a code of 3 to 8 letters, such as USD.")
		return
	}
	rate, err := parseAmount(ctx.PostForm("rate"))
	if err != nil || rate <= 0 {
		c.bad(ctx, v, "The rate is a positive amount of µT (or \"<decimal> T\") per one unit of the currency.")
		return
	}
	if !c.confirmed(ctx, v, fmt.Sprintf("Set 1 %s = %s (new orders are priced with it).", cur, money(rate))) {
		return
	}
	msg := fmt.Sprintf("1 %s = %s from now on.", cur, money(rate))
	if c.storeRate == nil {
		if _, err := c.eng.SetExchangeRate(ctx.Request.Context(), cur, rate); err != nil {
			c.fail(ctx, v, err)
			return
		}
	} else {
		more, err := c.storeRate(ctx.Request.Context(), cur, rate)
		if errors.Is(err, ErrRepricing) {
			c.renderStatus(ctx, http.StatusBadGateway, "message", v, gin.H{"Title": "Rate stored, products not repriced", "Message": msg + " " + err.Error()})
			return
		}
		if err != nil {
			c.fail(ctx, v, err)
			return
		}
		msg += " " + more
	}
	c.log.Info("console: admin action", "action", "rate_set", "currency", cur, "rate", int64(rate), "by", v.Address())
	c.done(ctx, v, msg)
}

func (c *Console) rescanOrders(ctx *gin.Context) {
	v := viewerOf(ctx)
	if c.rescan == nil {
		c.renderStatus(ctx, http.StatusNotImplemented, "message", v, gin.H{"Title": "Not available", "Message": "Rescanning is not available on this server."})
		return
	}
	if !c.confirmed(ctx, v, "Fetch the store's open orders and add the ones the server missed.") {
		return
	}
	msg, err := c.rescan(ctx.Request.Context())
	if err != nil {
		c.renderStatus(ctx, http.StatusBadGateway, "message", v, gin.H{"Title": "Rescan failed", "Message": err.Error()})
		return
	}
	c.done(ctx, v, msg)
}

// ---- Hot wallets ----

func (c *Console) wallets(ctx *gin.Context) {
	v := viewerOf(ctx)
	ws, err := c.eng.Wallets(ctx.Request.Context())
	if err != nil {
		c.internal(ctx, err)
		return
	}
	c.render(ctx, "wallets", v, gin.H{"Title": "Hot wallets", "Wallets": ws})
}

func (c *Console) addWallet(ctx *gin.Context) {
	v := viewerOf(ctx)
	a, err := tari.ParseAddress(strings.TrimSpace(ctx.PostForm("address")))
	if err != nil {
		c.bad(ctx, v, "That is not a Tari address: "+err.Error())
		return
	}
	ip := strings.TrimSpace(ctx.PostForm("ip"))
	if ip == "" || len(ip) > 64 {
		c.bad(ctx, v, "Give the IP address the wallet's notifications come from.")
		return
	}
	nonce := int64(0)
	if s := strings.TrimSpace(ctx.PostForm("nonce")); s != "" {
		if nonce, err = strconv.ParseInt(s, 10, 64); err != nil || nonce < 0 {
			c.bad(ctx, v, "The initial nonce is a whole number, 0 or more.")
			return
		}
	}
	if !c.confirmed(ctx, v, "Authorise hot wallet "+a.Base58()+" from "+ip+".") {
		return
	}
	if err := c.eng.RegisterWallet(ctx.Request.Context(), a, ip, nonce); err != nil {
		c.fail(ctx, v, err)
		return
	}
	c.log.Info("console: admin action", "action", "wallet_add", "address", a.Base58(), "by", v.Address())
	c.done(ctx, v, "Hot wallet "+a.Base58()+" added.")
}

func (c *Console) removeWallet(ctx *gin.Context) {
	v := viewerOf(ctx)
	a, err := tari.ParseAddress(strings.TrimSpace(ctx.PostForm("address")))
	if err != nil {
		c.bad(ctx, v, "That is not a Tari address: "+err.Error())
		return
	}
	if !c.confirmed(ctx, v, "Remove hot wallet "+a.Base58()+": its notifications will be refused.") {
		return
	}
	if err := c.eng.DeregisterWallet(ctx.Request.Context(), a); err != nil {
		c.fail(ctx, v, err)
		return
	}
	c.log.Info("console: admin action", "action", "wallet_remove", "address", a.Base58(), "by", v.Address())
	c.done(ctx, v, "Hot wallet "+a.Base58()+" removed.")
}

// ---- Roles ----

var grantable = []core.Role{core.RoleReadAll, core.RoleWrite, core.RolePaymentWallet, core.RoleSuperAdmin}

func (c *Console) roles(ctx *gin.Context) {
	v := viewerOf(ctx)
	rc := ctx.Request.Context()
	holders, err := c.eng.RoleHolders(rc)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	data := gin.H{"Title": "Roles", "Holders": holders, "Grantable": grantable}
	if s := strings.TrimSpace(ctx.Query("address")); s != "" {
		a, err := tari.ParseAddress(s)
		if err != nil {
			c.bad(ctx, v, "That is not a Tari address: "+err.Error())
			return
		}
		rs, err := c.eng.RolesForAddress(rc, a)
		if err != nil {
			c.internal(ctx, err)
			return
		}
		data["Lookup"] = a.Base58()
		data["LookupRoles"] = rolesText(rs)
	}
	c.render(ctx, "roles", v, data)
}

func (c *Console) changeRoles(ctx *gin.Context) {
	v := viewerOf(ctx)
	a, err := tari.ParseAddress(strings.TrimSpace(ctx.PostForm("address")))
	if err != nil {
		c.bad(ctx, v, "That is not a Tari address: "+err.Error())
		return
	}
	role, ok := core.ParseRole(ctx.PostForm("role"))
	if !ok || !slices.Contains(grantable, role) {
		c.bad(ctx, v, "Pick one of the roles read_all, write, payment_wallet, super_admin.")
		return
	}
	op := ctx.PostForm("op")
	var apply, revoke []core.Role
	switch op {
	case "grant":
		apply = []core.Role{role}
	case "revoke":
		revoke = []core.Role{role}
	default:
		c.bad(ctx, v, "Choose grant or revoke.")
		return
	}
	if !c.confirmed(ctx, v, strings.ToUpper(op[:1])+op[1:]+" "+string(role)+" for "+a.Base58()+".") {
		return
	}
	if err := c.eng.AssignRoles(ctx.Request.Context(), a, apply, revoke); err != nil {
		c.fail(ctx, v, err)
		return
	}
	c.log.Info("console: admin action", "action", "roles_"+op, "role", string(role), "address", a.Base58(), "by", v.Address())
	c.done(ctx, v, "Role "+string(role)+" "+op+"ed for "+a.Base58()+". It takes effect on the address's next request.")
}

// ErrRepricing is wrapped by an Options.SetRate error that came after the
// rate was stored (the store's products could not be repriced).
var ErrRepricing = errors.New("the store's products could not be repriced")

// POST /console/roles/sessions: end every console session of an address at
// once (a lost laptop), wherever it was opened.
func (c *Console) endSessions(ctx *gin.Context) {
	v := viewerOf(ctx)
	a, err := tari.ParseAddress(strings.TrimSpace(ctx.PostForm("address")))
	if err != nil {
		c.bad(ctx, v, "That is not a Tari address: "+err.Error())
		return
	}
	if !c.confirmed(ctx, v, "Sign "+a.Base58()+" out of every console session.") {
		return
	}
	n, err := c.eng.DeleteConsoleSessionsFor(ctx.Request.Context(), a)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	c.log.Info("console: admin action", "action", "end_sessions", "address", a.Base58(), "sessions", n, "by", v.Address())
	c.done(ctx, v, fmt.Sprintf("%d console session(s) of %s ended.", n, a.Base58()))
}
