package engine

import (
	"context"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// IncomingPayment is a hot wallet's notification of a received transfer
// (its signature and nonce are checked by the caller, see UseWalletNonce).
type IncomingPayment struct {
	Sender  tari.Address
	Amount  core.MicroTari
	TxID    string
	Memo    *string
	OrderID *string // the wallet's payment id, trusted as the reference does
}

// ReceivePayment stores a payment as received (engine.md §3.2.2–§3.3). The
// order it names is resolved from the memo: a valid MemoSignature whose address
// is the sender's account (D3) names its order; otherwise, with
// DisableMemoSignatureCheck, the first "#?digits" in the memo does; otherwise
// the wallet's OrderID stands. A named open order is claimed for the sender;
// a closed one is left alone (D2) but the payment is still stored. Events:
// PaymentReceived. Errors: core.ErrPaymentAlreadyExists (nothing changes, D20),
// core.ErrInvalidAmount. Route: POST /wallet/incoming_payment.
func (e *Engine) ReceivePayment(ctx context.Context, p IncomingPayment) (*core.Payment, error) {
	return nil, errNotImplemented
}

// ConfirmPayment moves a received payment to confirmed, then pays the sender
// account's payable orders (New first, then Unclaimed, by id; stopping at the
// first it cannot afford) from that account alone (engine.md §3.4). Events:
// OrderPaid × n → PaymentConfirmed. Errors: core.ErrPaymentNotFound,
// core.ErrPaymentAlreadyConfirmed, core.ErrPaymentStatusForbidden.
// Route: POST /wallet/tx_confirmation.
func (e *Engine) ConfirmPayment(ctx context.Context, txid string) (core.ConfirmResult, error) {
	return core.ConfirmResult{}, errNotImplemented
}

// CancelPayment moves a received payment to cancelled (no event, no route).
func (e *Engine) CancelPayment(ctx context.Context, txid string) (*core.Payment, error) {
	return nil, errNotImplemented
}

// IssueCreditNote credits (or, with a negative amount, debits) a customer
// through a confirmed manual payment from its dummy address, then tries to pay
// the customer's open orders from its pooled balances (engine.md §3.7).
// Transaction ids are unique even for identical notes (D11). Events:
// PaymentReceived → OrderPaid × n → PaymentConfirmed. Route: POST /api/credit.
func (e *Engine) IssueCreditNote(ctx context.Context, customerID string, amount core.MicroTari, reason *string) (core.MultiAccountPayment, error) {
	return core.MultiAccountPayment{}, errNotImplemented
}
