package enginestore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
)

// The reads outside transactions, on the pool.

func utc(t time.Time) time.Time { return t.UTC() }

func normOrder(o *core.Order) {
	o.CreatedAt, o.UpdatedAt, o.StatusChangedAt = utc(o.CreatedAt), utc(o.UpdatedAt), utc(o.StatusChangedAt)
}

func (r *Reader) orders(ctx context.Context, query string, args ...any) ([]core.Order, error) {
	var rows []store.Order
	if err := r.db.NewRaw(query, args...).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	out := store.Orders(rows)
	for i := range out {
		normOrder(&out[i])
	}
	return out, nil
}

// order returns the one order the query finds, or nil.
func (r *Reader) order(ctx context.Context, query string, args ...any) (*core.Order, error) {
	var row store.Order
	if err := r.db.NewRaw(query, args...).Scan(ctx, &row); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, err
	}
	o := core.Order(row)
	normOrder(&o)
	return &o, nil
}

func (r *Reader) payments(ctx context.Context, query string, args ...any) ([]core.Payment, error) {
	var rows []store.Payment
	if err := r.db.NewRaw(query, args...).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	out := store.Payments(rows)
	for i := range out {
		out[i].CreatedAt, out[i].UpdatedAt = utc(out[i].CreatedAt), utc(out[i].UpdatedAt)
	}
	return out, nil
}

func (r *Reader) settlements(ctx context.Context, query string, args ...any) ([]core.SettlementJournalEntry, error) {
	var rows []store.Settlement
	if err := r.db.NewRaw(query, args...).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	out := store.Settlements(rows)
	for i := range out {
		out[i].CreatedAt = utc(out[i].CreatedAt)
	}
	return out, nil
}

func (r *Reader) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	out := []string{}
	if err := r.db.NewRaw(q, args...).Scan(ctx, &out); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return out, nil
}

// OrderByOrderID is the order with exactly this order_id, or nil.
func (r *Reader) OrderByOrderID(ctx context.Context, orderID string) (*core.Order, error) {
	return r.order(ctx, QOrderByOrderID, orderID)
}

// OrderByIDOrAlt is the order whose order_id, or else alt_id, is id, or nil.
func (r *Reader) OrderByIDOrAlt(ctx context.Context, id string) (*core.Order, error) {
	return r.order(ctx, QOrderByIDOrAlt, id, id, id)
}

// ownOrderIDs is the set of order_ids an account may see as a plain user:
// the orders it claimed, the orders it paid (a settlement from its
// account), and the orders its payments name (exactly, or by alt_id when
// not strict), with its arguments.
func ownOrderIDs(account string, strict bool) (string, []any) {
	q := "SELECT order_id FROM orders WHERE claimed_by = ?" +
		" UNION SELECT order_id FROM settlement_journal WHERE account = ?" +
		" UNION SELECT order_id FROM payments WHERE sender_account = ? AND order_id IS NOT NULL"
	if !strict {
		q += " UNION SELECT o.order_id FROM payments p JOIN orders o ON o.alt_id = p.order_id WHERE p.sender_account = ?"
		return q, []any{account, account, account, account}
	}
	return q, []any{account, account, account}
}

// OwnOrder is the order with exactly this order_id if the account claimed,
// paid or named it (alt_id too when not strict), else nil.
func (r *Reader) OwnOrder(ctx context.Context, account, orderID string, strict bool) (*core.Order, error) {
	own, args := ownOrderIDs(account, strict)
	return r.order(ctx, "SELECT "+OrderCols+" FROM orders WHERE order_id = ? AND order_id IN ("+own+")", append([]any{orderID}, args...)...)
}

// OwnOrders lists the orders the account claimed, paid or named (only the
// open ones when openOnly), oldest first.
func (r *Reader) OwnOrders(ctx context.Context, account string, strict, openOnly bool) ([]core.Order, error) {
	own, args := ownOrderIDs(account, strict)
	q := "SELECT " + OrderCols + " FROM orders WHERE order_id IN (" + own + ")"
	if openOnly {
		q += " AND " + OpenStatus
	}
	return r.orders(ctx, q+" ORDER BY created_at, id", args...)
}

