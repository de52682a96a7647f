package engine

import (
	"context"

	"github.com/tari-payment/tps/core"
)

// AllExchangeRates returns the latest rate of every currency that has one,
// sorted by currency. Route: GET /api/exchange_rates.
func (e *Engine) AllExchangeRates(ctx context.Context) ([]core.ExchangeRate, error) {
	return e.reads.AllLatestRates(ctx)
}
