package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"

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
// core.ErrInvalidAmount (zero, negative or above the supply, D27: so a 0 µT
// payment can never link its sender to an order), core.ErrAmountOverflow.
// Route: POST /wallet/incoming_payment.
func (e *Engine) ReceivePayment(ctx context.Context, p IncomingPayment) (*core.Payment, error) {
	if !core.ValidAmount(p.Amount) {
		return nil, core.ErrInvalidAmount
	}
	orderID := e.resolveOrderID(p)
	pay := core.Payment{TxID: p.TxID, Sender: p.Sender.Base58(), SenderAccount: p.Sender.AccountKey(), Amount: p.Amount, Memo: p.Memo,
		PaymentType: core.PaymentOnChain, Status: core.PaymentReceived, OrderID: orderID}
	_, err := e.writeParallel(ctx, func(t *txn) error {
		pay.CreatedAt, pay.UpdatedAt = t.now, t.now
		if err := t.insertPayment(&pay); err != nil {
			return err
		}
		if err := t.bumpExec(pay.SenderAccount, pay.Sender, 0, 0, pay.Amount); err != nil {
			return err
		}
		if orderID != nil {
			o, err := t.findOrder(*orderID, e.cfg.StrictMode)
			if err != nil {
				return err
			}
			// An unknown order may arrive later (auto-claim then finds this
			// payment); a closed one is never revived (D2). Either way the
			// payment itself is kept. An Unclaimed order is claimed for the
			// sender; an order someone already claimed is not taken over
			// (D26), but the sender's account is linked to its customer so
			// the money it sent still pays for it (who pays what is unchanged).
			switch {
			case o == nil || !o.Status.Open():
			case o.Status == core.OrderUnclaimed:
				if err := t.claim(o, p.Sender); err != nil {
					return err
				}
			default:
				if err := t.link(p.Sender, o.CustomerID); err != nil {
					return err
				}
			}
		}
		return t.emit(core.EventPaymentReceived, core.PaymentEvent{Payment: pay})
	})
	if err != nil {
		return nil, err
	}
	return &pay, nil
}

// ConfirmPayment moves a received payment to confirmed, then pays the sender
// account's payable orders (New first, then Unclaimed, by id; stopping at the
// first it cannot afford) from that account alone (engine.md §3.4). An open
// order the payment names (its payment id, or a signed memo) comes first,
// whoever claimed it: a payment to an order's payment-id address pays that
// order, claimed or not, as a claimed order is paid. Events:
// OrderPaid × n → PaymentConfirmed. Errors: core.ErrPaymentNotFound,
// core.ErrPaymentAlreadyConfirmed, core.ErrPaymentStatusForbidden.
// Route: POST /wallet/tx_confirmation.
func (e *Engine) ConfirmPayment(ctx context.Context, txid string) (core.ConfirmResult, error) {
	var out core.ConfirmResult
	_, err := e.writeParallel(ctx, func(t *txn) error {
		p, err := t.leaveReceived(txid, core.PaymentConfirmed, "confirm")
		if err != nil {
			return err
		}
		// A parallel write (where reads lock, PostgreSQL): the sender's
		// balance row is locked before its payable orders are listed, so a
		// write that links the account to more orders and pays from it (a
		// claim in NewOrder or ReceivePayment, which lock the same row)
		// either committed before the list is read or waits for this commit
		// and then sees the new balance: an affordable order is paid one way
		// or the other.
		if t.ReadsLock() {
			if _, _, err := t.balance(p.SenderAccount); err != nil {
				return err
			}
		}
		ptrs, err := t.payableForPayment(p)
		if err != nil {
			return err
		}
		// The amount moves from pending to confirmed in the same balance
		// write as the settlements it pays for.
		paid, err := t.payFromAccount(p.SenderAccount, p.Sender, ptrs, p.Amount, -p.Amount)
		if err != nil {
			return err
		}
		if err := t.emitPaid(paid.OrdersPaid); err != nil {
			return err
		}
		out = core.ConfirmResult{Payment: *p, Paid: paid}
		return t.emit(core.EventPaymentConfirmed, core.PaymentEvent{Payment: *p})
	})
	return out, err
}

// payableForPayment is the order in which a confirmed payment pays: the open
// order it names first (claimed by anyone, or by no one), then the sender
// account's payable orders as payable lists them.
func (t *txn) payableForPayment(p *core.Payment) ([]*core.Order, error) {
	orders, err := t.payable(p.SenderAccount)
	if err != nil {
		return nil, err
	}
	ptrs := make([]*core.Order, 0, len(orders)+1)
	var named *core.Order
	if p.OrderID != nil && p.PaymentType == core.PaymentOnChain {
		if named, err = t.findOrder(*p.OrderID, t.e.cfg.StrictMode); err != nil {
			return nil, err
		}
		if named != nil && named.Status.Open() {
			ptrs = append(ptrs, named)
		} else {
			named = nil
		}
	}
	for i := range orders {
		if named == nil || orders[i].ID != named.ID {
			ptrs = append(ptrs, &orders[i])
		}
	}
	return ptrs, nil
}