// LinkedOrders lists the orders of every customer linked to the account
// (only the open ones when openOnly), oldest first.
func (r *Reader) LinkedOrders(ctx context.Context, account string, openOnly bool) ([]core.Order, error) {
	q := "SELECT " + OrderCols + " FROM orders WHERE customer_id IN (SELECT customer_id FROM address_links WHERE account = ?)"
	if openOnly {
		q += " AND " + OpenStatus
	}
	return r.orders(ctx, q+" ORDER BY created_at, id", account)
}

// PaymentsByAccount lists the payments an account sent, oldest first.
func (r *Reader) PaymentsByAccount(ctx context.Context, account string) ([]core.Payment, error) {
	return r.payments(ctx, QPaymentsByAccount, account)
}

// PaymentsForOrder lists the payments whose order_id is exactly orderID.
func (r *Reader) PaymentsForOrder(ctx context.Context, orderID string) ([]core.Payment, error) {
	return r.payments(ctx, "SELECT "+PaymentCols+" FROM payments WHERE order_id = ? ORDER BY created_at, txid", orderID)
}

// Balance is an account's balance row; ok is false when it has none.
func (r *Reader) Balance(ctx context.Context, account string) (b Balance, ok bool, err error) {
	err = r.db.NewRaw(QBalance, account).Scan(ctx, &b)
	if errors.Is(err, sql.ErrNoRows) {
		return b, false, nil
	}
	return b, err == nil, err
}

// CustomerBalances lists the balance rows of the accounts linked to a
// customer, most recently active first.
func (r *Reader) CustomerBalances(ctx context.Context, customerID string) ([]Balance, error) {
	var rows []Balance
	if err := r.db.NewRaw("SELECT "+BalanceCols+" FROM account_balances WHERE account IN (SELECT account FROM address_links WHERE customer_id = ?) ORDER BY last_update DESC, account", customerID).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return rows, nil
}

// StatusPrice is an order's status and price.
type StatusPrice struct {
	Status core.OrderStatus `bun:"status"`
	Total  core.MicroTari   `bun:"total_price"`
}

// CustomerOrderPrices lists the status and price of a customer's orders.
func (r *Reader) CustomerOrderPrices(ctx context.Context, customerID string) ([]StatusPrice, error) {
	var rows []StatusPrice
	if err := r.db.NewRaw("SELECT status, total_price FROM orders WHERE customer_id = ?", customerID).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return rows, nil
}

// CustomerPrice is a customer and one order's price.
type CustomerPrice struct {
	CustomerID string         `bun:"customer_id"`
	Total      core.MicroTari `bun:"total_price"`
}

// NewOrderPrices lists the price of every New order with its customer, by
// customer.
func (r *Reader) NewOrderPrices(ctx context.Context) ([]CustomerPrice, error) {
	var rows []CustomerPrice
	if err := r.db.NewRaw("SELECT customer_id, total_price FROM orders WHERE status = 'New' AND "+OpenStatus+" ORDER BY customer_id").Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return rows, nil
}

// AccountSettlements lists the settlements debiting an account, oldest first.
func (r *Reader) AccountSettlements(ctx context.Context, account string) ([]core.SettlementJournalEntry, error) {
	return r.settlements(ctx, "SELECT "+SettlementCols+" FROM settlement_journal WHERE account = ? ORDER BY id", account)
}

// CustomerOrders lists a customer's orders, oldest first.
func (r *Reader) CustomerOrders(ctx context.Context, customerID string) ([]core.Order, error) {
	return r.orders(ctx, QCustomerOrders, customerID)
}

// CustomerSettlements lists the settlements of a customer's Paid orders.
func (r *Reader) CustomerSettlements(ctx context.Context, customerID string) ([]core.SettlementJournalEntry, error) {
	return r.settlements(ctx, "SELECT "+Prefixed("s.", SettlementCols)+" FROM settlement_journal s JOIN orders o ON o.order_id = s.order_id WHERE o.customer_id = ? AND o.status = 'Paid' ORDER BY s.id", customerID)
}

// OrderSettlements lists the settlements that paid an order, oldest first.
func (r *Reader) OrderSettlements(ctx context.Context, orderID string) ([]core.SettlementJournalEntry, error) {
	return r.settlements(ctx, "SELECT "+SettlementCols+" FROM settlement_journal WHERE order_id = ? ORDER BY id", orderID)
}

