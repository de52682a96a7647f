package engine_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
)

// D27: what is not money is refused at every entry point and stores nothing.
func TestAmountsAreMoney(t *testing.T) {
	bad := []core.MicroTari{0, -1, -5_000_000, core.MaxSupply + 1, math.MaxInt64, math.MinInt64}
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		for i, a := range bad {
			_, err := x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: fmt.Sprint("bad", i), CustomerID: "c", TotalPrice: a, Currency: "XTR"})
			wantErr(t, err, core.ErrInvalidAmount)
			_, err = x.e.ReceivePayment(x.ctx, engine.IncomingPayment{Sender: w.addr, Amount: a, TxID: fmt.Sprint("tx", i), OrderID: ptr("o")})
			wantErr(t, err, core.ErrInvalidAmount)
			_, err = x.e.IssueCreditNote(x.ctx, "c", a, nil)
			wantErr(t, err, core.ErrInvalidAmount)
			_, err = x.e.SetExchangeRate(x.ctx, "EUR", a)
			wantErr(t, err, core.ErrInvalidPrice)
		}
		for _, q := range []string{"SELECT COUNT(*) FROM orders", "SELECT COUNT(*) FROM payments", "SELECT COUNT(*) FROM exchange_rates",
			"SELECT COUNT(*) FROM account_balances", "SELECT COUNT(*) FROM address_links", "SELECT COUNT(*) FROM events"} {
			var n int
			if err := x.db.NewRaw(q).Scan(x.ctx, &n); err != nil || n != 0 {
				t.Fatalf("%s = %d (%v): a refused amount stored something", q, n, err)
			}
		}
		// The edge itself is money.
		x.order("max", "c", core.MaxSupply)
		x.receive(w.addr, "max", core.MaxSupply, nil)
	})
}

// D27: no sum can take an account out of bounds. Two payments of 2^63-1 µT
// made an account unreadable on the reference (SQLite stored a REAL); here
// amounts are bounded, and a total that would leave ±MaxAccountTotal is
// refused by the statement that adds, on both databases, changing nothing.
func TestAccountTotalsCannotOverflow(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.pay(w.addr, "t1", core.MaxSupply)
		// Bring the account to its bound as if by a century of payments
		// (through the payments too, so the invariants still hold).
		near := core.MaxAccountTotal - core.MaxSupply/2
		if _, err := x.db.ExecContext(x.ctx, "UPDATE payments SET amount = ? WHERE txid = 't1'", int64(near)); err != nil {
			t.Fatal(err)
		}
		if _, err := x.db.ExecContext(x.ctx, "UPDATE account_balances SET total_confirmed = ?", int64(near)); err != nil {
			t.Fatal(err)
		}
		x.skipCheck = true // the payment above is not money on its own
		seq := x.lastSeq()
		x.receive(w.addr, "t2", core.MaxSupply, nil) // pending is far from its bound
		_, err := x.e.ConfirmPayment(x.ctx, "t2")
		wantErr(t, err, core.ErrAmountOverflow)
		if p, _ := x.e.PaymentsForAddress(x.ctx, w.addr); p.Payments[1].Status != core.PaymentReceived {
			t.Fatalf("refused confirmation changed the payment: %+v", p.Payments[1])
		}
		b := x.balance(w.addr)
		if b.TotalConfirmed != near || b.Pending != core.MaxSupply {
			t.Fatalf("balance = %+v", b)
		}
		if types := x.eventTypesAfter(seq); len(types) != 1 { // PaymentReceived only
			t.Fatalf("events after the refusal: %v", types)
		}
		// The account stays readable.
		if _, err := x.e.AddressHistory(x.ctx, w.addr); err != nil {
			t.Fatal(err)
		}
	})
}

// D27: login nonces above 2^63-1 are refused (the reference stored
// 2^64-1 as -1, so nonce 0 logged in again).
func TestLoginNonceAboveInt64Refused(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		for _, n := range []uint64{math.MaxUint64, math.MaxInt64 + 1} {
			_, err := x.e.Login(x.ctx, w.addr, n, []core.Role{core.RoleUser})
			wantErr(t, err, core.ErrInvalidNonce)
		}
		if _, err := x.e.Login(x.ctx, w.addr, math.MaxInt64, nil); err != nil {
			t.Fatal(err)
		}
		_, err := x.e.Login(x.ctx, w.addr, 0, nil)
		wantErr(t, err, core.ErrInvalidNonce)
	})
}

