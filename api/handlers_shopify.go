package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/api/shopify"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/config"
	"github.com/tari-payment/tps/core/engine"
)

// shopifyCallTimeout bounds the outgoing Admin API work of one request.
const shopifyCallTimeout = 60 * time.Second

// processOrder runs one storefront order through the engine and answers the
// reference's JsonResponse.
func (s *Server) processOrder(ctx context.Context, p parsedOrder) jsonResponse {
	price, err := s.eng.PriceInMicroTari(ctx, p.Currency, p.Price)
	if err != nil {
		if errors.Is(err, core.ErrUnsupportedCurrency) {
			// Acknowledged as the reference does (Shopify would not retry a
			// 200 anyway), so say so loudly: the order exists only in Shopify
			// until a rate is set and the open orders are rescanned
			// (taritools admin rescan).
			s.log.Warn("shopify order not stored: no exchange rate for its currency; set the rate, then run `taritools admin rescan`",
				"order_id", p.OrderID, "currency", p.Currency)
			s.metrics.OrderWithoutRate(strings.ToUpper(strings.TrimSpace(p.Currency)))
		}
		if text, ok := engineText(err); ok {
			return jsonResponse{false, text}
		}
		s.log.Error("pricing shopify order", "order_id", p.OrderID, "err", err)
		return jsonResponse{false, "Unexpected error handling order."}
	}
	orig := p.Price
	o, err := s.eng.NewOrder(ctx, engine.NewOrder{
		OrderID: p.OrderID, AltID: p.AltID, CustomerID: p.CustomerID, Memo: p.Memo,
		TotalPrice: price, OriginalPrice: &orig, Currency: p.Currency,
		CreatedAt: p.CreatedAt, AmountOutstanding: p.AmountOutstanding,
	})
	switch {
	case errors.Is(err, core.ErrOrderAlreadyExists):
		return jsonResponse{true, msgOrderExists}
	case errors.Is(err, core.ErrInvalidAmount):
		// D27: a zero, negative or absurd total is refused and stores nothing.
		s.log.Warn("shopify order refused: its total is not a valid amount", "order_id", p.OrderID, "total_price", int64(price))
		text, _ := engineText(err)
		return jsonResponse{false, "Invalid order total: " + text}
	case err != nil:
		s.log.Error("storing shopify order", "order_id", p.OrderID, "err", err)
		return jsonResponse{false, "Unexpected error handling order."}
	}
	s.log.Info("shopify order processed", "order_id", o.OrderID, "status", o.Status, "total_price", o.TotalPrice.String())
	return jsonResponse{true, "Order processed successfully."}
}

// POST /shopify/webhook/checkout_create
func (s *Server) shopifyCheckoutCreate(c *gin.Context) {
	p, err := parseShopifyOrder(rawBody(c), s.cfg.ShopifyPriceField)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			abortJSON(c, e.Status, e.Msg)
			return
		}
		engineFailed(c) // acknowledged (as the reference), but no order was made
		writeJSON(c, http.StatusOK, jsonResponse{false, err.Error()})
		return
	}
	if s.duplicateDelivery(c, topicCheckoutCreate, p.OrderID) {
		writeJSON(c, http.StatusOK, jsonResponse{true, msgOrderExists})
		return
	}
	res := s.processOrder(c.Request.Context(), p)
	if !res.Success {
		engineFailed(c)
	} else {
		s.markDelivered(c, topicCheckoutCreate, p.OrderID)
	}
	writeJSON(c, http.StatusOK, res)
}

