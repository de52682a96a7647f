package engine_test

import (
	"context"
	"testing"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
)

// TestPostgresFlowWithoutPreparedStatements: behind a pooler in transaction
// mode (TPG_POSTGRES_PREPARED=false) every statement the write path sends,
// the writers lock and the sequencer runs included, goes out as plain SQL:
// a claimed order is paid and its events are readable in order.
func TestPostgresFlowWithoutPreparedStatements(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.PostgresURL(t), store.WithoutPreparedStatements)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.PreparedStatements() {
		t.Fatal("statements prepared")
	}
	e := engine.New(db, engine.DefaultConfig())
	w := newWallet()
	memo := tari.SignMemo(w.key, w.addr, "o1").JSON()
	if _, err := e.NewOrder(ctx, engine.NewOrder{OrderID: "o1", CustomerID: "c1", TotalPrice: 100, Currency: "XTR", Memo: &memo}); err != nil {
		t.Fatal(err)
	}
	if err := e.RegisterWallet(ctx, w.addr, "ip", 0); err != nil {
		t.Fatal(err)
	}
	if err := e.UseWalletNonce(ctx, w.addr, 1, "ip", true); err != nil {
		t.Fatal(err)
	}
	if err := e.UseWalletNonce(ctx, w.addr, 1, "ip", true); err != core.ErrUnauthorizedWallet {
		t.Fatalf("nonce reused: %v", err)
	}
	if _, err := e.ReceivePayment(ctx, engine.IncomingPayment{Sender: w.addr, Amount: 100, TxID: "tx1"}); err != nil {
		t.Fatal(err)
	}
	r, err := e.ConfirmPayment(ctx, "tx1")
	if err != nil || len(r.Paid.OrdersPaid) != 1 || r.Paid.OrdersPaid[0].Status != core.OrderPaid {
		t.Fatalf("confirmation: %+v, %v", r, err)
	}
	evs, err := store.EventsAfter(ctx, db, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []core.EventType
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	want := []core.EventType{core.EventNewOrder, core.EventPaymentReceived, core.EventOrderPaid, core.EventPaymentConfirmed}
	if len(types) != len(want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("events %v, want %v", types, want)
		}
	}
}
