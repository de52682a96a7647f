package dbcheck_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
	"github.com/tari-payment/tps/test/dbcheck"
)

// seed makes a small consistent history: a paid order, an open one, a
// creditor and a cancelled order.
func seed(t *testing.T, db *store.DB) {
	ctx := context.Background()
	eng := engine.New(db, engine.DefaultConfig())
	k := tari.GenerateSecretKey()
	addr := tari.NewAddress(tari.Mainnet, k.PublicKey())
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	memo := tari.SignMemo(k, addr, "paid").JSON()
	_, err := eng.NewOrder(ctx, engine.NewOrder{OrderID: "paid", CustomerID: "c1", Memo: &memo, TotalPrice: 10, Currency: "XTR", CreatedAt: now})
	must(err)
	_, err = eng.NewOrder(ctx, engine.NewOrder{OrderID: "open", CustomerID: "c2", TotalPrice: 10, Currency: "XTR", CreatedAt: now})
	must(err)
	_, err = eng.NewOrder(ctx, engine.NewOrder{OrderID: "gone", CustomerID: "c2", TotalPrice: 10, Currency: "XTR", CreatedAt: now})
	must(err)
	_, err = eng.CancelOrder(ctx, "gone", "test")
	must(err)
	_, err = eng.ReceivePayment(ctx, engine.IncomingPayment{Sender: addr, Amount: 15, TxID: "t"})
	must(err)
	_, err = eng.ConfirmPayment(ctx, "t")
	must(err)
}

// The checker must pass a clean history and catch each kind of corruption.
func TestInvariantsCatchCorruption(t *testing.T) {
	cases := []struct{ name, sql, want string }{
		{"balance drift", "UPDATE account_balances SET total_confirmed = total_confirmed + 1", "invariant 1"},
		{"paid without settlement", "UPDATE orders SET status = 'Paid' WHERE order_id = 'open'", "invariant 3"},
		{"lost settlement", "UPDATE settlement_journal SET amount = amount - 1", "invariant 2"},
		{"lost audit", "DELETE FROM audit_log WHERE entity = 'payment'", "without audit history"},
		{"duplicate OrderPaid", "INSERT INTO events (id, type, payload, created_at) SELECT 'dup', type, payload, created_at FROM events WHERE type = 'OrderPaid'", "D6"},
		{"overdrawn account", "UPDATE account_balances SET total_paid = total_confirmed + 1", "invariant 9"},
		{"illegal move", "UPDATE audit_log SET snapshot = REPLACE(snapshot, '\"status\":\"Unclaimed\"', '\"status\":\"Paid\"') WHERE operation = 'insert' AND entity = 'order'", "invariant 6/7"},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				seed(t, db)
				bad, err := dbcheck.Invariants(ctx, db)
				if err != nil || len(bad) != 0 {
					t.Fatalf("clean state: %v %v", bad, err)
				}
				if _, err := db.ExecContext(ctx, c.sql); err != nil {
					t.Fatal(err)
				}
				bad, err = dbcheck.Invariants(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(strings.Join(bad, "\n"), c.want) {
					t.Fatalf("want %q, got %v", c.want, bad)
				}
			})
		})
	}
}

func TestDelivered(t *testing.T) {
	evs := []core.Event{{Seq: 1, ID: "a", Type: core.EventNewOrder}, {Seq: 2, ID: "b", Type: core.EventOrderPaid}, {Seq: 3, ID: "c", Type: core.EventOrderPaid}}
	if bad := dbcheck.Delivered(evs, 1, map[string]string{"b": "OrderPaid", "c": "OrderPaid"}); len(bad) != 0 {
		t.Fatal(bad)
	}
	bad := dbcheck.Delivered(evs, 0, map[string]string{"b": "NewOrder", "x": "OrderPaid"})
	want := []string{"never delivered", "delivered as NewOrder", "not in the outbox"}
	for _, w := range want {
		if !strings.Contains(strings.Join(bad, "\n"), w) {
			t.Errorf("missing %q in %v", w, bad)
		}
	}
}