// POST /shopify/webhook/no_op: any JSON value, logged at debug level.
func (s *Server) shopifyNoOp(c *gin.Context) {
	if !json.Valid(rawBody(c)) {
		e := errInvalidBody("Json deserialize error: expected a JSON value")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	s.log.Debug("shopify no_op webhook", "bytes", len(rawBody(c)))
	c.Status(http.StatusOK)
}

// POST /shopify/webhook/transaction_create: card authorisations are kept so
// the shopify plugin can capture them when the order is paid.
func (s *Server) shopifyTransactionCreate(c *gin.Context) {
	var t struct {
		ID       flexID     `json:"id"`
		OrderID  flexID     `json:"order_id"`
		Amount   flexString `json:"amount"`
		Currency flexString `json:"currency"`
		Kind     flexString `json:"kind"`
		Status   flexString `json:"status"`
		Test     *bool      `json:"test"`
	}
	if e := decodeJSON(rawBody(c), &t); e != nil {
		abortJSON(c, e.Status, e.Msg)
		return
	}
	id, err1 := strconv.ParseInt(string(t.ID), 10, 64)
	orderID, err2 := strconv.ParseInt(string(t.OrderID), 10, 64)
	if err1 != nil || err2 != nil {
		e := errInvalidBody("Json deserialize error: `id` and `order_id` must be integers")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	if t.Kind.Value != "authorization" || t.Status.Value != "success" {
		c.Status(http.StatusOK)
		return
	}
	if s.duplicateDelivery(c, topicTransactionCreate, string(t.ID)) {
		c.Status(http.StatusOK)
		return
	}
	tx := core.ShopifyTransaction{ID: id, OrderID: orderID, Amount: t.Amount.Value, Currency: t.Currency.Value, Test: t.Test != nil && *t.Test}
	if err := s.eng.RecordShopifyTransaction(c.Request.Context(), tx); err != nil {
		s.log.Error("recording shopify transaction", "id", id, "err", err)
		engineFailed(c)
		writeJSON(c, http.StatusServiceUnavailable, jsonResponse{false, "Could not record the transaction. Please retry."})
		return
	}
	s.markDelivered(c, topicTransactionCreate, string(t.ID))
	c.Status(http.StatusOK)
}

// shopifyConfigured is false while there is neither an app client id and
// secret nor a real Admin token: Admin API calls would only fail.
func (s *Server) shopifyConfigured() bool { return s.cfg.ShopifyAdminConfigured() }

// shopCurrency is cached: it changes only when the merchant changes the store.
type currencyCache struct {
	mu   sync.Mutex
	code string
}

func (s *Server) shopCurrency(ctx context.Context) (string, error) {
	s.curCache.mu.Lock()
	defer s.curCache.mu.Unlock()
	if s.curCache.code != "" {
		return s.curCache.code, nil
	}
	code, err := s.shop.ShopCurrency(ctx)
	if err != nil {
		return "", err
	}
	s.curCache.code = code
	return code, nil
}

// maxProductVariants is Shopify's own limit of variants per product (a
// variable so tests can lower it).
var maxProductVariants = 2048

// POST /shopify/webhook/product_updated: reprice the product's variants
// at the rate of the shop's currency (the reference hard-coded USD).
func (s *Server) shopifyProductUpdated(c *gin.Context) {
	var p struct {
		ID       flexID `json:"id"`
		Variants []struct {
			ID flexID `json:"id"`
		} `json:"variants"`
	}
	if e := decodeJSON(rawBody(c), &p); e != nil {
		abortJSON(c, e.Status, e.Msg)
		return
	}
	if !s.shopifyConfigured() || s.duplicateDelivery(c, topicProductUpdated, string(p.ID)) {
		c.Status(http.StatusOK)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), shopifyCallTimeout)
	defer cancel()
	cur, err := s.shopCurrency(ctx)
	if err != nil {
		s.log.Warn("product webhook: shop currency unavailable", "err", err)
		c.Status(http.StatusOK)
		return
	}
	rate, err := s.eng.ExchangeRate(ctx, cur)
	if err != nil {
		s.log.Info("product webhook: no exchange rate for the shop currency; not repricing", "currency", cur)
		c.Status(http.StatusOK)
		return
	}
	var variants []shopify.Variant
	seen := map[int64]bool{}
	for _, v := range p.Variants {
		n, err := strconv.ParseInt(string(v.ID), 10, 64)
		if err != nil || seen[n] {
			continue
		}
		// One Admin API call per variant: bound the work one body can ask for.
		if len(seen) == maxProductVariants {
			s.log.Warn("product webhook: too many variants; repricing the first ones", "max", maxProductVariants)
			break
		}
		seen[n] = true
		got, err := s.shop.ProductVariant(ctx, n)
		if err != nil {
			s.log.Warn("product webhook: fetching variant", "variant", n, "err", err)
			continue
		}
		variants = append(variants, got)
	}
	if n, err := s.shop.RepriceVariants(ctx, variants, int64(rate.Rate)); err != nil {
		s.log.Warn("product webhook: repricing", "updated", n, "err", err)
	} else {
		s.markDelivered(c, topicProductUpdated, string(p.ID))
	}
	c.Status(http.StatusOK)
}

// POST /api/exchange_rate (write): store the rate, then, if it is the shop's
// currency, rewrite every variant's Tari price. The rate is saved even if
// Shopify fails (502 then).
func (s *Server) setExchangeRate(c *gin.Context) {
	var req struct {
		Currency *string `json:"currency" required:"true"`
		Rate     *int64  `json:"rate" required:"true"`
	}
	if !s.bind(c, &req) {
		return
	}
	cur := strings.TrimSpace(*req.Currency)
	if cur == "" || len(cur) > 10 || !core.ValidAmount(core.MicroTari(*req.Rate)) {
		e := errInvalidBody("Json deserialize error: currency must be a code and rate a positive integer of µT at most the total supply")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	_, _, err := s.SetExchangeRateAndReprice(c.Request.Context(), cur, core.MicroTari(*req.Rate))
	var re *RepricingError
	if errors.As(err, &re) {
		s.log.Error("repricing product variants", "err", re.Err)
		abortJSON(c, http.StatusBadGateway, "An error occurred on the backend of the server. "+re.Err.Error())
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusOK)
}

// POST /api/rescan_open_orders (write): fetch Shopify's open orders and run
// each through the checkout_create path.
func (s *Server) rescanOpenOrders(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), shopifyCallTimeout)
	defer cancel()
	orders, err := s.shop.OpenOrders(ctx)
	if err != nil {
		e := errCannotComplete(err.Error())
		abortJSON(c, e.Status, e.Msg)
		return
	}
	out := make([]jsonResponse, 0, len(orders))
	for _, o := range orders {
		p, err := openOrderToParsed(o, s.cfg.ShopifyPriceField)
		if err != nil {
			out = append(out, jsonResponse{false, err.Error()})
			continue
		}
		out = append(out, s.processOrder(c.Request.Context(), p))
	}
	writeJSON(c, http.StatusOK, out)
}

