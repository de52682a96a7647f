package api

import (
	"context"
	"strings"

	"github.com/tari-payment/tps/api/console"
	"github.com/tari-payment/tps/core"
)

// RepricingError is returned by SetExchangeRateAndReprice when the rate was
// stored but the store's products could not be repriced (Err says why).
type RepricingError struct {
	Repriced int // variants updated before the failure
	Err      error
}

func (e *RepricingError) Error() string { return e.Err.Error() }

// Unwrap makes errors.Is(err, console.ErrRepricing) true, and reaches Err.
func (e *RepricingError) Unwrap() []error { return []error{console.ErrRepricing, e.Err} }

// SetExchangeRateAndReprice stores an exchange rate and, when Shopify is
// configured and currency is the shop's, reprices every product variant at
// it: what POST /api/exchange_rate does, shared by that route, the console
// and plugin actions (rates:write). repriced counts the variants updated; it
// is -1 when there was nothing to reprice (no Shopify, or another currency).
func (s *Server) SetExchangeRateAndReprice(ctx context.Context, currency string, rate core.MicroTari) (r core.ExchangeRate, repriced int, err error) {
	r, err = s.eng.SetExchangeRate(ctx, currency, rate)
	if err != nil || !s.shopifyConfigured() {
		return r, -1, err
	}
	sctx, cancel := context.WithTimeout(ctx, shopifyCallTimeout)
	defer cancel()
	shopCur, err := s.shopCurrency(sctx)
	if err != nil {
		return r, 0, &RepricingError{Err: err}
	}
	if !strings.EqualFold(shopCur, r.Currency) {
		return r, -1, nil
	}
	vs, err := s.shop.AllProductVariants(sctx)
	if err != nil {
		return r, 0, &RepricingError{Err: err}
	}
	n, err := s.shop.RepriceVariants(sctx, vs, int64(r.Rate))
	s.log.Info("repriced product variants", "currency", r.Currency, "updated", n)
	if err != nil {
		return r, n, &RepricingError{Repriced: n, Err: err}
	}
	return r, n, nil
}
