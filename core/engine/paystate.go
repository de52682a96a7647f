package engine

import (
	"context"
	"math"
	"time"

	"github.com/tari-payment/tps/core"
)

// PayProgress is how far a customer has got paying one order: what its pay
// page shows.
type PayProgress string

const (
	PayWaiting   PayProgress = "waiting"      // nothing received naming the order
	PaySeen      PayProgress = "payment_seen" // a payment naming it is received, not yet confirmed
	PayConfirmed PayProgress = "confirmed"    // confirmed payments name it, the order is not paid yet
	PayPaid      PayProgress = "paid"
	PayExpired   PayProgress = "expired"
	PayCancelled PayProgress = "cancelled"
)

// Final reports whether the progress can no longer change.
func (p PayProgress) Final() bool { return p == PayPaid || p == PayExpired || p == PayCancelled }

// OrderPayState is one order and the payments that name it (by order_id,
// as a payment id or a signed memo does), summed.
type OrderPayState struct {
	Order     core.Order
	Progress  PayProgress
	Received  core.MicroTari // naming the order, not yet confirmed
	Confirmed core.MicroTari // naming the order, confirmed
	// Due is what is still to pay: the price less what was received and
	// confirmed naming the order (zero once paid or closed).
	Due       core.MicroTari
	ExpiresAt time.Time // when an open order expires if nothing happens
}

// OrderPayState reads the order whose order_id is exactly orderID (never an
// alt_id) and the payments naming it; nil when there is none. Read-only.
func (e *Engine) OrderPayState(ctx context.Context, orderID string) (*OrderPayState, error) {
	o, err := e.reads.OrderByOrderID(ctx, orderID)
	if err != nil || o == nil {
		return nil, err
	}
	pays, err := e.PaymentsForOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	s := &OrderPayState{Order: *o, ExpiresAt: e.OrderExpiresAt(*o)}
	for _, p := range pays {
		switch p.Status {
		case core.PaymentReceived:
			s.Received = addCapped(s.Received, p.Amount)
		case core.PaymentConfirmed:
			s.Confirmed = addCapped(s.Confirmed, p.Amount)
		}
	}
	switch o.Status {
	case core.OrderPaid:
		s.Progress = PayPaid
	case core.OrderExpired:
		s.Progress = PayExpired
	case core.OrderCancelled:
		s.Progress = PayCancelled
	default:
		switch {
		case s.Received > 0:
			s.Progress = PaySeen
		case s.Confirmed > 0:
			s.Progress = PayConfirmed
		default:
			s.Progress = PayWaiting
		}
		if got := addCapped(s.Received, s.Confirmed); got < o.TotalPrice {
			s.Due = o.TotalPrice - got
		}
	}
	return s, nil
}

// addCapped adds two non-negative amounts for display, stopping at the
// largest amount instead of wrapping.
func addCapped(a, b core.MicroTari) core.MicroTari {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
