package api

import (
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
)

// guard says how a route is protected.
type guard int

const (
	guardNone           guard = iota // public, or auth done in the handler
	guardJWT                         // access token, then the role ACL
	guardShopify                     // D16 / HMAC / IP whitelist
	guardPublicLimit                 // public, rate limited per IP (ratelimit.go)
	guardWalletLimit                 // hot wallet (auth in the handler); failures rate limited per IP
	guardShopifyPrivacy              // compliance webhooks: HMAC always, 401 on failure
)

// route is one entry of the routing table; the authorization matrix test
// iterates the same table.
type route struct {
	method, path string
	guard        guard
	roles        []core.Role // all required (super_admin passes everything)
	handler      gin.HandlerFunc
}

func (s *Server) routes() []route {
	r := func(m, p string, g guard, h gin.HandlerFunc, roles ...core.Role) route {
		return route{method: m, path: p, guard: g, roles: roles, handler: h}
	}
	const (
		GET, POST, PATCH, DELETE = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
		user, readAll, write, sa = core.RoleUser, core.RoleReadAll, core.RoleWrite, core.RoleSuperAdmin
	)
	return append([]route{
		r(GET, "/health", guardNone, s.health),
		r(POST, "/auth", guardPublicLimit, s.authLogin),
		r(POST, "/order/claim", guardPublicLimit, s.claimOrder),
		r(GET, "/wallet/send_to", guardPublicLimit, s.walletSendTo),
		r(POST, "/wallet/incoming_payment", guardWalletLimit, s.walletIncomingPayment),
		r(POST, "/wallet/tx_confirmation", guardWalletLimit, s.walletTxConfirmation),

		r(GET, "/api/check_token", guardJWT, s.checkToken, user),
		r(GET, "/api/balance", guardJWT, s.myBalance),
		r(GET, "/api/history", guardJWT, s.myHistory),
		r(GET, "/api/orders", guardJWT, s.myOrders),
		r(GET, "/api/unfulfilled_orders", guardJWT, s.myUnfulfilledOrders),
		r(GET, "/api/payments", guardJWT, s.myPayments),
		r(POST, "/api/settle", guardJWT, s.mySettle),
		r(GET, "/api/order/id/:order_id", guardJWT, s.orderByID, user),

		r(GET, "/api/balance/:address", guardJWT, s.balanceFor, readAll),
		r(GET, "/api/history/address/:address", guardJWT, s.historyForAddress, readAll),
		r(GET, "/api/history/customer/:id", guardJWT, s.historyForCustomer, readAll),
		r(GET, "/api/orders/:address", guardJWT, s.ordersFor, readAll),
		r(GET, "/api/unfulfilled_orders/:address", guardJWT, s.unfulfilledOrdersFor, readAll),
		r(GET, "/api/payments/:address", guardJWT, s.paymentsFor, readAll),
		r(GET, "/api/payments-for-order/:order_id", guardJWT, s.paymentsForOrder, readAll),
		r(GET, "/api/search/orders", guardJWT, s.searchOrders, readAll),
		r(GET, "/api/creditors", guardJWT, s.creditors, readAll),
		r(GET, "/api/customer_ids", guardJWT, s.customerIDs, readAll),
		r(GET, "/api/addresses", guardJWT, s.addresses, readAll),
		r(GET, "/api/exchange_rate/:currency", guardJWT, s.getExchangeRate, readAll),
		r(GET, "/api/wallets", guardJWT, s.listWallets, readAll),

		r(POST, "/api/credit", guardJWT, s.issueCredit, write),
		r(POST, "/api/fulfill", guardJWT, s.fulfilOrder, write),
		r(POST, "/api/cancel", guardJWT, s.cancelOrder, write),
		r(PATCH, "/api/order_memo", guardJWT, s.updateMemo, write),
		r(PATCH, "/api/order_price", guardJWT, s.updatePrice, write),
		r(PATCH, "/api/reassign_order", guardJWT, s.reassignOrder, write),
		r(PATCH, "/api/reset_order/:order_id", guardJWT, s.resetOrder, write),
		r(POST, "/api/settle/address/:address", guardJWT, s.settleAddress, write),
		r(POST, "/api/settle/customer/:customer_id", guardJWT, s.settleCustomer, write),
		r(POST, "/api/exchange_rate", guardJWT, s.setExchangeRate, write),
		r(POST, "/api/rescan_open_orders", guardJWT, s.rescanOpenOrders, write),

		r(POST, "/api/roles", guardJWT, s.modifyRoles, sa),
		r(POST, "/api/wallets", guardJWT, s.addWallet, sa),
		r(DELETE, "/api/wallets/:address", guardJWT, s.removeWallet, sa),

		r(POST, "/shopify/webhook/checkout_create", guardShopify, s.shopifyCheckoutCreate),
		r(POST, "/shopify/webhook/product_updated", guardShopify, s.shopifyProductUpdated),
		r(POST, "/shopify/webhook/transaction_create", guardShopify, s.shopifyTransactionCreate),
		r(POST, "/shopify/webhook/no_op", guardShopify, s.shopifyNoOp),
		r(GET, "/shopify/health", guardShopify, s.health),
		r(POST, "/shopify/webhook/order_cancelled", guardShopify, s.shopifyOrderCancelled),
		r(POST, "/shopify/webhook/customers_data_request", guardShopifyPrivacy, s.shopifyCustomersDataRequest),
		r(POST, "/shopify/webhook/customers_redact", guardShopifyPrivacy, s.shopifyCustomersRedact),
		r(POST, "/shopify/webhook/shop_redact", guardShopifyPrivacy, s.shopifyShopRedact),
		r(GET, "/api/customer_data/:customer_id", guardJWT, s.customerData, readAll),

		// Plugin administration (this project's addition). Each route needs
		// write (super_admin passes too).
		r(GET, "/api/plugins", guardJWT, s.listPlugins, write),
		r(GET, "/api/plugins/deliveries/failed", guardJWT, s.failedDeliveries, write),
		r(POST, "/api/plugins/deliveries/:id/redeliver", guardJWT, s.redeliver, write),
		r(POST, "/api/plugins/deliveries/redeliver", guardJWT, s.redeliverAll, write),
		r(POST, "/api/plugins/:id/enable", guardJWT, s.enablePlugin, write),
		r(POST, "/api/plugins/reload", guardJWT, s.reloadPlugins, write),
		r(DELETE, "/api/plugins/:id", guardJWT, s.removePlugin, write),

		// Listings for the admin tools (this project's addition).
		r(GET, "/api/exchange_rates", guardJWT, s.listExchangeRates, readAll),
		r(GET, "/api/roles/:address", guardJWT, s.rolesFor, sa),
	}, s.pluginPageRoutes()...) // plugin pages (plugin_routes.go)
}

