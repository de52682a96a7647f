package engine

import (
	"context"

	"github.com/tari-payment/tps/core"
)

// SetExchangeRate appends a rate (µT per whole unit) for a currency, stored
// upper-case (D9). Route: POST /api/exchange_rate.
func (e *Engine) SetExchangeRate(ctx context.Context, currency string, rate core.MicroTari) (core.ExchangeRate, error) {
	return core.ExchangeRate{}, errNotImplemented
}

// ExchangeRate returns the latest rate for a currency (case-insensitive).
// Errors: core.ErrRateNotFound. XTR has no implicit rate here (as the
// reference's GET /api/exchange_rate/{cur}).
func (e *Engine) ExchangeRate(ctx context.Context, currency string) (core.ExchangeRate, error) {
	return core.ExchangeRate{}, errNotImplemented
}

// PriceInMicroTari converts a storefront price string in currency to µT
// exactly (D8): XTR at parity, otherwise at the latest stored rate. Errors:
// core.ErrUnsupportedCurrency (no rate), core.ErrInvalidPrice.
func (e *Engine) PriceInMicroTari(ctx context.Context, currency, price string) (core.MicroTari, error) {
	return 0, errNotImplemented
}
