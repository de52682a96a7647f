package engine

import (
	"context"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// NewOrder is an order arriving from the storefront (Shopify checkout_create
// webhook, admin rescan). Memo may hold a MemoSignature JSON claiming the order.
type NewOrder struct {
	OrderID           string
	AltID             *string
	CustomerID        string
	Memo              *string
	TotalPrice        core.MicroTari
	OriginalPrice     *string
	Currency          string
	CreatedAt         time.Time
	AmountOutstanding *string
}

// NewOrder stores an order (engine.md §2.4.1). If its memo is a valid
// MemoSignature for this order_id the order is claimed for that address and
// paid from its balance if possible; otherwise, with AutoClaim, it is claimed
// for the best funded account (one that paid naming this order, else one linked
// to the customer) and paid from it. Events: NewOrder → [OrderPaid]. A known
// order_id (or alt_id) gives core.ErrOrderAlreadyExists and changes nothing
// (D20). Route: POST /shopify/webhook/checkout_create, POST /api/rescan_open_orders.
func (e *Engine) NewOrder(ctx context.Context, o NewOrder) (*core.Order, error) {
	return nil, errNotImplemented
}

// ClaimOrder verifies a memo signature and claims its order for the signing
// address (engine.md §2.4.2): Unclaimed → New, the address's account is linked
// to the customer, then the order is paid from that account if it can be.
// Events: OrderClaimed → [OrderPaid]. Errors: core.ErrInvalidSignature,
// core.ErrOrderNotFound, core.ErrForbiddenChange for Paid/Expired/Cancelled
// orders (D2). Route: POST /order/claim.
func (e *Engine) ClaimOrder(ctx context.Context, sig tari.MemoSignature) (core.ClaimResult, error) {
	return core.ClaimResult{}, errNotImplemented
}

// OrderExpiresAt is when o expires if nothing happens: entry into its current
// status plus the configured timeout (D13, D14); for closed orders, updated_at.
func (e *Engine) OrderExpiresAt(o core.Order) time.Time {
	switch o.Status {
	case core.OrderUnclaimed:
		return o.StatusChangedAt.Add(e.cfg.UnclaimedTimeout)
	case core.OrderNew:
		return o.StatusChangedAt.Add(e.cfg.UnpaidTimeout)
	}
	return o.UpdatedAt
}

// FulfilOrder marks an open order paid by hand (engine.md §2.4.4): a credit
// note for its price from the customer's dummy address, then payment from that
// address. Events: OrderPaid. Errors: core.ErrOrderNotFound (D12),
// core.ErrForbiddenChange unless New or Unclaimed. Route: POST /api/fulfill.
func (e *Engine) FulfilOrder(ctx context.Context, orderID, reason string) (*core.Order, error) {
	return nil, errNotImplemented
}

// CancelOrder cancels an open order, keeping its memo and storing reason in
// cancel_reason (D7). Events: OrderAnnulled. Errors: core.ErrOrderNotFound,
// core.ErrForbiddenChange unless New or Unclaimed. Route: POST /api/cancel.
func (e *Engine) CancelOrder(ctx context.Context, orderID, reason string) (*core.Order, error) {
	return nil, errNotImplemented
}

// ResetOrder brings an Expired or Cancelled order back to New (by order_id
// only) and tries to pay it from its customer's accounts (engine.md §2.4.9,
// D19). Events: OrderModified("status") → NewOrder → [OrderPaid]. Errors:
// core.ErrOrderNotFound, core.ErrForbiddenChange. Route: PATCH /api/reset_order/{id}.
func (e *Engine) ResetOrder(ctx context.Context, orderID string) (core.OrderChanged, error) {
	return core.OrderChanged{}, errNotImplemented
}

// ReassignOrder moves an unpaid order to another customer and, if it is New,
// tries to pay it from the new customer's accounts (engine.md §2.4.5). Events:
// OrderModified("customer_id") → [OrderPaid, only if it was paid (D6)].
// Errors: core.ErrOrderNotFound, core.ErrForbiddenChange (Paid),
// core.ErrNoOpChange (same customer). Route: PATCH /api/reassign_order.
func (e *Engine) ReassignOrder(ctx context.Context, orderID, newCustomerID, reason string) (core.OrderMovedResult, error) {
	return core.OrderMovedResult{}, errNotImplemented
}

// UpdateOrderMemo replaces an order's memo (any status; no matching runs, and
// the expiry clock is not reset, D14). Events: OrderModified("memo"). Errors:
// core.ErrOrderNotFound (D12). Route: PATCH /api/order_memo.
func (e *Engine) UpdateOrderMemo(ctx context.Context, orderID, memo, reason string) (*core.Order, error) {
	return nil, errNotImplemented
}

// UpdateOrderPrice changes the price of a New order and tries to pay it from
// its customer's accounts (engine.md §2.4.8). A price of 0 pays it at once if
// the customer has an account. Events: [OrderPaid, once (D6)] →
// OrderModified("total_price"). Errors: core.ErrOrderNotFound,
// core.ErrForbiddenChange (negative price, not New), core.ErrNoOpChange.
// Route: PATCH /api/order_price.
func (e *Engine) UpdateOrderPrice(ctx context.Context, orderID string, newPrice core.MicroTari, reason string) (*core.Order, error) {
	return nil, errNotImplemented
}

// SettleCustomer tries to pay each open order of a customer (oldest first)
// from the pooled balances of its accounts, skipping unaffordable orders
// (engine.md §2.4.10, D4). Returns nil when nothing was paid. Events: OrderPaid
// per paid order. Route: POST /api/settle/customer/{cid}.
func (e *Engine) SettleCustomer(ctx context.Context, customerID string) (*core.MultiAccountPayment, error) {
	return nil, errNotImplemented
}

// SettleAddress settles every customer linked to addr's account. Returns nil
// when nothing was paid. Routes: POST /api/settle (caller's address),
// POST /api/settle/address/{address}.
func (e *Engine) SettleAddress(ctx context.Context, addr tari.Address) (*core.MultiAccountPayment, error) {
	return nil, errNotImplemented
}

// ExpireOrders expires every Unclaimed order older than UnclaimedTimeout and
// every New order older than UnpaidTimeout, measured from when each entered
// its status (D14), in one transaction, emitting OrderAnnulled per order
// (unclaimed first). On PostgreSQL only one instance runs it at a time:
// if another holds the expiry lock the result has Skipped set.
func (e *Engine) ExpireOrders(ctx context.Context, now time.Time) (core.ExpiryResult, error) {
	return core.ExpiryResult{}, errNotImplemented
}
