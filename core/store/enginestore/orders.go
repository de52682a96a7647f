package enginestore

import (
	"database/sql"
	"errors"
	"time"

	"github.com/tari-payment/tps/core"
)

// InsertOrder stores a new order and returns its id, or sql.ErrNoRows when
// its order_id or alt_id is already known (DO NOTHING without a target
// covers both).
func (t *Tx) InsertOrder(o *core.Order) (int64, error) {
	return t.InsertID(qInsertOrder,
		o.OrderID, o.AltID, o.CustomerID, o.Memo, o.TotalPrice, o.OriginalPrice, o.Currency, o.CreatedAt, o.UpdatedAt, o.Status, o.AmountOutstanding, o.StatusChangedAt)
}

const qInsertOrder = `INSERT INTO orders (order_id, alt_id, customer_id, memo, total_price, original_price, currency, created_at, updated_at, status, amount_outstanding, status_changed_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`

var _ = pgStatement("insert_order", qInsertOrder+" RETURNING id")

// CancelOrder makes an order Cancelled with a reason.
func (t *Tx) CancelOrder(id int64, reason string, now time.Time) error {
	return t.Exec(qCancelOrder, core.OrderCancelled, reason, now, now, id)
}

var qCancelOrder = pgStatement("cancel_order", "UPDATE orders SET status = ?, cancel_reason = ?, updated_at = ?, status_changed_at = ? WHERE id = ?")

// ReopenOrder makes an order New again, without a cancel reason.
func (t *Tx) ReopenOrder(id int64, now time.Time) error {
	return t.Exec("UPDATE orders SET status = ?, cancel_reason = NULL, updated_at = ?, status_changed_at = ? WHERE id = ?", core.OrderNew, now, now, id)
}

// SetOrderCustomer moves an order to another customer.
func (t *Tx) SetOrderCustomer(id int64, customerID string, now time.Time) error {
	return t.Exec("UPDATE orders SET customer_id = ?, updated_at = ? WHERE id = ?", customerID, now, id)
}

// SetOrderMemo replaces an order's memo.
func (t *Tx) SetOrderMemo(id int64, memo string, now time.Time) error {
	return t.Exec("UPDATE orders SET memo = ?, updated_at = ? WHERE id = ?", memo, now, id)
}

// SetOrderPrice replaces an order's price.
func (t *Tx) SetOrderPrice(id int64, price core.MicroTari, now time.Time) error {
	return t.Exec("UPDATE orders SET total_price = ?, updated_at = ? WHERE id = ?", price, now, id)
}

// SetOrderCancelReason replaces an order's cancel reason.
func (t *Tx) SetOrderCancelReason(id int64, reason string, now time.Time) error {
	return t.Exec("UPDATE orders SET cancel_reason = ?, updated_at = ? WHERE id = ?", reason, now, id)
}

// ExpireOrders moves every order in status from whose clock started before
// cutoff to Expired and returns them, in no order.
func (t *Tx) ExpireOrders(from core.OrderStatus, cutoff, now time.Time) ([]core.Order, error) {
	return t.Orders(QExpire, core.OrderExpired, now, now, from, cutoff)
}

// OpenOrdersOf reads (and locks) a customer's open orders, oldest first.
func (t *Tx) OpenOrdersOf(customerID string) ([]core.Order, error) {
	return t.Orders("SELECT "+OrderCols+" FROM orders WHERE customer_id = ? AND "+OpenStatus+" ORDER BY created_at, id"+t.ForUpdate(), customerID)
}

// CustomersOf lists the customers linked to an account.
func (t *Tx) CustomersOf(account string) ([]string, error) {
	rows, err := t.Query("SELECT customer_id FROM address_links WHERE account = ? ORDER BY customer_id", account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cids []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cids = append(cids, c)
	}
	return cids, rows.Err()
}

func autoClaimQuery(named string) string {
	return "SELECT address FROM account_balances WHERE account IN (" + named + " UNION SELECT account FROM address_links WHERE customer_id = ?) ORDER BY CASE WHEN account IN (" + named + ") THEN 0 ELSE 1 END, last_update DESC, account LIMIT 1"
}

