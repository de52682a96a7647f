package api

import (
	"time"

	"github.com/gin-gonic/gin"
)

// engineFailedKey marks a request whose engine operation returned an error
// (set by fail and by the handlers that answer an engine error as a 200
// {"success":false}).
const engineFailedKey = "tps.engine_failed"

// engineOps names the engine operation behind each route that reaches the
// engine, for tps_engine_operations_total. Routes not listed (health, token
// check, no_op, plugin admin) do not call the engine.
var engineOps = map[string]string{
	"POST /auth":                               "login",
	"POST /order/claim":                        "claim_order",
	"GET /wallet/send_to":                      "wallets",
	"POST /wallet/incoming_payment":            "receive_payment",
	"POST /wallet/tx_confirmation":             "confirm_payment",
	"GET /api/balance":                         "balance",
	"GET /api/history":                         "history",
	"GET /api/orders":                          "orders",
	"GET /api/unfulfilled_orders":              "orders",
	"GET /api/payments":                        "payments",
	"POST /api/settle":                         "settle",
	"GET /api/order/id/:order_id":              "order_by_id",
	"GET /api/balance/:address":                "balance",
	"GET /api/history/address/:address":        "history",
	"GET /api/history/customer/:id":            "customer_history",
	"GET /api/orders/:address":                 "orders",
	"GET /api/unfulfilled_orders/:address":     "orders",
	"GET /api/payments/:address":               "payments",
	"GET /api/payments-for-order/:order_id":    "payments_for_order",
	"GET /api/search/orders":                   "search_orders",
	"GET /api/creditors":                       "creditors",
	"GET /api/customer_ids":                    "customer_ids",
	"GET /api/addresses":                       "addresses",
	"GET /api/exchange_rate/:currency":         "exchange_rate",
	"GET /api/wallets":                         "wallets",
	"POST /api/credit":                         "issue_credit",
	"POST /api/fulfill":                        "fulfil_order",
	"POST /api/cancel":                         "cancel_order",
	"PATCH /api/order_memo":                    "update_memo",
	"PATCH /api/order_price":                   "update_price",
	"PATCH /api/reassign_order":                "reassign_order",
	"PATCH /api/reset_order/:order_id":         "reset_order",
	"POST /api/settle/address/:address":        "settle",
	"POST /api/settle/customer/:customer_id":   "settle",
	"POST /api/exchange_rate":                  "set_exchange_rate",
	"POST /api/rescan_open_orders":             "rescan_open_orders",
	"POST /api/roles":                          "assign_roles",
	"POST /api/wallets":                        "register_wallet",
	"DELETE /api/wallets/:address":             "deregister_wallet",
	"POST /shopify/webhook/checkout_create":    "new_order",
	"POST /shopify/webhook/product_updated":    "reprice_variants",
	"POST /shopify/webhook/transaction_create": "record_shopify_transaction",
}

// engineFailed marks the request's engine operation as failed.
func engineFailed(c *gin.Context) { c.Set(engineFailedKey, true) }

// observe records every request by route template (never the raw path: ids
// would make the label set unbounded) and status, and the engine operation
// behind it: "error" when the handler marked an engine failure, "ok" when the
// answer is a success; a request refused before the engine (bad input, no
// token) is not an engine operation.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	if route == "/metrics" {
		return // a scrape would count itself
	}
	st := c.Writer.Status()
	s.metrics.ObserveRequest(route, c.Request.Method, st, time.Since(start))
	if op, found := engineOps[c.Request.Method+" "+route]; found {
		_, failed := c.Get(engineFailedKey)
		switch {
		case failed:
			s.metrics.EngineOp(op, true)
		case st < 400:
			s.metrics.EngineOp(op, false)
		}
	}
}
