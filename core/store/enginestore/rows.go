package enginestore

import (
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/tari-payment/tps/core"
)

// OpenStatus selects the open orders. It is the WHERE clause of the partial
// index orders_open_idx, word for word: SQLite uses a partial index only for
// queries whose WHERE contains the index's own terms, so every query on open
// orders spells it this way (with "o." before it in a join).
const OpenStatus = "status IN ('Unclaimed', 'New')"

// QPayable lists the open orders of the customers linked to an account, in
// no order, each with the account's balance row (NULLs when it has none):
// the confirmation that pays them needs it next. A join, not "customer_id IN
// (subquery) ORDER BY": SQLite built a temporary index and a sorter for
// that, a third of the query. CROSS JOIN makes SQLite start from the
// account's links; without statistics it preferred to walk every open
// order.
var QPayable = "SELECT " + Prefixed("o.", OrderCols) + ", " + Prefixed("b.", BalanceCols) +
	" FROM address_links l CROSS JOIN orders o LEFT JOIN account_balances b ON b.account = l.account" +
	" WHERE l.account = ? AND o.customer_id = l.customer_id AND o." + OpenStatus

// QPayablePostgres is QPayable as PostgreSQL runs it (prepared), locking the
// orders. Each linked customer's open orders are looked up, and locked, in a
// LATERAL subquery that OFFSET 0 keeps the planner from flattening into a
// join: as a join, with statistics that lag behind a busy orders table, it
// was planned as a hash join over every open order, walking every index
// entry left by orders closed since the last vacuum (0.45 ms per payment
// confirmation and growing with traffic, where probing the index per
// customer takes 0.1 ms). TestPayableProbesOrdersPerCustomer holds it there.
var QPayablePostgres = pgStatement("payable", "SELECT "+Prefixed("o.", OrderCols)+", "+Prefixed("b.", BalanceCols)+
	" FROM address_links l CROSS JOIN LATERAL (SELECT "+OrderCols+" FROM orders WHERE customer_id = l.customer_id AND "+OpenStatus+
	" OFFSET 0 FOR UPDATE) o LEFT JOIN account_balances b ON b.account = l.account WHERE l.account = ?")

// The hot queries, named so the EXPLAIN tests check exactly what runs.
const (
	QOrderByOrderID    = "SELECT " + OrderCols + " FROM orders WHERE order_id = ?"
	QOrderByIDOrAlt    = "SELECT " + OrderCols + " FROM orders WHERE order_id = ? OR alt_id = ? ORDER BY CASE WHEN order_id = ? THEN 0 ELSE 1 END LIMIT 1"
	QBalance           = "SELECT " + BalanceCols + " FROM account_balances WHERE account = ?"
	QPaymentsByAccount = "SELECT " + PaymentCols + " FROM payments WHERE sender_account = ? ORDER BY created_at, txid"
	QCustomerOrders    = "SELECT " + OrderCols + " FROM orders WHERE customer_id = ? ORDER BY created_at, id"
	// QPool is completed with ")" (or " OR order_id = ?)") and an ORDER BY.
	QPool   = "SELECT " + BalanceCols + " FROM account_balances WHERE account IN (SELECT account FROM address_links WHERE customer_id = ? UNION SELECT sender_account FROM payments WHERE order_id = ?"
	QExpire = "UPDATE orders SET status = ?, updated_at = ?, status_changed_at = ? WHERE status = ? AND " + OpenStatus + " AND status_changed_at < ? RETURNING " + OrderCols
)

// SettlementCols are the settlement_journal columns of store.Settlement.
const SettlementCols = "id, created_at, order_id, payment_address, settlement_type, amount, account"

// The PostgreSQL forms (locking) of the hot queries above, prepared.
var (
	_ = pgStatement("order_by_order_id", QOrderByOrderID+" FOR UPDATE")
	_ = pgStatement("order_by_id_or_alt", QOrderByIDOrAlt+" FOR UPDATE")
	_ = pgStatement("balance", QBalance+" FOR UPDATE")
	_ = pgStatement("insert_settlement", qInsertSettlement+" RETURNING id")
)

