package engine_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/tari"
)

// expected reports whether err is a business refusal (not a failure).
func expected(err error) bool {
	for _, e := range []error{core.ErrForbiddenChange, core.ErrNoOpChange, core.ErrOrderNotFound, core.ErrOrderAlreadyExists,
		core.ErrPaymentAlreadyExists, core.ErrPaymentAlreadyConfirmed, core.ErrPaymentStatusForbidden, core.ErrPaymentNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// A randomized concurrent workload: 8 goroutines, thousands of mixed
// operations. No operation may fail with anything but a business refusal
// (in particular no lock errors); afterwards the invariants hold (checked at
// cleanup), each Paid order has exactly one OrderPaid event, and every
// accepted payment is stored exactly once with the status we last gave it.
func TestConcurrentWorkload(t *testing.T) {
	perWorker := 300
	if testing.Short() {
		perWorker = 60
	}
	forEachDB(t, func(t *testing.T, x *env) {
		const workers = 8
		wallets := make([]wallet, 10)
		for i := range wallets {
			wallets[i] = newWallet()
		}
		customers := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"}
		var mu sync.Mutex
		var orders []string
		payments := map[string]core.PaymentStatus{}
		var received []string
		addOrder := func(id string) { mu.Lock(); orders = append(orders, id); mu.Unlock() }
		pickOrder := func(r *rand.Rand) string {
			mu.Lock()
			defer mu.Unlock()
			if len(orders) == 0 {
				return "none"
			}
			return orders[r.IntN(len(orders))]
		}
		var failures []error
		fail := func(op string, err error) {
			mu.Lock()
			failures = append(failures, fmt.Errorf("%s: %w", op, err))
			mu.Unlock()
		}
		var wg sync.WaitGroup
		for g := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(g), 42))
				for i := range perWorker {
					w := wallets[r.IntN(len(wallets))]
					cid := customers[r.IntN(len(customers))]
					var err error
					op := r.IntN(100)
					switch {
					case op < 18:
						id := fmt.Sprintf("o%d-%d", g, i)
						no := engine.NewOrder{OrderID: id, CustomerID: cid, TotalPrice: core.MicroTari(1 + r.IntN(400)), Currency: "XTR"}
						if r.IntN(4) == 0 {
							memo := w.sign(id).JSON()
							no.Memo = &memo
						}
						if _, err = x.e.NewOrder(x.ctx, no); err == nil {
							addOrder(id)
						}
					case op < 30:
						_, err = x.e.ClaimOrder(x.ctx, w.sign(pickOrder(r)))
					case op < 50:
						txid := fmt.Sprintf("tx%d-%d", g, i)
						var oid *string
						if r.IntN(3) == 0 {
							oid = ptr(pickOrder(r))
						}
						from := w.addr
						if r.IntN(2) == 0 {
							from = w.dual()
						}
						if _, err = x.e.ReceivePayment(x.ctx, engine.IncomingPayment{Sender: from, Amount: core.MicroTari(1 + r.IntN(150)), TxID: txid, OrderID: oid}); err == nil {
							mu.Lock()
							payments[txid] = core.PaymentReceived
							received = append(received, txid)
							mu.Unlock()
						}
					case op < 68:
						mu.Lock()
						txid := "none"
						if len(received) > 0 {
							txid = received[r.IntN(len(received))]
						}
						mu.Unlock()
						if r.IntN(8) == 0 {
							if _, err = x.e.CancelPayment(x.ctx, txid); err == nil {
								mu.Lock()
								payments[txid] = core.PaymentCancelled
								mu.Unlock()
							}
						} else if _, err = x.e.ConfirmPayment(x.ctx, txid); err == nil {
							mu.Lock()
							payments[txid] = core.PaymentConfirmed
							mu.Unlock()
						}
					case op < 74:
						_, err = x.e.IssueCreditNote(x.ctx, cid, core.MicroTari(1+r.IntN(120)), nil)
					case op < 78:
						_, err = x.e.CancelOrder(x.ctx, pickOrder(r), "test")
					case op < 84:
						_, err = x.e.UpdateOrderPrice(x.ctx, pickOrder(r), core.MicroTari(1+r.IntN(300)), "")
					case op < 90:
						if r.IntN(2) == 0 {
							_, err = x.e.SettleCustomer(x.ctx, cid)
						} else {
							_, err = x.e.SettleAddress(x.ctx, w.addr)
						}
					case op < 93:
						_, err = x.e.FulfilOrder(x.ctx, pickOrder(r), "gift")
					case op < 96:
						_, err = x.e.ReassignOrder(x.ctx, pickOrder(r), cid, "move")
					case op < 98:
						_, err = x.e.ResetOrder(x.ctx, pickOrder(r))
					default:
						x.advance(20 * time.Minute)
						_, err = x.e.ExpireOrders(x.ctx, x.clock())
					}
					if err != nil && !expected(err) {
						fail(fmt.Sprintf("op %d", op), err)
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range failures {
			t.Error(err)
		}
		if t.Failed() {
			return
		}
		var n int
		if err := x.db.NewRaw("SELECT COUNT(*) FROM payments WHERE payment_type = 'on_chain'").Scan(x.ctx, &n); err != nil || n != len(payments) {
			t.Fatalf("stored %d on-chain payments, accepted %d (%v)", n, len(payments), err)
		}
		for txid, want := range payments {
			var got string
			if err := x.db.NewRaw("SELECT status FROM payments WHERE txid = ?", txid).Scan(x.ctx, &got); err != nil || core.PaymentStatus(got) != want {
				t.Fatalf("payment %s: %s, want %s (%v)", txid, got, want, err)
			}
		}
		var byStatus []struct {
			Status string `bun:"status"`
			N      int    `bun:"n"`
		}
		x.db.NewRaw("SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY status").Scan(x.ctx, &byStatus)
		t.Logf("%d ops, orders by status %v, %d payments", workers*perWorker, byStatus, len(payments))
	}, func(c *engine.Config) { c.UnclaimedTimeout, c.UnpaidTimeout = time.Hour, 3*time.Hour })
}

// 100 concurrent new orders with auto-claim all succeed (reference burst_orders).
func TestBurstOrders(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		for c := range 5 {
			id := fmt.Sprintf("seed-%d", c)
			x.order(id, fmt.Sprint(c), 1)
			x.claim(w, id)
		}
		x.pay(w.addr, "fund", core.Tari(1000))
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for task := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20 {
					_, err := x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: fmt.Sprintf("oid-2024/%d.%d-burstorder", task, i*100),
						CustomerID: fmt.Sprint((i + 1) % 5), TotalPrice: core.Tari(int64(i + 1)), Currency: "XTR"})
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// Σ (i+1) Tari over 5 tasks × 20 = 1050 Tari > 1000: most get paid, never overdrawn.
		if b := x.balance(w.addr); b.CurrentBalance < 0 {
			t.Fatalf("overdrawn: %+v", b)
		}
	})
}

// 1,000 payments from one address, received and confirmed concurrently.
func TestBurstPaymentsFromOneAddress(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("big", "c", core.MicroTari(n*(n+1)/2)) // exactly the sum of all payments
		x.claim(w, "big")
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g; i < n; i += 8 {
					txid := fmt.Sprintf("taritx-00-%d", i)
					from := w.addr
					if i%2 == 1 {
						from = tari.NewDualAddress(tari.Mainnet, w.view, w.key.PublicKey())
					}
					if _, err := x.e.ReceivePayment(x.ctx, engine.IncomingPayment{Sender: from, Amount: core.MicroTari(i + 1), TxID: txid}); err != nil {
						errs <- err
						return
					}
					if _, err := x.e.ConfirmPayment(x.ctx, txid); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		x.wantStatus("big", core.OrderPaid)
		if b := x.balance(w.addr); b.CurrentBalance != 0 || b.TotalConfirmed != core.MicroTari(n*(n+1)/2) || b.Pending != 0 {
			t.Fatalf("balance = %+v", b)
		}
	})
}
