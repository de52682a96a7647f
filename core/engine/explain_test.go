package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/enginestore"
	"github.com/tari-payment/tps/core/store/storetest"
)

// The store's column lists and hot queries, as the engine's operations run
// them (the EXPLAIN test checks exactly what runs).
const (
	openStatus         = enginestore.OpenStatus
	qOrderByOrderID    = enginestore.QOrderByOrderID
	qOrderByIDOrAlt    = enginestore.QOrderByIDOrAlt
	qBalance           = enginestore.QBalance
	qPaymentsByAccount = enginestore.QPaymentsByAccount
	qCustomerOrders    = enginestore.QCustomerOrders
	qPool              = enginestore.QPool
	qExpire            = enginestore.QExpire
	orderCols          = enginestore.OrderCols
	paymentCols        = enginestore.PaymentCols
	settlementCols     = enginestore.SettlementCols
	balanceCols        = enginestore.BalanceCols
)

var qPayable = enginestore.QPayable

// The hot queries use indexes on both databases: EXPLAIN QUERY PLAN on
// SQLite must show no full scan of a table, EXPLAIN on PostgreSQL (with
// sequential scans discouraged, since the test tables are tiny) no Seq Scan.
func TestHotQueriesUseIndexes(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	queries := []struct {
		name  string
		query string
		args  []any
	}{
		{"order by id", qOrderByOrderID, []any{"1000"}},
		{"order by id or alt id", qOrderByIDOrAlt, []any{"#1", "#1", "#1"}},
		{"balance", qBalance, []any{"mainnet:ab"}},
		{"payments by sender", qPaymentsByAccount, []any{"mainnet:ab"}},
		{"payments naming an order", "SELECT " + paymentCols + " FROM payments WHERE order_id = ?", []any{"1000"}},
		{"payable orders of an account's customers", qPayable, []any{"mainnet:ab"}},
		{"pooled balances of a customer", qPool + ") ORDER BY total_confirmed - total_paid DESC", []any{"alice", "1000"}},
		{"open orders of a customer", "SELECT " + orderCols + " FROM orders WHERE customer_id = ? AND " + openStatus + " ORDER BY created_at, id", []any{"alice"}},
		{"orders of a customer", qCustomerOrders, []any{"alice"}},
		{"creditors", "SELECT customer_id, SUM(total_price) AS total FROM orders WHERE status = 'New' AND " + openStatus + " GROUP BY customer_id", nil},
		{"expiry", qExpire, []any{"Expired", now, now, "New", now}},
		{"settlements of an account", "SELECT " + settlementCols + " FROM settlement_journal WHERE account = ?", []any{"mainnet:ab"}},
		{"settlements of an order", "SELECT " + settlementCols + " FROM settlement_journal WHERE order_id = ?", []any{"1000"}},
		{"outbox after a position", "SELECT seq, id, type, payload, created_at FROM events WHERE seq > ? ORDER BY seq ASC LIMIT 100", []any{5}},
		{"latest exchange rate", "SELECT rate, updated_at FROM exchange_rates WHERE base_currency = ? ORDER BY id DESC LIMIT 1", []any{"USD"}},
	}
	// How SQLite's plan must start where it matters which table drives a
	// join (without statistics it may pick the wrong one).
	sqliteFirst := map[string]string{"payable orders of an account's customers": "SEARCH l "}
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, q := range queries {
			var plan []string
			err := db.WriteTx(ctx, func(stx *store.Tx) error {
				ctx, tx := stx.Context(), stx.IDB()
				if db.Kind == store.Postgres {
					var err error
					plan, err = postgresPlan(stx, "enable_seqscan", q.query, q.args...)
					return err
				}
				rows, err := tx.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.query, q.args...)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var id, parent, unused int
					var detail string
					if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
						return err
					}
					plan = append(plan, detail)
				}
				return rows.Err()
			}, store.NoEvents)
			if err != nil {
				t.Fatalf("%s: %v", q.name, err)
			}
			text := strings.Join(plan, "\n")
			bad := false
			for _, line := range plan {
				if db.Kind == store.Postgres {
					bad = bad || strings.Contains(line, "Seq Scan")
				} else {
					// "SCAN t" is a full table scan; "SCAN t USING [COVERING] INDEX" walks an index.
					bad = bad || strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, " USING ")
				}
			}
			if bad || !strings.Contains(strings.ToLower(text), "index") && !strings.Contains(text, "PRIMARY KEY") {
				t.Errorf("%s: plan does not use an index:\n%s", q.name, text)
			}
			if db.Kind == store.SQLite && sqliteFirst[q.name] != "" && (len(plan) == 0 || !strings.HasPrefix(plan[0], sqliteFirst[q.name])) {
				t.Errorf("%s: plan should start with %q:\n%s", q.name, sqliteFirst[q.name], text)
			}
		}
	})
}

// TestPayableProbesOrdersPerCustomer: on PostgreSQL the payable orders of an
// account are found by probing the open-orders index once per linked
// customer, whatever the planner believes about the tables' sizes: with
// nested loops priced out (as stale statistics can make them), the plan
// still looks orders up by l.customer_id rather than walking every open
// order. (The join form of the query becomes a hash join here.)
func TestPayableProbesOrdersPerCustomer(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	var plan []string
	err := db.WriteTx(ctx, func(stx *store.Tx) (err error) {
		plan, err = postgresPlan(stx, "enable_nestloop", enginestore.QPayablePostgres, "mainnet:ab")
		return err
	}, store.NoEvents)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "customer_id = l.customer_id") || strings.Contains(text, "Hash Join") || strings.Contains(text, "Merge Join") {
		t.Fatalf("payable orders are not probed per linked customer:\n%s", text)
	}
}

// postgresPlan is PostgreSQL's EXPLAIN of query, line by line, with the
// planner setting off turned off for the transaction (SET LOCAL).
func postgresPlan(stx *store.Tx, off, query string, args ...any) ([]string, error) {
	ctx, tx := stx.Context(), stx.IDB()
	if _, err := tx.ExecContext(ctx, "SET LOCAL "+off+" = off"); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		plan = append(plan, line)
	}
	return plan, rows.Err()
}