// SearchOrders lists the orders matching every given filter, oldest
// created_at first. Memo is a literal, case-insensitive substring: no
// LIKE, so % and _ are plain characters.
func (r *Reader) SearchOrders(ctx context.Context, q core.OrderQuery) ([]core.Order, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if q.Memo != nil {
		add(r.containsFold("memo"), *q.Memo)
	}
	if q.OrderID != nil {
		add("order_id = ?", *q.OrderID)
	}
	if q.AltID != nil {
		add("alt_id = ?", *q.AltID)
	}
	if q.CustomerID != nil {
		add("customer_id = ?", *q.CustomerID)
	}
	if q.Currency != nil {
		add("currency = ?", *q.Currency)
	}
	if q.Since != nil {
		add("created_at >= ?", q.Since.UTC())
	}
	if q.Until != nil {
		add("created_at <= ?", q.Until.UTC())
	}
	if len(q.Statuses) > 0 {
		add("status IN (?)", bun.In(q.Statuses))
	}
	sqlq := "SELECT " + OrderCols + " FROM orders"
	if len(where) > 0 {
		sqlq += " WHERE " + strings.Join(where, " AND ")
	}
	sqlq += " ORDER BY created_at, id" + r.page(q.Page)
	return r.orders(ctx, sqlq, args...)
}

// PaymentQuery filters SearchPayments; every given filter applies.
type PaymentQuery struct {
	TxID     *string
	Statuses []core.PaymentStatus
	Type     *core.PaymentType
	Sender   *string    // exact address as received (base58)
	Since    *time.Time // created_at >= Since
	Until    *time.Time // created_at < Until
	core.Page
}

// SearchPayments lists the payments matching every given filter, newest first.
func (r *Reader) SearchPayments(ctx context.Context, q PaymentQuery) ([]core.Payment, error) {
	sqlq := "SELECT " + PaymentCols + " FROM payments WHERE 1 = 1"
	var args []any
	if q.TxID != nil {
		sqlq += " AND txid = ?"
		args = append(args, *q.TxID)
	}
	if len(q.Statuses) > 0 {
		sqlq += " AND status IN (?)"
		args = append(args, bun.In(q.Statuses))
	}
	if q.Type != nil {
		sqlq += " AND payment_type = ?"
		args = append(args, *q.Type)
	}
	if q.Sender != nil {
		sqlq += " AND sender = ?"
		args = append(args, *q.Sender)
	}
	if q.Since != nil {
		sqlq += " AND created_at >= ?"
		args = append(args, q.Since.UTC())
	}
	if q.Until != nil {
		sqlq += " AND created_at < ?"
		args = append(args, q.Until.UTC())
	}
	sqlq += " ORDER BY created_at DESC, txid" + r.page(q.Page)
	return r.payments(ctx, sqlq, args...)
}

// OpenOrders lists every open order, oldest first.
func (r *Reader) OpenOrders(ctx context.Context) ([]core.Order, error) {
	return r.orders(ctx, "SELECT "+OrderCols+" FROM orders WHERE "+OpenStatus+" ORDER BY created_at, id")
}

// OpenOrderCount counts the open orders.
func (r *Reader) OpenOrderCount(ctx context.Context) (int, error) {
	var n int
	err := r.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders WHERE "+OpenStatus).Scan(&n)
	return n, err
}

// ExpiringOrders lists up to limit open orders whose clock started before
// their status's cutoff, soonest first.
func (r *Reader) ExpiringOrders(ctx context.Context, unclaimedBefore, unpaidBefore time.Time, limit int) ([]core.Order, error) {
	return r.orders(ctx, "SELECT "+OrderCols+" FROM orders WHERE "+OpenStatus+
		" AND ((status = 'Unclaimed' AND status_changed_at < ?) OR (status = 'New' AND status_changed_at < ?))"+
		" ORDER BY status_changed_at, id LIMIT ?",
		unclaimedBefore.UTC(), unpaidBefore.UTC(), limit)
}

