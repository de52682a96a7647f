package engine

import (
	"cmp"
	"slices"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store/enginestore"
	"github.com/tari-payment/tps/core/tari"
)

func utc(t time.Time) time.Time { return t.UTC() }

// orderByOrderID re-reads an order by its order_id inside the transaction.
func (t *txn) orderByOrderID(orderID string) (*core.Order, error) {
	return t.OrderByOrderID(orderID)
}

// findOrder applies the strict-mode lookup (engine.md §2.2): order_id only
// when strict, else order_id or alt_id with an order_id match winning.
func (t *txn) findOrder(id string, strict bool) (*core.Order, error) {
	if strict {
		return t.orderByOrderID(id)
	}
	return t.OrderByIDOrAlt(id)
}

// mustFindOrder is findOrder with the strict flag from configuration and a
// not-found error.
func (t *txn) mustFindOrder(id string) (*core.Order, error) {
	o, err := t.findOrder(id, t.e.cfg.StrictMode)
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, core.OrderNotFound(id)
	}
	return o, nil
}

// setStatus moves an order to a new status, restarting its expiry clock.
func (t *txn) setStatus(o *core.Order, s core.OrderStatus, op string) error {
	if err := t.SetOrderStatus(o.ID, s, t.now); err != nil {
		return err
	}
	o.Status, o.UpdatedAt, o.StatusChangedAt = s, t.now, t.now
	return t.logOrder(op, o)
}

// link associates an account with a customer (idempotent).
func (t *txn) link(addr tari.Address, customerID string) error {
	return t.Link(addr.AccountKey(), addr.Base58(), customerID, t.now)
}

// claim ties an Unclaimed order to addr's account: it becomes New (its unpaid
// clock starts now), remembers its claimant (the account that may see it,
// D26) and the account is linked to the customer. Any other status is refused
// (D2, D26: an order someone already claimed is moved only by an admin's
// reassign). Its own claimant may claim a New order again: nothing changes.
func (t *txn) claim(o *core.Order, addr tari.Address) error {
	if o.Status == core.OrderNew {
		// Its own claimant claiming again (an order auto-claimed for it, a
		// retried claim) changes nothing and succeeds; anyone else is refused.
		by, err := t.OrderClaimant(o.ID)
		if err != nil {
			return err
		}
		if by != nil && *by == addr.AccountKey() {
			return nil
		}
	}
	if o.Status != core.OrderUnclaimed {
		return core.ErrForbiddenChange
	}
	if err := t.ClaimOrder(o.ID, addr.AccountKey(), t.now); err != nil {
		return err
	}
	o.Status, o.UpdatedAt, o.StatusChangedAt = core.OrderNew, t.now, t.now
	if err := t.logOrder("claim", o); err != nil {
		return err
	}
	return t.link(addr, o.CustomerID)
}

// accountBalance is one row of account_balances.
type accountBalance enginestore.Balance

func (b accountBalance) current() core.MicroTari { return b.TotalConfirmed - b.TotalPaid }

func (b accountBalance) wire(address string) core.AddressBalance {
	return core.AddressBalance{Address: address, TotalConfirmed: b.TotalConfirmed, TotalPaid: b.TotalPaid,
		CurrentBalance: b.current(), LastUpdate: utc(b.LastUpdate), Pending: b.Pending}
}

// balance reads an account's row; ok is false when it has none.
func (t *txn) balance(account string) (b accountBalance, ok bool, err error) {
	if k, seen := t.balanceRows[account]; seen {
		if k == nil {
			return b, false, nil
		}
		return *k, true, nil
	}
	row, ok, err := t.Balance(account)
	if err != nil {
		return b, false, err
	}
	if !ok {
		t.sawBalance(account, nil, true)
		return b, false, nil
	}
	b = accountBalance(row)
	t.sawBalance(account, &b, true)
	return b, true, nil
}

// sawBalance remembers an account's balance row (nil: none) as read in this
// transaction, until bumpExec changes it. Where every read takes its row
// lock (PostgreSQL), only a row the read locked (locked, and it exists) is
// remembered: no other transaction can change it before this one ends, and
// this one changes it only through bumpExec. A row read without its lock
// must be read again (and locked) when it is needed, and a missing row may
// be inserted meanwhile, so neither is kept there.
func (t *txn) sawBalance(account string, b *accountBalance, locked bool) {
	if t.ReadsLock() && (!locked || b == nil) {
		return
	}
	if t.balanceRows == nil {
		t.balanceRows = map[string]*accountBalance{}
	}
	t.balanceRows[account] = b
}

// settle writes one settlement row.
func (t *txn) settle(o *core.Order, account, address string, typ core.SettlementType, amount core.MicroTari) (core.SettlementJournalEntry, error) {
	s := core.SettlementJournalEntry{CreatedAt: t.now, OrderID: o.OrderID, PaymentAddress: address, SettlementType: typ, Amount: amount, Account: account}
	id, err := t.InsertSettlement(s)
	s.ID = id
	return s, err
}

