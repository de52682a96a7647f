package engine

import (
	"context"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// OrderByID returns the order whose order_id, or else alt_id, is id (an
// order_id match wins), or nil. Route: GET /api/order/id/{id} for read_all.
func (e *Engine) OrderByID(ctx context.Context, id string) (*core.Order, error) {
	return nil, errNotImplemented
}

// OrderForAddress returns the order with exactly this order_id if its customer
// is linked to addr's account, else nil (ids cannot be probed, D12). Route:
// GET /api/order/id/{id} for plain users.
func (e *Engine) OrderForAddress(ctx context.Context, addr tari.Address, orderID string) (*core.Order, error) {
	return nil, errNotImplemented
}

// OrdersForAddress lists the orders of every customer linked to addr's
// account (only New and Unclaimed when unfulfilledOnly), with their total.
// Routes: GET /api/orders[/{a}], GET /api/unfulfilled_orders[/{a}].
func (e *Engine) OrdersForAddress(ctx context.Context, addr tari.Address, unfulfilledOnly bool) (core.OrderResult, error) {
	return core.OrderResult{}, errNotImplemented
}

// PaymentsForAddress lists the payments sent by addr's account (any address
// form, D25), with the total of all of them. Route: GET /api/payments[/{a}].
func (e *Engine) PaymentsForAddress(ctx context.Context, addr tari.Address) (core.PaymentsResult, error) {
	return core.PaymentsResult{}, errNotImplemented
}

// PaymentsForOrder lists payments whose order_id is exactly orderID.
// Route: GET /api/payments-for-order/{order_id}.
func (e *Engine) PaymentsForOrder(ctx context.Context, orderID string) ([]core.Payment, error) {
	return nil, errNotImplemented
}

// AddressBalance is addr's account balance (zeros and last_update = now when
// unknown). Route: GET /api/balance[/{a}].
func (e *Engine) AddressBalance(ctx context.Context, addr tari.Address) (core.AddressBalance, error) {
	return core.AddressBalance{}, errNotImplemented
}

// CustomerBalance sums the balances of the accounts linked to a customer.
func (e *Engine) CustomerBalance(ctx context.Context, customerID string) (core.CustomerBalance, error) {
	return core.CustomerBalance{}, errNotImplemented
}

// CustomerOrderBalance sums a customer's order prices by status group.
func (e *Engine) CustomerOrderBalance(ctx context.Context, customerID string) (core.CustomerOrderBalance, error) {
	return core.CustomerOrderBalance{}, errNotImplemented
}

// AddressHistory is addr's balance, the orders of its linked customers, its
// payments and its settlements. Routes: GET /api/history,
// GET /api/history/address/{a}.
func (e *Engine) AddressHistory(ctx context.Context, addr tari.Address) (core.AddressHistory, error) {
	return core.AddressHistory{}, errNotImplemented
}

// CustomerHistory is a customer's balances, orders (oldest first) and the
// settlements of its Paid orders. An unknown customer gives empty values.
// Route: GET /api/history/customer/{cid}.
func (e *Engine) CustomerHistory(ctx context.Context, customerID string) (core.CustomerHistory, error) {
	return core.CustomerHistory{}, errNotImplemented
}

// SearchOrders returns the orders matching every given filter, oldest
// created_at first (D10). Route: GET /api/search/orders.
func (e *Engine) SearchOrders(ctx context.Context, q core.OrderQuery) ([]core.Order, error) {
	return nil, errNotImplemented
}

// OpenOrders lists every New and Unclaimed order, oldest first
// (POST /api/rescan_open_orders compares them with Shopify's open orders).
func (e *Engine) OpenOrders(ctx context.Context) ([]core.Order, error) {
	return nil, errNotImplemented
}

// Creditors lists customers with New orders and their total. Route: GET /api/creditors.
func (e *Engine) Creditors(ctx context.Context) ([]core.CustomerOrders, error) {
	return nil, errNotImplemented
}

// CustomerIDs lists distinct customer ids of orders, sorted. Route: GET /api/customer_ids.
func (e *Engine) CustomerIDs(ctx context.Context, p core.Page) ([]string, error) {
	return nil, errNotImplemented
}

// Addresses lists distinct payment senders (base58), sorted. Route: GET /api/addresses.
func (e *Engine) Addresses(ctx context.Context, p core.Page) ([]string, error) {
	return nil, errNotImplemented
}

// CustomerIDsForAddress lists the customers linked to addr's account.
func (e *Engine) CustomerIDsForAddress(ctx context.Context, addr tari.Address) ([]string, error) {
	return nil, errNotImplemented
}