var (
	qAutoClaim    = autoClaimQuery("SELECT sender_account FROM payments WHERE order_id = ?")
	qAutoClaimAlt = autoClaimQuery("SELECT sender_account FROM payments WHERE order_id = ? OR order_id = ?")
	// The PostgreSQL form of InsertOrderAutoClaim: the insert and the
	// candidate in one statement.
	qInsertOrderAutoClaim    = pgStatement("insert_order_auto_claim", insertOrderAutoClaimQuery(qAutoClaim))
	qInsertOrderAutoClaimAlt = pgStatement("insert_order_auto_claim_alt", insertOrderAutoClaimQuery(qAutoClaimAlt))
)

func insertOrderAutoClaimQuery(autoClaim string) string {
	return "WITH ins AS (" + qInsertOrder + " RETURNING id) SELECT ins.id, COALESCE((" + autoClaim + "), '') FROM ins"
}

// InsertOrderAutoClaim is InsertOrder followed by AutoClaimAddress for the
// new order (altID: the alt id payments may name too, or nil): its id and
// the address to claim it for ("" when none). On PostgreSQL both are one
// statement, one round trip; its candidate is read in the statement's
// snapshot, as a separate statement run just before the insert would.
func (t *Tx) InsertOrderAutoClaim(o *core.Order, altID *string) (int64, string, error) {
	if t.w != nil {
		id, err := t.InsertOrder(o)
		if err != nil {
			return id, "", err
		}
		address, err := t.AutoClaimAddress(o.OrderID, altID, o.CustomerID)
		return id, address, err
	}
	q, named := qInsertOrderAutoClaim, []any{o.OrderID}
	if altID != nil {
		q, named = qInsertOrderAutoClaimAlt, []any{o.OrderID, *altID}
	}
	args := []any{o.OrderID, o.AltID, o.CustomerID, o.Memo, o.TotalPrice, o.OriginalPrice, o.Currency, o.CreatedAt, o.UpdatedAt, o.Status, o.AmountOutstanding, o.StatusChangedAt}
	args = append(append(append(args, named...), o.CustomerID), named...)
	var id int64
	var address string
	err := t.QueryRow(q, args, &id, &address)
	return id, address, err
}

// AutoClaimAddress is the address of the account to claim a new order for:
// among accounts with a balance row, one whose payments name the order
// (orderID, or altID when not nil) first, else one linked to the customer;
// the most recently active wins. "" when there is none.
func (t *Tx) AutoClaimAddress(orderID string, altID *string, customerID string) (string, error) {
	q, args := qAutoClaim, []any{orderID}
	if altID != nil {
		q = qAutoClaimAlt
		args = append(args, *altID)
	}
	all := append(append(append([]any{}, args...), customerID), args...)
	var address string
	if err := t.QueryRow(q, all, &address); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		return "", err
	}
	return address, nil
}

var qInsertPayment = pgStatement("insert_payment", `INSERT INTO payments (txid, created_at, updated_at, sender, sender_account, amount, memo, payment_type, status, order_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (txid) DO NOTHING`)

// InsertPayment stores a new payment; false when its txid is already known.
func (t *Tx) InsertPayment(p *core.Payment) (bool, error) {
	res, err := t.ExecResult(qInsertPayment,
		p.TxID, p.CreatedAt, p.UpdatedAt, p.Sender, p.SenderAccount, p.Amount, p.Memo, p.PaymentType, p.Status, p.OrderID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

var qPaymentStatus = pgStatement("payment_status", "SELECT status FROM payments WHERE txid = ?")

// PaymentStatus reads a payment's status, sql.ErrNoRows when there is none.
func (t *Tx) PaymentStatus(txid string) (core.PaymentStatus, error) {
	var cur core.PaymentStatus
	err := t.QueryRow(qPaymentStatus, []any{txid}, &cur)
	return cur, err
}