// CancelPayment moves a received payment to cancelled (no event, no route).
func (e *Engine) CancelPayment(ctx context.Context, txid string) (*core.Payment, error) {
	var out core.Payment
	_, err := e.write(ctx, func(t *txn) error {
		p, err := t.leaveReceived(txid, core.PaymentCancelled, "cancel")
		if err != nil {
			return err
		}
		if err := t.bumpExec(p.SenderAccount, p.Sender, 0, 0, -p.Amount); err != nil {
			return err
		}
		out = *p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// IssueCreditNote credits (or, with a negative amount, debits) a customer
// through a confirmed manual payment from its dummy address, then tries to pay
// the customer's open orders from its pooled balances (engine.md §3.7).
// Transaction ids are unique even for identical notes (D11). Events:
// PaymentReceived → OrderPaid × n → PaymentConfirmed. Errors:
// core.ErrInvalidAmount (zero, negative or above the supply, D27),
// core.ErrAmountOverflow. Route: POST /api/credit.
func (e *Engine) IssueCreditNote(ctx context.Context, customerID string, amount core.MicroTari, reason *string) (core.MultiAccountPayment, error) {
	if !core.ValidAmount(amount) {
		return core.MultiAccountPayment{OrdersPaid: []core.Order{}, Settlements: []core.SettlementJournalEntry{}}, core.ErrInvalidAmount
	}
	memo := "Credit note: No reason given"
	if reason != nil {
		memo = "Credit note: " + *reason
	}
	dummy := tari.DummyAddress(customerID)
	res := core.MultiAccountPayment{OrdersPaid: []core.Order{}, Settlements: []core.SettlementJournalEntry{}}
	_, err := e.write(ctx, func(t *txn) error {
		p, err := t.insertCreditNote(customerID, dummy, amount, memo)
		if err != nil {
			return err
		}
		if err := t.emit(core.EventPaymentReceived, core.PaymentEvent{Payment: *p}); err != nil {
			return err
		}
		orders, err := t.payable(p.SenderAccount)
		if err != nil {
			return err
		}
		for i := range orders {
			o := &orders[i]
			paid, sets, err := t.payFromCustomer(o, e.cfg.StrictMode)
			if err != nil {
				return err
			}
			if paid {
				res.OrdersPaid = append(res.OrdersPaid, *o)
				res.Settlements = append(res.Settlements, sets...)
				if err := t.emit(core.EventOrderPaid, core.OrderEvent{Order: *o}); err != nil {
					return err
				}
			}
		}
		return t.emit(core.EventPaymentConfirmed, core.PaymentEvent{Payment: *p})
	})
	if err != nil {
		return core.MultiAccountPayment{OrdersPaid: []core.Order{}, Settlements: []core.SettlementJournalEntry{}}, err
	}
	return res, nil
}

// resolveOrderID works out which order a payment names (engine.md §3.2.2
// with D3): a valid memo signature by the sender's own wallet names its order;
// otherwise, when memo signatures are not required, the first "#?digits" of
// a plain memo does; otherwise the wallet's order id stands.
func (e *Engine) resolveOrderID(p IncomingPayment) *string {
	if p.Memo == nil {
		return p.OrderID
	}
	if sig, err := tari.ParseMemoSignature(*p.Memo); err == nil {
		if sig.Verify() && sig.ParsedAddress().SameAccount(p.Sender) {
			id := sig.OrderID
			return &id
		}
		return p.OrderID
	}
	if !e.cfg.DisableMemoSignatureCheck {
		return p.OrderID
	}
	m := memoDigits.FindStringSubmatch(*p.Memo)
	if m == nil {
		return p.OrderID
	}
	id := m[1]
	if e.cfg.OrderIDField == OrderIDFieldName {
		id = "#" + id
	}
	return &id
}

var memoDigits = regexp.MustCompile(`#?([0-9]+)`)

// insertPayment stores a new payment and its audit row; a known txid is
// core.ErrPaymentAlreadyExists.
func (t *txn) insertPayment(p *core.Payment) error {
	added, err := t.InsertPayment(p)
	if err != nil {
		return err
	}
	if !added {
		return core.ErrPaymentAlreadyExists
	}
	return t.logPayment("insert", p)
}

// insertCreditNote stores a confirmed manual payment from the customer's
// dummy address, links the dummy to the customer and credits its account.
func (t *txn) insertCreditNote(customerID string, dummy tari.Address, amount core.MicroTari, memo string) (*core.Payment, error) {
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	// The reference's id plus a random suffix: identical notes in one second
	// stay distinct (D11).
	txid := fmt.Sprintf("credit_note_%s:%s:%d:%s", customerID, amount, t.now.Unix(), hex.EncodeToString(rnd[:]))
	p := &core.Payment{TxID: txid, CreatedAt: t.now, UpdatedAt: t.now, Sender: dummy.Base58(), SenderAccount: dummy.AccountKey(),
		Amount: amount, Memo: &memo, PaymentType: core.PaymentManual, Status: core.PaymentConfirmed}
	if err := t.insertPayment(p); err != nil {
		return nil, err
	}
	if err := t.link(dummy, customerID); err != nil {
		return nil, err
	}
	if err := t.bumpExec(p.SenderAccount, p.Sender, amount, 0, 0); err != nil {
		return nil, err
	}
	return p, nil
}

// leaveReceived moves a received payment to status (one conditional UPDATE,
// so two confirmations of one payment can never both succeed) and writes its
// audit row. When nothing matched it works out why.
func (t *txn) leaveReceived(txid string, to core.PaymentStatus, op string) (*core.Payment, error) {
	p, err := t.LeaveReceived(txid, to, t.now)
	if errors.Is(err, sql.ErrNoRows) {
		switch cur, err := t.PaymentStatus(txid); {
		case errors.Is(err, sql.ErrNoRows):
			return nil, core.ErrPaymentNotFound
		case err != nil:
			return nil, err
		case cur == to && to == core.PaymentConfirmed:
			return nil, core.ErrPaymentAlreadyConfirmed
		default:
			return nil, core.ErrPaymentStatusForbidden
		}
	}
	if err != nil {
		return nil, err
	}
	return &p, t.logPayment(op, &p)
}
