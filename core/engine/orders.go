package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
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
	if o.OrderID == "" {
		return nil, core.ErrInvalidOrder.With("empty order id")
	}
	if !core.ValidAmount(o.TotalPrice) {
		return nil, core.ErrInvalidAmount // D27: nothing is stored
	}
	// A memo holding a valid signature for this very order claims it. The
	// signature is checked before the transaction opens: no crypto inside it.
	var memoClaimant *tari.Address
	if o.Memo != nil {
		if sig, err := tari.ParseMemoSignature(*o.Memo); err == nil && sig.OrderID == o.OrderID && sig.Verify() {
			a := sig.ParsedAddress()
			memoClaimant = &a
		}
	}
	var out core.Order
	_, err := e.writeParallel(ctx, func(t *txn) error {
		created := o.CreatedAt.UTC().Truncate(time.Microsecond)
		if o.CreatedAt.IsZero() {
			created = t.now
		}
		ord := core.Order{OrderID: o.OrderID, AltID: o.AltID, CustomerID: o.CustomerID, Memo: o.Memo, TotalPrice: o.TotalPrice,
			OriginalPrice: o.OriginalPrice, Currency: o.Currency, CreatedAt: created, UpdatedAt: t.now,
			Status: core.OrderUnclaimed, AmountOutstanding: o.AmountOutstanding, StatusChangedAt: t.now}
		// DO NOTHING without a target covers order_id and alt_id: either one
		// already known means this delivery is a duplicate (D20). Without a
		// memo claimant, the auto-claim candidate is found with the insert
		// (one statement on PostgreSQL).
		autoClaim := memoClaimant == nil && e.cfg.AutoClaim
		var id int64
		var candidate string
		var err error
		if autoClaim {
			id, candidate, err = t.InsertOrderAutoClaim(&ord, t.autoClaimAltID(&ord))
		} else {
			id, err = t.InsertOrder(&ord)
		}
		ord.ID = id
		if errors.Is(err, sql.ErrNoRows) {
			return core.ErrOrderAlreadyExists
		}
		if err != nil {
			return err
		}
		if err := t.logOrder("insert", &ord); err != nil {
			return err
		}
		claimant := memoClaimant
		if claimant != nil {
			if err := t.claim(&ord, *claimant); err != nil {
				return err
			}
		}
		if err := t.emit(core.EventNewOrder, core.OrderEvent{Order: ord}); err != nil {
			return err
		}
		if autoClaim {
			a, err := autoClaimAddress(candidate)
			if err != nil {
				return err
			}
			if a != nil {
				claimant = a
				if err := t.claim(&ord, *a); err != nil {
					return err
				}
			}
		}
		if claimant != nil {
			paid, err := t.payFromAccount(claimant.AccountKey(), claimant.Base58(), []*core.Order{&ord}, 0, 0)
			if err != nil {
				return err
			}
			if err := t.emitPaid(paid.OrdersPaid); err != nil {
				return err
			}
		}
		out = ord
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ClaimOrder verifies a memo signature and claims its order for the signing
// address (engine.md §2.4.2): Unclaimed → New, the address's account is linked
// to the customer, then the order is paid from that account if it can be.
// Events: OrderClaimed → [OrderPaid]. Errors: core.ErrInvalidSignature, and
// core.ErrForbiddenChange for every order that is not Unclaimed, unknown ones
// included: the same refusal whether the order exists, is closed (D2) or was
// claimed by anyone (D26), so the route tells nothing about order numbers.
// Route: POST /order/claim.
func (e *Engine) ClaimOrder(ctx context.Context, sig tari.MemoSignature) (core.ClaimResult, error) {
	if !sig.Verify() {
		return core.ClaimResult{}, core.ErrInvalidSignature
	}
	addr := sig.ParsedAddress()
	var out core.Order
	_, err := e.write(ctx, func(t *txn) error {
		o, err := t.findOrder(sig.OrderID, e.cfg.StrictMode)
		if err != nil {
			return err
		}
		if o == nil {
			return core.ErrForbiddenChange // as for a claimed or closed order (D26)
		}
		if err := t.claim(o, addr); err != nil {
			return err
		}
		if err := t.emit(core.EventOrderClaimed, core.OrderClaimedEvent{Order: *o, Claimant: addr.Base58()}); err != nil {
			return err
		}
		paid, err := t.payFromAccount(addr.AccountKey(), addr.Base58(), []*core.Order{o}, 0, 0)
		if err != nil {
			return err
		}
		if err := t.emitPaid(paid.OrdersPaid); err != nil {
			return err
		}
		out = *o
		return nil
	})
	if err != nil {
		return core.ClaimResult{}, err
	}
	return core.ClaimResult{Order: out, ExpiresAt: e.OrderExpiresAt(out)}, nil
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
	var out core.Order
	_, err := e.write(ctx, func(t *txn) error {
		o, err := t.mustFindOrder(orderID)
		if err != nil {
			return err
		}
		if !o.Status.Open() {
			return core.ErrForbiddenChange
		}
		dummy := tari.DummyAddress(o.CustomerID)
		memo := "Credit note: Admin credit overrode for order " + o.OrderID + ". Reason: " + reason
		if _, err := t.insertCreditNote(o.CustomerID, dummy, o.TotalPrice, memo); err != nil {
			return err
		}
		if o.Status == core.OrderUnclaimed {
			if err := t.claim(o, dummy); err != nil {
				return err
			}
		}
		// The credit exists for this order: settle it from the dummy account
		// directly, whatever else that account holds.
		if _, err := t.settle(o, dummy.AccountKey(), dummy.Base58(), core.SettlementSingle, o.TotalPrice); err != nil {
			return err
		}
		if err := t.bumpExec(dummy.AccountKey(), dummy.Base58(), 0, o.TotalPrice, 0); err != nil {
			return err
		}
		if err := t.setStatus(o, core.OrderPaid, "fulfil"); err != nil {
			return err
		}
		out = *o
		return t.emit(core.EventOrderPaid, core.OrderEvent{Order: *o})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// CancelOrder cancels an open order, keeping its memo and storing reason in
// cancel_reason (D7). Events: OrderAnnulled. Errors: core.ErrOrderNotFound,
// core.ErrForbiddenChange unless New or Unclaimed. Route: POST /api/cancel.
func (e *Engine) CancelOrder(ctx context.Context, orderID, reason string) (*core.Order, error) {
	var out core.Order
	_, err := e.write(ctx, func(t *txn) error {
		o, err := t.mustFindOrder(orderID)
		if err != nil {
			return err
		}
		if !o.Status.Open() {
			return core.ErrForbiddenChange
		}
		if err := t.CancelOrder(o.ID, reason, t.now); err != nil {
			return err
		}
		o.Status, o.CancelReason, o.UpdatedAt, o.StatusChangedAt = core.OrderCancelled, &reason, t.now, t.now
		if err := t.logOrder("cancel", o); err != nil {
			return err
		}
		out = *o
		return t.emit(core.EventOrderAnnulled, core.OrderAnnulledEvent{Order: *o, Status: o.Status})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ResetOrder brings an Expired or Cancelled order back to New (by order_id
// only) and tries to pay it from its customer's accounts (engine.md §2.4.9,
// D19). Events: OrderModified("status") → NewOrder → [OrderPaid]. Errors:
// core.ErrOrderNotFound, core.ErrForbiddenChange. Route: PATCH /api/reset_order/{id}.
func (e *Engine) ResetOrder(ctx context.Context, orderID string) (core.OrderChanged, error) {
	var out core.OrderChanged
	_, err := e.write(ctx, func(t *txn) error {
		o, err := t.orderByOrderID(orderID)
		if err != nil {
			return err
		}
		if o == nil {
			return core.OrderNotFound(orderID)
		}
		if o.Status != core.OrderExpired && o.Status != core.OrderCancelled {
			return core.ErrForbiddenChange
		}
		old := *o
		if err := t.ReopenOrder(o.ID, t.now); err != nil {
			return err
		}
		o.Status, o.CancelReason, o.UpdatedAt, o.StatusChangedAt = core.OrderNew, nil, t.now, t.now
		if err := t.logOrder("reset", o); err != nil {
			return err
		}
		if err := t.emit(core.EventOrderModified, core.OrderModifiedEvent{FieldChanged: "status", Orders: core.OrderChanged{OldOrder: old, NewOrder: *o}}); err != nil {
			return err
		}
		if err := t.emit(core.EventNewOrder, core.OrderEvent{Order: *o}); err != nil {
			return err
		}
		paid, _, err := t.payFromCustomer(o, e.cfg.StrictMode)
		if err != nil {
			return err
		}
		if paid {
			if err := t.emit(core.EventOrderPaid, core.OrderEvent{Order: *o}); err != nil {
				return err
			}
		}
		out = core.OrderChanged{OldOrder: old, NewOrder: *o}
		return nil
	})
	return out, err
}

// ReassignOrder moves an unpaid order to another customer and, if it is New,
// tries to pay it from the new customer's accounts (engine.md §2.4.5). Events:
// OrderModified("customer_id") → [OrderPaid, only if it was paid (D6)].
// Errors: core.ErrOrderNotFound, core.ErrForbiddenChange (Paid),
// core.ErrNoOpChange (same customer). Route: PATCH /api/reassign_order.
func (e *Engine) ReassignOrder(ctx context.Context, orderID, newCustomerID, reason string) (core.OrderMovedResult, error) {
	var out core.OrderMovedResult
	_, err := e.write(ctx, func(t *txn) error {
		o, err := t.mustFindOrder(orderID)
		if err != nil {
			return err
		}
		if o.Status == core.OrderPaid {
			return core.ErrForbiddenChange
		}
		if o.CustomerID == newCustomerID {
			return core.ErrNoOpChange
		}
		old := *o
		if err := t.SetOrderCustomer(o.ID, newCustomerID, t.now); err != nil {
			return err
		}
		o.CustomerID, o.UpdatedAt = newCustomerID, t.now
		if err := t.logOrder("reassign", o); err != nil {
			return err
		}
		paid, sets := false, []core.SettlementJournalEntry{}
		if o.Status == core.OrderNew {
			var s []core.SettlementJournalEntry
			if paid, s, err = t.payFromCustomer(o, e.cfg.StrictMode); err != nil {
				return err
			}
			sets = append(sets, s...)
		}
		if err := t.emit(core.EventOrderModified, core.OrderModifiedEvent{FieldChanged: "customer_id", Orders: core.OrderChanged{OldOrder: old, NewOrder: *o}}); err != nil {
			return err
		}
		if paid {
			if err := t.emit(core.EventOrderPaid, core.OrderEvent{Order: *o}); err != nil {
				return err
			}
		}
		out = core.OrderMovedResult{Orders: core.OrderChanged{OldOrder: old, NewOrder: *o}, Settlements: sets}
		return nil
	})
	return out, err
}

// UpdateOrderMemo replaces an order's memo (any status; no matching runs, and
// the expiry clock is not reset, D14). Events: OrderModified("memo"). Errors:
// core.ErrOrderNotFound (D12). Route: PATCH /api/order_memo.
func (e *Engine) UpdateOrderMemo(ctx context.Context, orderID, memo, reason string) (*core.Order, error) {
	var out core.Order
	_, err := e.write(ctx, func(t *txn) error {
		o, err := t.mustFindOrder(orderID)
		if err != nil {
			return err
		}
		old := *o
		if err := t.SetOrderMemo(o.ID, memo, t.now); err != nil {
			return err
		}
		o.Memo, o.UpdatedAt = &memo, t.now
		if err := t.logOrder("memo", o); err != nil {
			return err
		}
		out = *o
		return t.emit(core.EventOrderModified, core.OrderModifiedEvent{FieldChanged: "memo", Orders: core.OrderChanged{OldOrder: old, NewOrder: *o}})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateOrderPrice changes the price of a New order and tries to pay it from
// its customer's accounts (engine.md §2.4.8). Events: [OrderPaid, once (D6)]
// → OrderModified("total_price"). Errors: core.ErrInvalidAmount (zero,
// negative or above the supply, D27), core.ErrOrderNotFound,
// core.ErrForbiddenChange (not New), core.ErrNoOpChange.
// Route: PATCH /api/order_price.
func (e *Engine) UpdateOrderPrice(ctx context.Context, orderID string, newPrice core.MicroTari, reason string) (*core.Order, error) {
	if !core.ValidAmount(newPrice) {
		return nil, core.ErrInvalidAmount
	}
	var out core.Order
	_, err := e.write(ctx, func(t *txn) error {
		o, err := t.mustFindOrder(orderID)
		if err != nil {
			return err
		}
		if o.Status != core.OrderNew {
			return core.ErrForbiddenChange
		}
		if o.TotalPrice == newPrice {
			return core.ErrNoOpChange
		}
		old := *o
		if err := t.SetOrderPrice(o.ID, newPrice, t.now); err != nil {
			return err
		}
		o.TotalPrice, o.UpdatedAt = newPrice, t.now
		if err := t.logOrder("price", o); err != nil {
			return err
		}
		paid, _, err := t.payFromCustomer(o, e.cfg.StrictMode)
		if err != nil {
			return err
		}
		if paid {
			if err := t.emit(core.EventOrderPaid, core.OrderEvent{Order: *o}); err != nil {
				return err
			}
		}
		out = *o
		return t.emit(core.EventOrderModified, core.OrderModifiedEvent{FieldChanged: "total_price", Orders: core.OrderChanged{OldOrder: old, NewOrder: *o}})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SettleCustomer tries to pay each open order of a customer (oldest first)
// from the pooled balances of its accounts, skipping unaffordable orders
// (engine.md §2.4.10, D4). Returns nil when nothing was paid. Events: OrderPaid
// per paid order. Route: POST /api/settle/customer/{cid}.
func (e *Engine) SettleCustomer(ctx context.Context, customerID string) (*core.MultiAccountPayment, error) {
	var out core.MultiAccountPayment
	_, err := e.write(ctx, func(t *txn) (err error) {
		out, err = t.settleCustomers([]string{customerID})
		return err
	})
	if err != nil || out.Empty() {
		return nil, err
	}
	return &out, nil
}

// SettleAddress settles every customer linked to addr's account. Returns nil
// when nothing was paid. Routes: POST /api/settle (caller's address),
// POST /api/settle/address/{address}.
func (e *Engine) SettleAddress(ctx context.Context, addr tari.Address) (*core.MultiAccountPayment, error) {
	var out core.MultiAccountPayment
	_, err := e.write(ctx, func(t *txn) error {
		cids, err := t.CustomersOf(addr.AccountKey())
		if err != nil {
			return err
		}
		out, err = t.settleCustomers(cids)
		return err
	})
	if err != nil || out.Empty() {
		return nil, err
	}
	return &out, nil
}

// ExpireOrders expires every Unclaimed order older than UnclaimedTimeout and
// every New order older than UnpaidTimeout, measured from when each entered
// its status (D14), in one transaction, emitting OrderAnnulled per order
// (unclaimed first). On PostgreSQL only one instance runs it at a time:
// if another holds the expiry lock the result has Skipped set.
func (e *Engine) ExpireOrders(ctx context.Context, now time.Time) (core.ExpiryResult, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var out core.ExpiryResult
	_, err := e.write(ctx, func(t *txn) error {
		t.now = now
		got, err := t.TryLock(expiryLockKey)
		if err != nil {
			return err
		}
		if !got {
			out.Skipped = true
			return nil
		}
		if out.Unclaimed, err = t.expire(core.OrderUnclaimed, now.Add(-e.cfg.UnclaimedTimeout)); err != nil {
			return err
		}
		if out.Unpaid, err = t.expire(core.OrderNew, now.Add(-e.cfg.UnpaidTimeout)); err != nil {
			return err
		}
		for _, list := range [][]core.Order{out.Unclaimed, out.Unpaid} {
			for i := range list {
				if err := t.emit(core.EventOrderAnnulled, core.OrderAnnulledEvent{Order: list[i], Status: core.OrderExpired}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// expiryLockKey makes one PostgreSQL instance at a time run ExpireOrders.
const expiryLockKey = 7302

// expire moves every order in status from whose clock started before cutoff
// to Expired, returning them by id.
func (t *txn) expire(from core.OrderStatus, cutoff time.Time) ([]core.Order, error) {
	orders, err := t.ExpireOrders(from, cutoff, t.now)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(orders, func(a, b core.Order) int { return int(a.ID - b.ID) })
	for i := range orders {
		if err := t.logOrder("expire", &orders[i]); err != nil {
			return nil, err
		}
	}
	return orders, nil
}

// autoClaimAltID is the alt id an auto-claim candidate's payments may name
// besides the order id (engine.md §2.4.1 step 5: only when not strict).
func (t *txn) autoClaimAltID(o *core.Order) *string {
	if t.e.cfg.StrictMode {
		return nil
	}
	return o.AltID
}

// autoClaimAddress parses the account the store picked to claim a new order
// for (engine.md §2.4.1 step 5: among accounts with a balance row, one whose
// payments name the order first, else one linked to the customer; the most
// recently active wins); nil when it found none.
func autoClaimAddress(address string) (*tari.Address, error) {
	if address == "" {
		return nil, nil
	}
	a, err := tari.ParseAddress(address)
	if err != nil {
		return nil, fmt.Errorf("stored address %q: %w", address, err)
	}
	return &a, nil
}

// settleCustomers tries every open order of each customer, oldest first, from
// the customer's pooled balances, skipping unaffordable ones, and emits
// OrderPaid per paid order.
func (t *txn) settleCustomers(cids []string) (core.MultiAccountPayment, error) {
	res := core.MultiAccountPayment{OrdersPaid: []core.Order{}, Settlements: []core.SettlementJournalEntry{}}
	for _, cid := range cids {
		orders, err := t.OpenOrdersOf(cid)
		if err != nil {
			return res, err
		}
		for i := range orders {
			o := &orders[i]
			paid, sets, err := t.payFromCustomer(o, t.e.cfg.StrictMode)
			if err != nil {
				return res, err
			}
			if paid {
				res.OrdersPaid = append(res.OrdersPaid, *o)
				res.Settlements = append(res.Settlements, sets...)
				if err := t.emit(core.EventOrderPaid, core.OrderEvent{Order: *o}); err != nil {
					return res, err
				}
			}
		}
	}
	return res, nil
}