// CustomerIDs lists the distinct customer ids of orders, sorted.
func (r *Reader) CustomerIDs(ctx context.Context, p core.Page) ([]string, error) {
	return r.strings(ctx, "SELECT DISTINCT customer_id FROM orders ORDER BY customer_id"+r.page(p))
}

// Senders lists the distinct payment senders, sorted.
func (r *Reader) Senders(ctx context.Context, p core.Page) ([]string, error) {
	return r.strings(ctx, "SELECT DISTINCT sender FROM payments ORDER BY sender"+r.page(p))
}

// LinkedCustomers lists the customers linked to an account.
func (r *Reader) LinkedCustomers(ctx context.Context, account string) ([]string, error) {
	return r.strings(ctx, "SELECT customer_id FROM address_links WHERE account = ? ORDER BY customer_id", account)
}

// AuditEntry is one row of an order's or payment's audit history: the
// operation and the row as it stood after it (JSON).
type AuditEntry struct {
	ID        int64     `bun:"id"`
	Operation string    `bun:"operation"`
	ChangedAt time.Time `bun:"changed_at"`
	Snapshot  string    `bun:"snapshot"`
}

// Audit lists an entity's audit history, oldest first.
func (r *Reader) Audit(ctx context.Context, entity, key string) ([]AuditEntry, error) {
	out := []AuditEntry{}
	if err := r.db.NewRaw("SELECT id, operation, changed_at, snapshot FROM audit_log WHERE entity = ? AND entity_key = ? ORDER BY id", entity, key).Scan(ctx, &out); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	for i := range out {
		out[i].ChangedAt = utc(out[i].ChangedAt)
	}
	return out, nil
}

// LatestRates lists the latest rate of every currency, by currency.
func (r *Reader) LatestRates(ctx context.Context) ([]core.ExchangeRate, error) {
	out := []core.ExchangeRate{}
	var rows []struct {
		Currency  string         `bun:"base_currency"`
		Rate      core.MicroTari `bun:"rate"`
		UpdatedAt time.Time      `bun:"updated_at"`
	}
	if err := r.db.NewRaw("SELECT r.base_currency, r.rate, r.updated_at FROM exchange_rates r WHERE r.id = (SELECT MAX(id) FROM exchange_rates x WHERE x.base_currency = r.base_currency) ORDER BY r.base_currency").Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	for _, row := range rows {
		out = append(out, core.ExchangeRate{Currency: row.Currency, Rate: row.Rate, UpdatedAt: utc(row.UpdatedAt)})
	}
	return out, nil
}

// LatestRate is the latest rate of a currency, sql.ErrNoRows when it has
// none (a hot read: prepared once on SQLite).
func (r *Reader) LatestRate(ctx context.Context, currency string) (core.ExchangeRate, error) {
	out := core.ExchangeRate{Currency: currency}
	err := r.ReadRow(ctx, "SELECT rate, updated_at FROM exchange_rates WHERE base_currency = ? ORDER BY id DESC LIMIT 1",
		[]any{currency}, &out.Rate, Time{T: &out.UpdatedAt})
	return out, err
}