// FuzzEngineAmounts feeds extreme amounts through every engine entry point
// that takes one, in sequences the fuzzer chooses, on one SQLite database per
// worker, and checks the database invariants (test/dbcheck, D27 included)
// after each input. Refusals are fine; anything but a business refusal, or a
// broken invariant, fails.
func FuzzEngineAmounts(f *testing.F) {
	f.Add([]byte{0, 3, 1, 4, 2, 4, 3, 0})
	f.Add([]byte{1, 5, 1, 5, 2, 0, 2, 1, 3, 7, 4, 6})
	f.Add([]byte{0, 8, 1, 8, 1, 8, 2, 0, 2, 1, 2, 2, 5, 8, 6, 3})
	db := storetest.SQLite(f)
	var cfg engine.Config = engine.DefaultConfig()
	e := engine.New(db, cfg)
	wallets := []wallet{newWallet(), newWallet()}
	round := 0
	f.Fuzz(func(t *testing.T, ops []byte) {
		round++
		ctx := t.Context()
		if len(ops) > 64 {
			ops = ops[:64]
		}
		amount := func(b byte, rest []byte) core.MicroTari {
			extremes := []core.MicroTari{0, -1, 1, core.MaxSupply, core.MaxSupply + 1, math.MaxInt64, math.MinInt64,
				core.MaxAccountTotal, core.MaxSupply / 3, core.MaxSupply - 1}
			if int(b) < len(extremes) {
				return extremes[b]
			}
			if len(rest) >= 8 {
				return core.MicroTari(binary.LittleEndian.Uint64(rest))
			}
			return core.MicroTari(b) * 1_000_003
		}
		for i := 0; i+1 < len(ops); i += 2 {
			op, a := ops[i], amount(ops[i+1]%16, ops[i+1:])
			w := wallets[int(op>>4)%len(wallets)]
			id := fmt.Sprintf("r%d-o%d", round, i/2%4)
			txid := fmt.Sprintf("r%d-t%d", round, i/2%4)
			var err error
			switch op % 9 {
			case 0:
				_, err = e.NewOrder(ctx, engine.NewOrder{OrderID: id, CustomerID: "c", TotalPrice: a, Currency: "XTR"})
			case 1:
				_, err = e.ReceivePayment(ctx, engine.IncomingPayment{Sender: w.addr, Amount: a, TxID: txid, OrderID: &id})
			case 2:
				_, err = e.ConfirmPayment(ctx, txid)
			case 3:
				_, err = e.IssueCreditNote(ctx, "c", a, nil)
			case 4:
				_, err = e.UpdateOrderPrice(ctx, id, a, "fuzz")
			case 5:
				_, err = e.ClaimOrder(ctx, tari.SignMemo(w.key, w.addr, id))
			case 6:
				_, err = e.SettleCustomer(ctx, "c")
			case 7:
				_, err = e.SetExchangeRate(ctx, "EUR", a)
				if err == nil {
					_, err = e.PriceInMicroTari(ctx, "EUR", "99999999999.99")
				}
			case 8:
				_, err = e.FulfilOrder(ctx, id, "fuzz")
			}
			if err != nil && !fuzzRefusal(err) {
				t.Fatalf("op %d amount %d: %v", op%9, a, err)
			}
		}
		checkInvariants(t, db)
		for _, w := range wallets {
			if _, err := e.AddressHistory(ctx, w.addr); err != nil {
				t.Fatalf("account unreadable: %v", err)
			}
		}
		if _, err := e.CustomerHistory(ctx, "c"); err != nil {
			t.Fatalf("customer unreadable: %v", err)
		}
	})
}

func fuzzRefusal(err error) bool {
	for _, want := range []error{core.ErrInvalidAmount, core.ErrAmountOverflow, core.ErrInvalidPrice, core.ErrForbiddenChange,
		core.ErrNoOpChange, core.ErrOrderNotFound, core.ErrOrderAlreadyExists, core.ErrPaymentAlreadyExists,
		core.ErrPaymentAlreadyConfirmed, core.ErrPaymentNotFound, core.ErrPaymentStatusForbidden, core.ErrUnsupportedCurrency} {
		if errors.Is(err, want) {
			return true
		}
	}
	return false
}