// Prefixed qualifies each of a comma-separated column list with p ("o.").
func Prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

// Orders runs a query returning OrderCols rows.
func (t *Tx) Orders(query string, args ...any) ([]core.Order, error) {
	rows, err := t.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []core.Order{}
	for rows.Next() {
		var o core.Order
		if err := rows.Scan(OrderDest(&o)...); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Order runs a query returning at most one OrderCols row; nil when none.
func (t *Tx) Order(query string, args ...any) (*core.Order, error) {
	var o core.Order
	if err := t.QueryRow(query, args, OrderDest(&o)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, err
	}
	return &o, nil
}

// OrderByOrderID reads (and on PostgreSQL locks) the order with an order_id;
// nil when there is none.
func (t *Tx) OrderByOrderID(orderID string) (*core.Order, error) {
	return t.Order(QOrderByOrderID+t.ForUpdate(), orderID)
}

// OrderByIDOrAlt reads (and locks) the order whose order_id or alt_id is id,
// an order_id match winning; nil when there is none.
func (t *Tx) OrderByIDOrAlt(id string) (*core.Order, error) {
	return t.Order(QOrderByIDOrAlt+t.ForUpdate(), id, id, id)
}

var qSetOrderStatus = pgStatement("set_order_status", "UPDATE orders SET status = ?, updated_at = ?, status_changed_at = ? WHERE id = ?")

// SetOrderStatus writes an order's status and restarts its expiry clock.
func (t *Tx) SetOrderStatus(id int64, s core.OrderStatus, now time.Time) error {
	return t.Exec(qSetOrderStatus, s, now, now, id)
}

var qOrderClaimant = pgStatement("order_claimant", "SELECT claimed_by FROM orders WHERE id = ?")

// OrderClaimant is the account that claimed an order, nil when none did.
func (t *Tx) OrderClaimant(id int64) (*string, error) {
	var by *string
	err := t.QueryRow(qOrderClaimant, []any{id}, &by)
	return by, err
}

var qClaimOrder = pgStatement("claim_order", "UPDATE orders SET status = ?, claimed_by = ?, updated_at = ?, status_changed_at = ? WHERE id = ?")

// ClaimOrder makes an order New, claimed by account.
func (t *Tx) ClaimOrder(id int64, account string, now time.Time) error {
	return t.Exec(qClaimOrder, core.OrderNew, account, now, now, id)
}

var qLink = pgStatement("link", "INSERT INTO address_links (account, address, customer_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (account, customer_id) DO NOTHING")

// Link associates an account with a customer (idempotent).
func (t *Tx) Link(account, address, customerID string, now time.Time) error {
	return t.Exec(qLink,
		account, address, customerID, now)
}

// Balance is one row of account_balances.
type Balance struct {
	Account        string         `bun:"account"`
	Address        string         `bun:"address"`
	TotalConfirmed core.MicroTari `bun:"total_confirmed"`
	TotalPaid      core.MicroTari `bun:"total_paid"`
	Pending        core.MicroTari `bun:"pending"`
	LastUpdate     time.Time      `bun:"last_update"`
}

// BalanceCols are the account_balances columns, in BalanceDest's order.
const BalanceCols = "account, address, total_confirmed, total_paid, pending, last_update"

// BalanceDest is where a BalanceCols row scans into.
func BalanceDest(b *Balance) []any {
	return []any{&b.Account, &b.Address, &b.TotalConfirmed, &b.TotalPaid, &b.Pending, Time{&b.LastUpdate}}
}

// Balance reads (and locks) an account's row; ok is false when it has none.
func (t *Tx) Balance(account string) (b Balance, ok bool, err error) {
	err = t.QueryRow(QBalance+t.ForUpdate(), []any{account}, BalanceDest(&b)...)
	if errors.Is(err, sql.ErrNoRows) {
		return b, false, nil
	}
	return b, err == nil, err
}

// Payable reads (and locks) the open orders of every customer linked to an
// account, in no order, and the account's balance row with them (nil when
// it has none; not read when there are no such orders).
func (t *Tx) Payable(account string) ([]core.Order, *Balance, error) {
	q := QPayable
	if t.ReadsLock() {
		q = QPayablePostgres
	}
	rows, err := t.Query(q, account)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	orders := []core.Order{}
	var b Balance
	var bAccount, bAddress *string
	var bConfirmed, bPaid, bPending *core.MicroTari
	for rows.Next() {
		var o core.Order
		if err := rows.Scan(append(OrderDest(&o), &bAccount, &bAddress, &bConfirmed, &bPaid, &bPending, Time{&b.LastUpdate})...); err != nil {
			return nil, nil, err
		}
		orders = append(orders, o)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(orders) == 0 || bAccount == nil {
		return orders, nil, nil
	}
	b.Account, b.Address, b.TotalConfirmed, b.TotalPaid, b.Pending = *bAccount, *bAddress, *bConfirmed, *bPaid, *bPending
	return orders, &b, nil
}

// PoolBalances reads (and locks) the balance rows of the accounts linked to
// a customer and of those whose payments name orderID or altID (when not
// nil), largest current balance first.
func (t *Tx) PoolBalances(customerID, orderID string, altID *string) ([]Balance, error) {
	q := QPool
	args := []any{customerID, orderID}
	if altID != nil {
		q += " OR order_id = ?"
		args = append(args, *altID)
	}
	q += ") ORDER BY total_confirmed - total_paid DESC, last_update DESC, account" + t.ForUpdate()
	rows, err := t.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Balance
	for rows.Next() {
		var b Balance
		if err := rows.Scan(BalanceDest(&b)...); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

var (
	qBumpBalance = pgStatement("bump_balance", `UPDATE account_balances SET total_confirmed = total_confirmed + ?, total_paid = total_paid + ?, pending = pending + ?, last_update = ?
WHERE account = ? AND total_confirmed + ? BETWEEN ? AND ? AND total_paid + ? BETWEEN ? AND ? AND pending + ? BETWEEN ? AND ?`)
	qUpsertBalance = pgStatement("upsert_balance", `INSERT INTO account_balances (account, address, total_confirmed, total_paid, pending, last_update)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (account) DO UPDATE SET
  total_confirmed = account_balances.total_confirmed + excluded.total_confirmed,
  total_paid = account_balances.total_paid + excluded.total_paid,
  pending = account_balances.pending + excluded.pending,
  last_update = excluded.last_update
WHERE account_balances.total_confirmed + excluded.total_confirmed BETWEEN ? AND ?
  AND account_balances.total_paid + excluded.total_paid BETWEEN ? AND ?
  AND account_balances.pending + excluded.pending BETWEEN ? AND ?`)
)

// BumpBalance adds to an account's running totals as long as each stays
// within ±bound, creating its row on first use (known: the row exists, so
// a plain UPDATE skips the upsert's insert attempt). It reports false,
// changing nothing, when an addition would leave the bound. The increments
// must be within ±bound themselves, so the SQL additions (integer on both
// databases) can never overflow.
func (t *Tx) BumpBalance(account, address string, confirmed, paid, pending, bound core.MicroTari, known bool, now time.Time) (bool, error) {
	var res sql.Result
	var err error
	if known {
		res, err = t.ExecResult(qBumpBalance,
			confirmed, paid, pending, now, account, confirmed, -bound, bound, paid, -bound, bound, pending, -bound, bound)
	} else {
		res, err = t.ExecResult(qUpsertBalance, account, address, confirmed, paid, pending, now, -bound, bound, -bound, bound, -bound, bound)
	}
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

const qInsertSettlement = "INSERT INTO settlement_journal (created_at, order_id, payment_address, account, settlement_type, amount) VALUES (?, ?, ?, ?, ?, ?)"

// InsertSettlement writes one settlement row and returns its id.
func (t *Tx) InsertSettlement(s core.SettlementJournalEntry) (int64, error) {
	return t.InsertID(qInsertSettlement,
		s.CreatedAt, s.OrderID, s.PaymentAddress, s.Account, s.SettlementType, s.Amount)
}
