package engine

import (
	"database/sql"
	"errors"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store/enginestore"
)

func balanceDest(b *accountBalance) []any {
	return []any{&b.Account, &b.Address, &b.TotalConfirmed, &b.TotalPaid, &b.Pending, enginestore.Time{T: &b.LastUpdate}}
}

// orders runs a query returning orderCols rows.
func (t *txn) orders(query string, args ...any) ([]core.Order, error) {
	rows, err := t.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []core.Order{}
	for rows.Next() {
		var o core.Order
		if err := rows.Scan(enginestore.OrderDest(&o)...); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// order runs a query returning at most one orderCols row; nil when none.
func (t *txn) order(query string, args ...any) (*core.Order, error) {
	var o core.Order
	if err := t.QueryRow(query, args, enginestore.OrderDest(&o)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, err
	}
	return &o, nil
}