func (s *Server) buildRouter(accessLogW io.Writer) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	g.RedirectTrailingSlash = false // the reference does not normalise paths
	g.RedirectFixedPath = false
	g.HandleMethodNotAllowed = false // a wrong method is 404, as the reference
	g.UseRawPath = true              // so %2F and %23 inside ids stay inside one segment
	g.UnescapePathValues = true
	g.Use(tagRequest, accessLog(accessLogW), s.observe, s.recovery, limitBody, rejectNUL)
	// Operational endpoints, outside the reference's route table.
	g.GET("/livez", livez)
	if s.cfg.MetricsEnabled {
		mh := s.metrics.Handler()
		g.GET("/metrics", func(c *gin.Context) { mh.ServeHTTP(c.Writer, c.Request) })
	}

	for _, rt := range s.routes() {
		chain := []gin.HandlerFunc{}
		switch rt.guard {
		case guardJWT:
			chain = append(chain, s.requireJWT, requireRoles(rt.roles))
		case guardShopify:
			chain = append(chain, s.shopifyGuard)
		case guardShopifyPrivacy:
			chain = append(chain, s.shopifyPrivacyGuard)
		case guardPublicLimit:
			chain = append(chain, s.limitPublic)
		case guardWalletLimit:
			chain = append(chain, s.limitWalletFailures)
		}
		chain = append(chain, rt.handler)
		g.Handle(rt.method, rt.path, chain...)
	}
	s.payRoutes(g)    // only with TPG_PAY_LINK_SECRET (paypage.go)
	s.mountConsole(g) // the web console, /console (api/console)
	g.NoRoute(s.noRoute)
	return g
}

// noRoute: under /api an access token is checked first (401 without one), as
// the reference's scope-wide JWT middleware does; then 404 with an empty body.
func (s *Server) noRoute(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") || c.Request.URL.Path == "/api" {
		if _, e := s.accessClaims(c); e != nil {
			abortJSON(c, e.Status, e.Msg)
			return
		}
	}
	c.AbortWithStatus(http.StatusNotFound)
}
