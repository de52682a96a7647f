package engine

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store/enginestore"
	"github.com/tari-payment/tps/core/tari"
)

// OrderByID returns the order whose order_id, or else alt_id, is id (an
// order_id match wins), or nil. Route: GET /api/order/id/{id} for read_all.
func (e *Engine) OrderByID(ctx context.Context, id string) (*core.Order, error) {
	return selectOrder(ctx, e.db, qOrderByIDOrAlt, id, id, id)
}

// OrderByIDStrict is OrderByID under strict mode (D5): with strict mode on only
// order_id matches, else alt_id too. Route: GET /api/order/id/{id} for read_all.
func (e *Engine) OrderByIDStrict(ctx context.Context, id string) (*core.Order, error) {
	if e.cfg.StrictMode {
		return selectOrder(ctx, e.db, qOrderByOrderID, id)
	}
	return e.OrderByID(ctx, id)
}

// ownOrderIDs is the set of order_ids an account may see as a plain user
// (D26): the orders it claimed, the orders it paid (a settlement from its
// account), and the orders its payments name (exactly, or by alt_id when not
// strict). It takes the account key 1 to 4 times, see ownOrderArgs. Never the
// other orders of a customer it is linked to.
func (e *Engine) ownOrderIDs() string {
	q := "SELECT order_id FROM orders WHERE claimed_by = ?" +
		" UNION SELECT order_id FROM settlement_journal WHERE account = ?" +
		" UNION SELECT order_id FROM payments WHERE sender_account = ? AND order_id IS NOT NULL"
	if !e.cfg.StrictMode {
		q += " UNION SELECT o.order_id FROM payments p JOIN orders o ON o.alt_id = p.order_id WHERE p.sender_account = ?"
	}
	return q
}

func (e *Engine) ownOrderArgs(addr tari.Address) []any {
	a := addr.AccountKey()
	if e.cfg.StrictMode {
		return []any{a, a, a}
	}
	return []any{a, a, a, a}
}

// OrderForAddress returns the order with exactly this order_id if addr's
// account may see it (D26: it claimed, paid or named it), else nil (ids
// cannot be probed, D12). Route: GET /api/order/id/{id} for plain users.
func (e *Engine) OrderForAddress(ctx context.Context, addr tari.Address, orderID string) (*core.Order, error) {
	return selectOrder(ctx, e.db, "SELECT "+orderCols+" FROM orders WHERE order_id = ? AND order_id IN ("+e.ownOrderIDs()+")",
		append([]any{orderID}, e.ownOrderArgs(addr)...)...)
}

// OwnOrders lists the orders addr's account may see as a plain user (D26:
// those it claimed, paid or named in a payment; only New and Unclaimed when
// unfulfilledOnly), with their total. Routes: GET /api/orders,
// GET /api/unfulfilled_orders for a caller without read_all.
func (e *Engine) OwnOrders(ctx context.Context, addr tari.Address, unfulfilledOnly bool) (core.OrderResult, error) {
	q := "SELECT " + orderCols + " FROM orders WHERE order_id IN (" + e.ownOrderIDs() + ")"
	if unfulfilledOnly {
		q += " AND " + openStatus
	}
	orders, err := selectOrders(ctx, e.db, q+" ORDER BY created_at, id", e.ownOrderArgs(addr)...)
	if err != nil {
		return core.OrderResult{}, err
	}
	return orderResult(addr, orders)
}

func orderResult(addr tari.Address, orders []core.Order) (core.OrderResult, error) {
	res := core.OrderResult{Address: addr.Base58(), Orders: orders}
	for _, o := range orders {
		if err := addTo(&res.TotalOrders, o.TotalPrice); err != nil {
			return core.OrderResult{}, err
		}
	}
	return res, nil
}

// OwnHistory is AddressHistory with only the orders addr's account may see
// as a plain user (D26). Route: GET /api/history for a caller without read_all.
func (e *Engine) OwnHistory(ctx context.Context, addr tari.Address) (core.AddressHistory, error) {
	h, err := e.AddressHistory(ctx, addr)
	if err != nil {
		return h, err
	}
	own, err := e.OwnOrders(ctx, addr, false)
	if err != nil {
		return core.AddressHistory{}, err
	}
	h.Orders = own.Orders
	return h, nil
}

// OrdersForAddress lists the orders of every customer linked to addr's
// account (only New and Unclaimed when unfulfilledOnly), with their total: the
// admin's view (a plain user gets OwnOrders, D26). Routes:
// GET /api/orders[/{a}], GET /api/unfulfilled_orders[/{a}].
func (e *Engine) OrdersForAddress(ctx context.Context, addr tari.Address, unfulfilledOnly bool) (core.OrderResult, error) {
	q := "SELECT " + orderCols + " FROM orders WHERE customer_id IN (SELECT customer_id FROM address_links WHERE account = ?)"
	if unfulfilledOnly {
		q += " AND " + openStatus
	}
	orders, err := selectOrders(ctx, e.db, q+" ORDER BY created_at, id", addr.AccountKey())
	if err != nil {
		return core.OrderResult{}, err
	}
	return orderResult(addr, orders)
}

