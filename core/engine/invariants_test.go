package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
)

// recorder collects the checker's complaints instead of failing the test.
type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Errorf(f string, a ...any) { r.msgs = append(r.msgs, fmt.Sprintf(f, a...)) }
func (r *recorder) Helper()                   {}

// The invariant checker itself must catch broken states.
func TestInvariantCheckerCatchesCorruption(t *testing.T) {
	cases := []struct {
		name, want string
		corrupt    func(x *env)
	}{
		{"balance drift", "invariant 1", func(x *env) {
			x.db.Exec("UPDATE account_balances SET total_confirmed = total_confirmed + 1")
		}},
		{"paid without settlement", "invariant 3", func(x *env) {
			x.db.Exec("UPDATE orders SET status = 'Paid' WHERE order_id = 'open'")
		}},
		{"duplicate OrderPaid", "D6", func(x *env) {
			o := x.get("paid")
			x.db.RunInTx(x.ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				_, err := store.AppendEvent(ctx, tx, x.db.Kind, core.EventOrderPaid, core.OrderEvent{Order: o})
				return err
			})
		}},
		{"overdrawn account", "invariant 9", func(x *env) {
			x.db.Exec("UPDATE payments SET amount = 5 WHERE txid = 't'")
			x.db.Exec("UPDATE account_balances SET total_confirmed = 5")
		}},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			forEachDB(t, func(t *testing.T, x *env) {
				w := newWallet()
				x.order("paid", "c", 10)
				x.claim(w, "paid")
				x.order("open", "c2", 10)
				x.pay(w.addr, "t", 15)
				r := &recorder{TB: t}
				checkInvariants(r, x.db)
				if len(r.msgs) != 0 {
					t.Fatalf("clean state flagged: %v", r.msgs)
				}
				c.corrupt(x)
				checkInvariants(r, x.db)
				if len(r.msgs) == 0 || !strings.Contains(strings.Join(r.msgs, "\n"), c.want) {
					t.Fatalf("want %q, got %v", c.want, r.msgs)
				}
				x.skipCheck = true // deliberately broken
			})
		})
	}
}