// openOrderToParsed converts a GraphQL open order. The query has no
// line-items total, so that price field falls back to the subtotal; the
// outstanding amount is fetched rather than assumed "0.00" (reference bug 17),
// and a guest order gets a guest customer id (D22) rather than 0.
func openOrderToParsed(o shopify.OpenOrder, priceField string) (parsedOrder, error) {
	so := shopifyOrder{
		ID:            flexID(shopify.GIDNumber(o.ID)),
		Name:          flexString{o.Name, o.Name != ""},
		Currency:      flexString{o.CurrencyCode, o.CurrencyCode != ""},
		CreatedAt:     flexString{o.CreatedAt, o.CreatedAt != ""},
		TotalPrice:    flexString{o.TotalPrice, o.TotalPrice != ""},
		SubtotalPrice: flexString{o.SubtotalPrice, o.SubtotalPrice != ""},
	}
	so.TotalLineItemsPrice = so.SubtotalPrice
	if o.Note != nil {
		so.Note = flexString{*o.Note, true}
	}
	if o.TotalOutstandingSet != nil {
		so.TotalOutstanding = flexString{o.TotalOutstandingSet.ShopMoney.Amount, true}
	}
	if o.Customer != nil && o.Customer.ID != "" {
		so.Customer = &struct {
			ID flexID `json:"id"`
		}{flexID(shopify.GIDNumber(o.Customer.ID))}
	}
	if priceField == "" {
		priceField = config.PriceFieldTotal
	}
	return so.toParsed(priceField)
}
