package engine_test

import (
	"testing"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/tari"
)

func TestReceivePaymentIsPendingAndEmits(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		p := x.receive(w.addr, "tx1", 2500, nil)
		if p.Status != core.PaymentReceived || p.PaymentType != core.PaymentOnChain || p.Sender != w.addr.Base58() || !p.CreatedAt.Equal(t0) {
			t.Fatalf("payment = %+v", p)
		}
		b := x.balance(w.addr)
		if b.CurrentBalance != 0 || b.Pending != 2500 || b.TotalConfirmed != 0 {
			t.Fatalf("balance = %+v", b)
		}
		wantTypes(t, x.eventTypesAfter(0), core.EventPaymentReceived)
	})
}

func TestReceivePaymentDuplicateChangesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.receive(w.addr, "tx1", 2500, nil)
		seq := x.lastSeq()
		_, err := x.e.ReceivePayment(x.ctx, engine.IncomingPayment{Sender: w.addr, Amount: 99, TxID: "tx1"})
		wantErr(t, err, core.ErrPaymentAlreadyExists)
		if b := x.balance(w.addr); b.Pending != 2500 {
			t.Fatalf("pending = %d", b.Pending)
		}
		wantTypes(t, x.eventTypesAfter(seq))
		_, err = x.e.ReceivePayment(x.ctx, engine.IncomingPayment{Sender: w.addr, Amount: -1, TxID: "neg"})
		wantErr(t, err, core.ErrInvalidAmount)
	})
}

func TestReceivePaymentClaimsNamedOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("1000", "cust", 2400)
		x.receive(w.addr, "tx1", 2500, ptr("1000"))
		x.wantStatus("1000", core.OrderNew) // claimed, not paid: unconfirmed
		r := x.confirm("tx1")
		if len(r.Paid.OrdersPaid) != 1 || r.Paid.Settlements[0].SettlementType != core.SettlementSingle {
			t.Fatalf("paid = %+v", r.Paid)
		}
		x.wantStatus("1000", core.OrderPaid)
		x.wantBalance(w.addr, 100)
	})
}

// D2 for payments: a payment naming a closed order is stored but revives nothing.
func TestReceivePaymentNamingClosedOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("c", "cust", 10)
		x.e.CancelOrder(x.ctx, "c", "gone")
		x.receive(w.addr, "tx", 10, ptr("c"))
		x.confirm("tx")
		x.wantStatus("c", core.OrderCancelled)
		x.wantBalance(w.addr, 10)
		// Unknown order: stored too.
		x.receive(w.addr, "tx2", 1, ptr("unknown"))
	})
}

func TestMemoResolution(t *testing.T) {
	w, other := newWallet(), newWallet()
	cases := []struct {
		name    string
		lenient bool
		field   string
		memo    string
		orderID *string
		want    string
	}{
		{"signed memo by sender", false, "id", w.sign("A1").JSON(), ptr("wallet"), "A1"},
		{"signed memo by another wallet (D3)", false, "id", other.sign("A1").JSON(), ptr("wallet"), "wallet"},
		{"signed memo by sender, other address form", false, "id", tari.SignMemo(w.key, w.dual(), "A2").JSON(), nil, "A2"},
		{"bad signature", false, "id", `{"address":"` + w.addr.Base58() + `","order_id":"X","signature":"` + w.sign("Y").Signature + `"}`, nil, ""},
		{"plain memo, signatures required", false, "id", "order 1000", nil, ""},
		{"plain memo, lenient", true, "id", "order 1000", nil, "1000"},
		{"plain memo with hash, id field", true, "id", "order #12345", nil, "12345"},
		{"plain memo with hash, name field", true, "name", "order#: 1007", nil, "#1007"},
		{"plain memo, name field", true, "name", "Order number 1002", nil, "#1002"},
		{"plain memo without digits keeps wallet id", true, "id", "hello", ptr("w1"), "w1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			forEachDB(t, func(t *testing.T, x *env) {
				memo := c.memo
				p, err := x.e.ReceivePayment(x.ctx, engine.IncomingPayment{Sender: w.addr, Amount: 1, TxID: "t", Memo: &memo, OrderID: c.orderID})
				if err != nil {
					t.Fatal(err)
				}
				got := ""
				if p.OrderID != nil {
					got = *p.OrderID
				}
				if got != c.want {
					t.Fatalf("order_id = %q, want %q", got, c.want)
				}
			}, func(cfg *engine.Config) { cfg.DisableMemoSignatureCheck = c.lenient; cfg.OrderIDField = c.field })
		})
	}
}

func TestConfirmPaysNewThenUnclaimedAndStops(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("u", "cust", 10) // Unclaimed, lower id
		x.order("n1", "cust", 20)
		x.claim(w, "n1")
		x.order("n2", "cust", 100)
		x.claim(w, "n2")
		x.order("n3", "cust", 5)
		x.claim(w, "n3")
		// 40 pays n1 (20), cannot pay n2 (100) and stops: n3 and u stay open.
		x.receive(w.addr, "t", 40, nil)
		seq := x.lastSeq()
		r := x.confirm("t")
		if len(r.Paid.OrdersPaid) != 1 || r.Paid.OrdersPaid[0].OrderID != "n1" {
			t.Fatalf("paid = %+v", r.Paid.OrdersPaid)
		}
		wantTypes(t, x.eventTypesAfter(seq), core.EventOrderPaid, core.EventPaymentConfirmed)
		x.wantStatus("n3", core.OrderNew)
		x.wantStatus("u", core.OrderUnclaimed)
		x.wantBalance(w.addr, 20)
		// 100 more: n2, n3 and the Unclaimed u are paid (New first, by id).
		r = x.pay(w.addr, "t2", 100)
		var ids []string
		for _, o := range r.Paid.OrdersPaid {
			ids = append(ids, o.OrderID)
		}
		if len(ids) != 3 || ids[0] != "n2" || ids[1] != "n3" || ids[2] != "u" {
			t.Fatalf("paid = %v", ids)
		}
		x.wantBalance(w.addr, 5)
	})
}

func TestConfirmErrors(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		_, err := x.e.ConfirmPayment(x.ctx, "missing")
		wantErr(t, err, core.ErrPaymentNotFound)
		x.pay(w.addr, "t", 5)
		seq := x.lastSeq()
		_, err = x.e.ConfirmPayment(x.ctx, "t")
		wantErr(t, err, core.ErrPaymentAlreadyConfirmed)
		wantTypes(t, x.eventTypesAfter(seq))
		x.wantBalance(w.addr, 5)
		x.receive(w.addr, "c", 7, nil)
		if p, err := x.e.CancelPayment(x.ctx, "c"); err != nil || p.Status != core.PaymentCancelled {
			t.Fatalf("cancel = %+v %v", p, err)
		}
		_, err = x.e.ConfirmPayment(x.ctx, "c")
		wantErr(t, err, core.ErrPaymentStatusForbidden)
		_, err = x.e.CancelPayment(x.ctx, "t")
		wantErr(t, err, core.ErrPaymentStatusForbidden)
		if b := x.balance(w.addr); b.Pending != 0 || b.CurrentBalance != 5 {
			t.Fatalf("balance = %+v", b)
		}
	})
}

func TestConfirmDoesNotPayOtherCustomersUnlinkedOrders(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("mine", "me", 10)
		x.claim(w, "mine")
		x.order("theirs", "them", 1)
		x.pay(w.addr, "t", 100)
		x.wantStatus("mine", core.OrderPaid)
		x.wantStatus("theirs", core.OrderUnclaimed)
	})
}
