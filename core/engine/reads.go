package engine

import (
	"context"
	"slices"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// OrderByID returns the order whose order_id, or else alt_id, is id (an
// order_id match wins), or nil. Route: GET /api/order/id/{id} for read_all.
func (e *Engine) OrderByID(ctx context.Context, id string) (*core.Order, error) {
	return e.reads.OrderByIDOrAlt(ctx, id)
}

// OrderByIDStrict is OrderByID under strict mode (D5): with strict mode on only
// order_id matches, else alt_id too. Route: GET /api/order/id/{id} for read_all.
func (e *Engine) OrderByIDStrict(ctx context.Context, id string) (*core.Order, error) {
	if e.cfg.StrictMode {
		return e.reads.OrderByOrderID(ctx, id)
	}
	return e.OrderByID(ctx, id)
}

// OrderForAddress returns the order with exactly this order_id if addr's
// account may see it (D26: it claimed, paid or named it), else nil (ids
// cannot be probed, D12). Route: GET /api/order/id/{id} for plain users.
func (e *Engine) OrderForAddress(ctx context.Context, addr tari.Address, orderID string) (*core.Order, error) {
	return e.reads.OwnOrder(ctx, addr.AccountKey(), orderID, e.cfg.StrictMode)
}

// OwnOrders lists the orders addr's account may see as a plain user (D26:
// those it claimed, paid or named in a payment; only New and Unclaimed when
// unfulfilledOnly), with their total. Routes: GET /api/orders,
// GET /api/unfulfilled_orders for a caller without read_all.
func (e *Engine) OwnOrders(ctx context.Context, addr tari.Address, unfulfilledOnly bool) (core.OrderResult, error) {
	orders, err := e.reads.OwnOrders(ctx, addr.AccountKey(), e.cfg.StrictMode, unfulfilledOnly)
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
	orders, err := e.reads.LinkedOrders(ctx, addr.AccountKey(), unfulfilledOnly)
	if err != nil {
		return core.OrderResult{}, err
	}
	return orderResult(addr, orders)
}

// PaymentsForAddress lists the payments sent by addr's account (any address
// form, D25), with the total of all of them. Route: GET /api/payments[/{a}].
func (e *Engine) PaymentsForAddress(ctx context.Context, addr tari.Address) (core.PaymentsResult, error) {
	ps, err := e.reads.PaymentsByAccount(ctx, addr.AccountKey())
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
	return e.reads.PaymentsForOrder(ctx, orderID)
}

// AddressBalance is addr's account balance (zeros and last_update = now when
// unknown). Route: GET /api/balance[/{a}].
func (e *Engine) AddressBalance(ctx context.Context, addr tari.Address) (core.AddressBalance, error) {
	b, ok, err := e.reads.Balance(ctx, addr.AccountKey())
	if err != nil {
		return core.AddressBalance{}, err
	}
	if !ok {
		return core.AddressBalance{Address: addr.Base58(), LastUpdate: e.now()}, nil
	}
	return accountBalance(b).wire(addr.Base58()), nil
}

// CustomerBalance sums the balances of the accounts linked to a customer.
func (e *Engine) CustomerBalance(ctx context.Context, customerID string) (core.CustomerBalance, error) {
	rows, err := e.reads.CustomerBalances(ctx, customerID)
	if err != nil {
		return core.CustomerBalance{}, err
	}
	res := core.CustomerBalance{Addresses: []core.AddressBalance{}}
	for _, row := range rows {
		r := accountBalance(row)
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
	rows, err := e.reads.CustomerOrderPrices(ctx, customerID)
	if err != nil {
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
	sets, err := e.reads.AccountSettlements(ctx, addr.AccountKey())
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
	orders, err := e.reads.CustomerOrders(ctx, customerID)
	if err != nil {
		return core.CustomerHistory{}, err
	}
	sets, err := e.reads.CustomerSettlements(ctx, customerID)
	if err != nil {
		return core.CustomerHistory{}, err
	}
	return core.CustomerHistory{CustomerID: customerID, Balance: bal, OrderBalance: ob, Orders: orders, Settlements: sets}, nil
}

// SearchOrders returns the orders matching every given filter, oldest
// created_at first (D10). Route: GET /api/search/orders.
func (e *Engine) SearchOrders(ctx context.Context, q core.OrderQuery) ([]core.Order, error) {
	return e.reads.SearchOrders(ctx, q)
}

// OpenOrders lists every New and Unclaimed order, oldest first
// (POST /api/rescan_open_orders compares them with Shopify's open orders).
func (e *Engine) OpenOrders(ctx context.Context) ([]core.Order, error) {
	return e.reads.OpenOrders(ctx)
}

// Creditors lists customers with New orders and their total. Route: GET /api/creditors.
func (e *Engine) Creditors(ctx context.Context) ([]core.CustomerOrders, error) {
	out := []core.CustomerOrders{}
	// Summed here with overflow checks (see CustomerOrderBalance).
	rows, err := e.reads.NewOrderPrices(ctx)
	if err != nil {
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
	return e.reads.CustomerIDs(ctx, p)
}

// Addresses lists distinct payment senders (base58), sorted. Route: GET /api/addresses.
func (e *Engine) Addresses(ctx context.Context, p core.Page) ([]string, error) {
	return e.reads.Senders(ctx, p)
}

// CustomerIDsForAddress lists the customers linked to addr's account.
func (e *Engine) CustomerIDsForAddress(ctx context.Context, addr tari.Address) ([]string, error) {
	return e.reads.LinkedCustomers(ctx, addr.AccountKey())
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