// PaymentsForAddress lists the payments sent by addr's account (any address
// form, D25), with the total of all of them. Route: GET /api/payments[/{a}].
func (e *Engine) PaymentsForAddress(ctx context.Context, addr tari.Address) (core.PaymentsResult, error) {
	ps, err := selectPayments(ctx, e.db, qPaymentsByAccount, addr.AccountKey())
	if err != nil {
		return core.PaymentsResult{}, err
	}
	res := core.PaymentsResult{Address: addr.Base58(), Payments: ps}
	for _, p := range ps {
		if err := addTo(&res.TotalPayments, p.Amount); err != nil {
			return core.PaymentsResult{}, err
		}
	}
	return res, nil
}

// PaymentsForOrder lists payments whose order_id is exactly orderID.
// Route: GET /api/payments-for-order/{order_id}.
func (e *Engine) PaymentsForOrder(ctx context.Context, orderID string) ([]core.Payment, error) {
	return selectPayments(ctx, e.db, "SELECT "+paymentCols+" FROM payments WHERE order_id = ? ORDER BY created_at, txid", orderID)
}

// AddressBalance is addr's account balance (zeros and last_update = now when
// unknown). Route: GET /api/balance[/{a}].
func (e *Engine) AddressBalance(ctx context.Context, addr tari.Address) (core.AddressBalance, error) {
	var b accountBalance
	err := e.db.NewRaw(qBalance, addr.AccountKey()).Scan(ctx, &b)
	if errors.Is(err, sql.ErrNoRows) {
		return core.AddressBalance{Address: addr.Base58(), LastUpdate: e.now()}, nil
	}
	if err != nil {
		return core.AddressBalance{}, err
	}
	return b.wire(addr.Base58()), nil
}

// CustomerBalance sums the balances of the accounts linked to a customer.
func (e *Engine) CustomerBalance(ctx context.Context, customerID string) (core.CustomerBalance, error) {
	var rows []accountBalance
	if err := e.db.NewRaw("SELECT "+balanceCols+" FROM account_balances WHERE account IN (SELECT account FROM address_links WHERE customer_id = ?) ORDER BY last_update DESC, account", customerID).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return core.CustomerBalance{}, err
	}
	res := core.CustomerBalance{Addresses: []core.AddressBalance{}}
	for _, r := range rows {
		for _, add := range [][2]*core.MicroTari{{&res.TotalConfirmed, &r.TotalConfirmed}, {&res.TotalPaid, &r.TotalPaid}} {
			if err := addTo(add[0], *add[1]); err != nil {
				return core.CustomerBalance{}, err
			}
		}
		if err := addTo(&res.CurrentBalance, r.current()); err != nil {
			return core.CustomerBalance{}, err
		}
		res.Addresses = append(res.Addresses, r.wire(r.Address))
	}
	return res, nil
}

// CustomerOrderBalance sums a customer's order prices by status group.
func (e *Engine) CustomerOrderBalance(ctx context.Context, customerID string) (core.CustomerOrderBalance, error) {
	// Summed here with overflow checks, not with SQL SUM (D27): SQLite's
	// fails on overflow and PostgreSQL's returns a numeric no int64 holds.
	var rows []struct {
		Status core.OrderStatus `bun:"status"`
		Total  core.MicroTari   `bun:"total_price"`
	}
	if err := e.db.NewRaw("SELECT status, total_price FROM orders WHERE customer_id = ?", customerID).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return core.CustomerOrderBalance{}, err
	}
	res := core.CustomerOrderBalance{CustomerID: customerID}
	for _, r := range rows {
		var sum *core.MicroTari
		switch r.Status {
		case core.OrderNew, core.OrderUnclaimed:
			sum = &res.TotalCurrent
		case core.OrderPaid:
			sum = &res.TotalPaid
		case core.OrderExpired:
			sum = &res.TotalExpired
		case core.OrderCancelled:
			sum = &res.TotalCancelled
		default:
			continue
		}
		if err := addTo(sum, r.Total); err != nil {
			return core.CustomerOrderBalance{}, err
		}
	}
	return res, nil
}

// AddressHistory is addr's balance, the orders of its linked customers, its
// payments and its settlements. Routes: GET /api/history,
// GET /api/history/address/{a}.
func (e *Engine) AddressHistory(ctx context.Context, addr tari.Address) (core.AddressHistory, error) {
	bal, err := e.AddressBalance(ctx, addr)
	if err != nil {
		return core.AddressHistory{}, err
	}
	orders, err := e.OrdersForAddress(ctx, addr, false)
	if err != nil {
		return core.AddressHistory{}, err
	}
	pays, err := e.PaymentsForAddress(ctx, addr)
	if err != nil {
		return core.AddressHistory{}, err
	}
	sets, err := selectSettlements(ctx, e.db, "SELECT "+settlementCols+" FROM settlement_journal WHERE account = ? ORDER BY id", addr.AccountKey())
	if err != nil {
		return core.AddressHistory{}, err
	}
	return core.AddressHistory{Address: addr.Base58(), Balance: bal, Orders: orders.Orders, Payments: pays.Payments, Settlements: sets}, nil
}

