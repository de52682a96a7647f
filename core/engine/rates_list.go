package engine

import (
	"context"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store/enginestore"
)

// AllExchangeRates returns the latest rate of every currency that has one,
// sorted by currency. Route: GET /api/exchange_rates.
func (e *Engine) AllExchangeRates(ctx context.Context) ([]core.ExchangeRate, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT r.base_currency, r.rate, r.updated_at FROM exchange_rates r
WHERE r.id = (SELECT MAX(l.id) FROM exchange_rates l WHERE l.base_currency = r.base_currency)
ORDER BY r.base_currency`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []core.ExchangeRate{}
	for rows.Next() {
		var r core.ExchangeRate
		var at time.Time
		if err := rows.Scan(&r.Currency, &r.Rate, enginestore.Time{T: &at}); err != nil {
			return nil, err
		}
		r.UpdatedAt = at
		out = append(out, r)
	}
	return out, rows.Err()
}