// AllLatestRates lists the latest rate of every currency that has one,
// sorted by currency (scanned directly, without bun).
func (r *Reader) AllLatestRates(ctx context.Context) ([]core.ExchangeRate, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT r.base_currency, r.rate, r.updated_at FROM exchange_rates r
WHERE r.id = (SELECT MAX(l.id) FROM exchange_rates l WHERE l.base_currency = r.base_currency)
ORDER BY r.base_currency`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []core.ExchangeRate{}
	for rows.Next() {
		var rate core.ExchangeRate
		var at time.Time
		if err := rows.Scan(&rate.Currency, &rate.Rate, Time{T: &at}); err != nil {
			return nil, err
		}
		rate.UpdatedAt = at
		out = append(out, rate)
	}
	return out, rows.Err()
}

// RoleAssignment is an address and one role assigned to its account.
type RoleAssignment struct {
	Address string `bun:"address"`
	Role    string `bun:"name"`
}

// RoleAssignments lists every role assignment, by address and role.
func (r *Reader) RoleAssignments(ctx context.Context) ([]RoleAssignment, error) {
	var rows []RoleAssignment
	if err := r.db.NewRaw("SELECT a.address, r.name FROM role_assignments a JOIN roles r ON r.id = a.role_id ORDER BY a.address, r.id").Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return rows, nil
}

// DayCount is a UTC day (YYYY-MM-DD), a count and a total.
type DayCount struct {
	Day   string         `bun:"day"`
	N     int            `bun:"n"`
	Total core.MicroTari `bun:"total"`
}

// OrdersCreatedByDay counts the orders created since start, by UTC day.
func (r *Reader) OrdersCreatedByDay(ctx context.Context, start time.Time) ([]DayCount, error) {
	var rows []DayCount
	if err := r.db.NewRaw("SELECT "+r.dayExpr("created_at")+" AS day, COUNT(*) AS n FROM orders WHERE created_at >= ? GROUP BY 1", start).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return rows, nil
}

// OrdersPaidByDay counts and sums the orders that became Paid since start,
// by UTC day.
func (r *Reader) OrdersPaidByDay(ctx context.Context, start time.Time) ([]DayCount, error) {
	var rows []DayCount
	if err := r.db.NewRaw("SELECT "+r.dayExpr("status_changed_at")+" AS day, COUNT(*) AS n, SUM(total_price) AS total FROM orders WHERE status = 'Paid' AND status_changed_at >= ? GROUP BY 1", start).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return rows, nil
}

// Wallet is a row of wallet_auth.
type Wallet struct {
	Address   string `bun:"address"`
	IPAddress string `bun:"ip_address"`
	LastNonce int64  `bun:"last_nonce"`
}

// Wallets lists the authorised hot wallets, oldest first.
func (r *Reader) Wallets(ctx context.Context) ([]Wallet, error) {
	var rows []Wallet
	if err := r.db.NewRaw("SELECT address, ip_address, last_nonce FROM wallet_auth ORDER BY created_at, address").Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return rows, nil
}

// ShopifyTransaction is a row of shopify_transactions.
type ShopifyTransaction struct {
	ID        int64     `bun:"id"`
	OrderID   int64     `bun:"order_id"`
	Amount    string    `bun:"amount"`
	Currency  string    `bun:"currency"`
	Test      bool      `bun:"test"`
	Captured  bool      `bun:"captured"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// UncapturedShopifyTransactions lists a Shopify order's uncaptured
// authorisations, by id.
func (r *Reader) UncapturedShopifyTransactions(ctx context.Context, shopifyOrderID int64) ([]ShopifyTransaction, error) {
	var rows []ShopifyTransaction
	if err := r.db.NewRaw("SELECT id, order_id, amount, currency, test, captured, created_at, updated_at FROM shopify_transactions WHERE order_id = ? AND captured = ? ORDER BY id", shopifyOrderID, false).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return rows, nil
}

// WebhookSeen reports whether a Shopify event id was recorded.
func (r *Reader) WebhookSeen(ctx context.Context, eventID string) (bool, error) {
	n, err := r.db.NewSelect().TableExpr("shopify_webhooks").Where("event_id = ?", eventID).Count(ctx)
	return n > 0, err
}

// RoleNames lists the names of the roles assigned to an account.
func (r *Reader) RoleNames(ctx context.Context, account string) ([]string, error) {
	return RoleNames(ctx, r.db, account)
}

// CustomerAddresses lists the addresses linked to a customer, sorted.
func (r *Reader) CustomerAddresses(ctx context.Context, customerID string) ([]string, error) {
	return r.strings(ctx, "SELECT DISTINCT address FROM address_links WHERE customer_id = ? ORDER BY address", customerID)
}

// Session is a live console session's row.
type Session struct {
	Address   string
	CSRFToken string
	CreatedMs int64
	ExpiresMs int64
}

// LiveSession is the console session with that token hash if it has not
// expired at nowMs; sql.ErrNoRows when there is none.
func (r *Reader) LiveSession(ctx context.Context, tokenHash string, nowMs int64) (Session, error) {
	var s Session
	err := r.db.QueryRowContext(ctx, "SELECT address, csrf_token, created_ms, expires_ms FROM console_sessions WHERE token_hash = ? AND expires_ms > ?",
		tokenHash, nowMs).Scan(&s.Address, &s.CSRFToken, &s.CreatedMs, &s.ExpiresMs)
	return s, err
}