// CustomerHistory is a customer's balances, orders (oldest first) and the
// settlements of its Paid orders. An unknown customer gives empty values.
// Route: GET /api/history/customer/{cid}.
func (e *Engine) CustomerHistory(ctx context.Context, customerID string) (core.CustomerHistory, error) {
	bal, err := e.CustomerBalance(ctx, customerID)
	if err != nil {
		return core.CustomerHistory{}, err
	}
	ob, err := e.CustomerOrderBalance(ctx, customerID)
	if err != nil {
		return core.CustomerHistory{}, err
	}
	orders, err := selectOrders(ctx, e.db, qCustomerOrders, customerID)
	if err != nil {
		return core.CustomerHistory{}, err
	}
	sets, err := selectSettlements(ctx, e.db, "SELECT "+enginestore.Prefixed("s.", settlementCols)+" FROM settlement_journal s JOIN orders o ON o.order_id = s.order_id WHERE o.customer_id = ? AND o.status = 'Paid' ORDER BY s.id", customerID)
	if err != nil {
		return core.CustomerHistory{}, err
	}
	return core.CustomerHistory{CustomerID: customerID, Balance: bal, OrderBalance: ob, Orders: orders, Settlements: sets}, nil
}

// SearchOrders returns the orders matching every given filter, oldest
// created_at first (D10). Route: GET /api/search/orders.
func (e *Engine) SearchOrders(ctx context.Context, q core.OrderQuery) ([]core.Order, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if q.Memo != nil {
		// A literal, case-insensitive substring: no LIKE, so % and _ are plain characters (D10).
		add(e.reads.ContainsFold("memo"), *q.Memo)
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
	sqlq := "SELECT " + orderCols + " FROM orders"
	if len(where) > 0 {
		sqlq += " WHERE " + strings.Join(where, " AND ")
	}
	sqlq += " ORDER BY created_at, id" + e.reads.Page(q.Page)
	return selectOrders(ctx, e.db, sqlq, args...)
}

// OpenOrders lists every New and Unclaimed order, oldest first
// (POST /api/rescan_open_orders compares them with Shopify's open orders).
func (e *Engine) OpenOrders(ctx context.Context) ([]core.Order, error) {
	return selectOrders(ctx, e.db, "SELECT "+orderCols+" FROM orders WHERE "+openStatus+" ORDER BY created_at, id")
}

// Creditors lists customers with New orders and their total. Route: GET /api/creditors.
func (e *Engine) Creditors(ctx context.Context) ([]core.CustomerOrders, error) {
	out := []core.CustomerOrders{}
	// Summed here with overflow checks (see CustomerOrderBalance).
	var rows []struct {
		CustomerID string         `bun:"customer_id"`
		Total      core.MicroTari `bun:"total_price"`
	}
	if err := e.db.NewRaw("SELECT customer_id, total_price FROM orders WHERE status = 'New' AND "+openStatus+" ORDER BY customer_id").Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	for _, r := range rows {
		if n := len(out); n == 0 || out[n-1].CustomerID != r.CustomerID {
			out = append(out, core.CustomerOrders{CustomerID: r.CustomerID, Status: core.OrderNew})
		}
		if err := addTo(&out[len(out)-1].TotalOrders, r.Total); err != nil {
			return nil, err
		}
	}
	return slices.DeleteFunc(out, func(c core.CustomerOrders) bool { return c.TotalOrders <= 0 }), nil
}

// CustomerIDs lists distinct customer ids of orders, sorted. Route: GET /api/customer_ids.
func (e *Engine) CustomerIDs(ctx context.Context, p core.Page) ([]string, error) {
	var args []any
	return e.strings(ctx, "SELECT DISTINCT customer_id FROM orders ORDER BY customer_id"+e.reads.Page(p), args...)
}

// Addresses lists distinct payment senders (base58), sorted. Route: GET /api/addresses.
func (e *Engine) Addresses(ctx context.Context, p core.Page) ([]string, error) {
	var args []any
	return e.strings(ctx, "SELECT DISTINCT sender FROM payments ORDER BY sender"+e.reads.Page(p), args...)
}

// CustomerIDsForAddress lists the customers linked to addr's account.
func (e *Engine) CustomerIDsForAddress(ctx context.Context, addr tari.Address) ([]string, error) {
	return e.strings(ctx, "SELECT customer_id FROM address_links WHERE account = ? ORDER BY customer_id", addr.AccountKey())
}

func (e *Engine) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	out := []string{}
	if err := e.db.NewRaw(q, args...).Scan(ctx, &out); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return out, nil
}

// addTo adds v to *sum, or fails with core.ErrAmountOverflow (D27).
func addTo(sum *core.MicroTari, v core.MicroTari) error {
	s, ok := core.AddMicroTari(*sum, v)
	if !ok {
		return core.ErrAmountOverflow
	}
	*sum = s
	return nil
}