// payable lists the open orders of every customer linked to an account: New
// first, then Unclaimed, each by id (engine.md §3.4).
func (t *txn) payable(account string) ([]core.Order, error) {
	orders, row, err := t.Payable(account)
	if err != nil {
		return nil, err
	}
	if len(orders) > 0 {
		// Payable reads the balance row without locking it.
		if row == nil {
			t.sawBalance(account, nil, false)
		} else {
			b := accountBalance(*row)
			t.sawBalance(account, &b, false)
		}
	}
	slices.SortFunc(orders, func(a, b core.Order) int {
		if (a.Status == core.OrderNew) != (b.Status == core.OrderNew) {
			if a.Status == core.OrderNew {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return orders, nil
}

// payFromAccount is pay-from-address (engine.md §3.6.A): it pays orders in
// the given order from one account's balance, stopping at the first it cannot
// afford, and never takes the balance below zero. Closed orders are skipped.
// confirmed and pending are changes to the account's totals made by the
// caller's operation (a confirmation): they are applied in the same single
// balance write as the settlements.
func (t *txn) payFromAccount(account, address string, orders []*core.Order, confirmed, pending core.MicroTari) (core.MultiAccountPayment, error) {
	res := core.MultiAccountPayment{OrdersPaid: []core.Order{}, Settlements: []core.SettlementJournalEntry{}}
	var spent core.MicroTari
	if len(orders) > 0 {
		b, ok, err := t.balance(account)
		if err != nil {
			return res, err
		}
		if ok {
			address = b.Address
		}
		remaining := b.current() + confirmed
		for _, o := range orders {
			if !o.Status.Open() {
				continue
			}
			if o.TotalPrice > remaining {
				break
			}
			remaining -= o.TotalPrice
			spent += o.TotalPrice
			s, err := t.settle(o, account, address, core.SettlementSingle, o.TotalPrice)
			if err != nil {
				return res, err
			}
			if err := t.setStatus(o, core.OrderPaid, "paid"); err != nil {
				return res, err
			}
			res.OrdersPaid = append(res.OrdersPaid, *o)
			res.Settlements = append(res.Settlements, s)
		}
	}
	if confirmed != 0 || pending != 0 || len(res.OrdersPaid) > 0 {
		if err := t.bumpExec(account, address, confirmed, spent, pending); err != nil {
			return res, err
		}
	}
	return res, nil
}

// bumpExec adds to an account's running totals, creating its row on first use.
// Every total stays within ±core.MaxAccountTotal (D27): the bound is checked
// by the statement that adds, so an addition that would leave it matches no
// row and the operation fails with core.ErrAmountOverflow, changing nothing.
// The increments themselves are bounded first, so the SQL additions (integer
// on both databases) can never overflow: SQLite would silently turn the
// total into a REAL.
func (t *txn) bumpExec(account, address string, confirmed, paid, pending core.MicroTari) error {
	for _, d := range []core.MicroTari{confirmed, paid, pending} {
		if d > core.MaxAccountTotal || d < -core.MaxAccountTotal {
			return core.ErrAmountOverflow
		}
	}
	k, seen := t.balanceRows[account]
	delete(t.balanceRows, account)
	ok, err := t.BumpBalance(account, address, confirmed, paid, pending, core.MaxAccountTotal, seen && k != nil, t.now)
	if err != nil {
		return err
	}
	if !ok {
		return core.ErrAmountOverflow
	}
	return nil
}

// payFromCustomer is the customer-wide attempt (engine.md §3.6.B with D4):
// the balances of the accounts linked to the customer, plus those of accounts
// whose payments name the order (alt_id too only when not strict), each
// account once and only its positive part, are pooled; if they cover the
// price the order is paid from the largest balances first. It reports
// whether the order was paid.
func (t *txn) payFromCustomer(o *core.Order, strict bool) (bool, []core.SettlementJournalEntry, error) {
	if !o.Status.Open() {
		return false, nil, nil
	}
	var altID *string
	if !strict {
		altID = o.AltID
	}
	pool, err := t.PoolBalances(o.CustomerID, o.OrderID, altID)
	if err != nil {
		return false, nil, err
	}
	rows := make([]accountBalance, len(pool))
	for i, b := range pool {
		rows[i] = accountBalance(b)
	}
	if len(rows) == 0 {
		return false, nil, nil
	}
	// Summing stops once the price is covered: the price is at most the
	// supply and each balance within bounds, so the sum cannot overflow.
	var credit core.MicroTari
	for _, r := range rows {
		if c := r.current(); c > 0 && credit < o.TotalPrice {
			credit += c
		}
	}
	if o.TotalPrice > credit {
		return false, nil, nil
	}
	typ := core.SettlementMultiple
	if rows[0].current() >= o.TotalPrice {
		typ = core.SettlementSingle
	}
	due := o.TotalPrice
	var sets []core.SettlementJournalEntry
	for i, r := range rows {
		pay := min(max(r.current(), 0), due)
		if pay == 0 && i > 0 {
			break
		}
		s, err := t.settle(o, r.Account, r.Address, typ, pay)
		if err != nil {
			return false, nil, err
		}
		sets = append(sets, s)
		if pay != 0 {
			if err := t.bumpExec(r.Account, r.Address, 0, pay, 0); err != nil {
				return false, nil, err
			}
		}
		due -= pay
		if due == 0 {
			break
		}
	}
	if err := t.setStatus(o, core.OrderPaid, "paid"); err != nil {
		return false, nil, err
	}
	return true, sets, nil
}

// emitPaid emits OrderPaid for each order.
func (t *txn) emitPaid(orders []core.Order) error {
	for i := range orders {
		if err := t.emit(core.EventOrderPaid, core.OrderEvent{Order: orders[i]}); err != nil {
			return err
		}
	}
	return nil
}
