package engine

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/tari-payment/tps/core"
)

// SetExchangeRate appends a rate (µT per whole unit) for a currency, stored
// upper-case (D9). Route: POST /api/exchange_rate.
func (e *Engine) SetExchangeRate(ctx context.Context, currency string, rate core.MicroTari) (core.ExchangeRate, error) {
	if !core.ValidAmount(rate) { // D27: a rate of 0 would make orders free
		return core.ExchangeRate{}, core.ErrInvalidPrice
	}
	r := core.ExchangeRate{Currency: strings.ToUpper(strings.TrimSpace(currency)), Rate: rate}
	_, err := e.write(ctx, func(t *txn) error {
		r.UpdatedAt = t.now
		return t.InsertRate(r)
	})
	return r, err
}

// ExchangeRate returns the latest rate for a currency (case-insensitive).
// Errors: core.ErrRateNotFound. XTR has no implicit rate here (as the
// reference's GET /api/exchange_rate/{cur}).
func (e *Engine) ExchangeRate(ctx context.Context, currency string) (core.ExchangeRate, error) {
	cur := strings.ToUpper(strings.TrimSpace(currency))
	r, err := e.reads.LatestRate(ctx, cur)
	if errors.Is(err, sql.ErrNoRows) {
		return core.ExchangeRate{}, core.ErrRateNotFound.With(cur)
	}
	if err != nil {
		return core.ExchangeRate{}, err
	}
	return r, nil
}

// PriceInMicroTari converts a storefront price string in currency to µT
// exactly (D8): XTR at parity, otherwise at the latest stored rate. Errors:
// core.ErrUnsupportedCurrency (no rate), core.ErrInvalidPrice.
func (e *Engine) PriceInMicroTari(ctx context.Context, currency, price string) (core.MicroTari, error) {
	rate := core.MicroTari(1_000_000)
	if cur := strings.ToUpper(strings.TrimSpace(currency)); cur != "XTR" {
		r, err := e.ExchangeRate(ctx, cur)
		if errors.Is(err, core.ErrRateNotFound) {
			return 0, core.ErrUnsupportedCurrency.With(cur)
		}
		if err != nil {
			return 0, err
		}
		rate = r.Rate
	}
	v, err := core.FiatToMicroTari(price, rate)
	if err != nil {
		return 0, core.ErrInvalidPrice.With(err.Error())
	}
	return v, nil
}
