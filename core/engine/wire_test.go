package engine_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/tari-payment/tps/core"
)

// Wire shapes: field names and order of http-api.md §1.5 (plus cancel_reason, D7).
func TestWireShapes(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("0000001", "1", 100)
		x.claim(w, "0000001")
		r := x.pay(w.addr, "tx", 150)
		b, _ := json.Marshal(x.get("0000001"))
		want := `{"id":1,"order_id":"0000001","alt_id":null,"customer_id":"1","memo":null,"total_price":100,"original_price":null,"currency":"XTR","created_at":"2024-03-01T12:00:00Z","updated_at":"2024-03-01T12:00:00Z","status":"Paid","amount_outstanding":null,"cancel_reason":null}`
		if string(b) != want {
			t.Fatalf("order JSON\n got %s\nwant %s", b, want)
		}
		b, _ = json.Marshal(r.Payment)
		want = `{"txid":"tx","created_at":"2024-03-01T12:00:00Z","updated_at":"2024-03-01T12:00:00Z","sender":"` + w.addr.Base58() + `","amount":150,"memo":null,"payment_type":"on_chain","status":"confirmed","order_id":null}`
		if string(b) != want {
			t.Fatalf("payment JSON\n got %s\nwant %s", b, want)
		}
		b, _ = json.Marshal(r.Paid.Settlements[0])
		want = `{"id":1,"created_at":"2024-03-01T12:00:00Z","order_id":"0000001","payment_address":"` + w.addr.Base58() + `","settlement_type":"single","amount":100}`
		if string(b) != want {
			t.Fatalf("settlement JSON\n got %s\nwant %s", b, want)
		}
		b, _ = json.Marshal(x.balance(w.addr))
		want = `{"address":"` + w.addr.Base58() + `","total_confirmed":150,"total_paid":100,"current_balance":50,"last_update":"2024-03-01T12:00:00Z"}`
		if string(b) != want {
			t.Fatalf("balance JSON\n got %s\nwant %s", b, want)
		}
		b, _ = json.Marshal(core.MultiAccountPayment{OrdersPaid: []core.Order{}, Settlements: []core.SettlementJournalEntry{}})
		if string(b) != `{"orders_paid":[],"settlements":[]}` {
			t.Fatalf("empty result %s", b)
		}
	})
}

// TestEventPayloadsAreTheirJSON: every outbox payload is exactly what
// json.Marshal makes of its typed payload (the engine reuses audit snapshots
// when encoding events; a stale or partial reuse would show here), and an
// event never carries an entity older than the change it reports.
func TestEventPayloadsAreTheirJSON(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.order("1", "c1", 100)
		x.order("3", "c1", 30)
		x.claim(w, "1")
		x.pay(w.addr, "tx1", 150)        // pays orders 1 and 3 in one transaction, leaves 20
		x.order("2", "c1", 20)           // auto-claimed and paid from the balance in one transaction
		x.receive(w.addr, "tx2", 5, nil) // received only
		for _, ev := range x.events() {
			var payload any
			switch ev.Type {
			case core.EventNewOrder, core.EventOrderPaid:
				var p core.OrderEvent
				if err := json.Unmarshal(ev.Payload, &p); err != nil {
					t.Fatal(err)
				}
				payload = p
			case core.EventPaymentReceived, core.EventPaymentConfirmed:
				var p core.PaymentEvent
				if err := json.Unmarshal(ev.Payload, &p); err != nil {
					t.Fatal(err)
				}
				payload = p
			default:
				continue
			}
			again, err := json.Marshal(payload)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(ev.Payload) {
				t.Errorf("%s payload\n got %s\nwant %s", ev.Type, ev.Payload, again)
			}
		}
		var paid []string
		for _, ev := range x.events() {
			if ev.Type == core.EventOrderPaid {
				var p core.OrderEvent
				_ = json.Unmarshal(ev.Payload, &p)
				if p.Order.Status != core.OrderPaid {
					t.Errorf("OrderPaid for %s carries status %s", p.Order.OrderID, p.Order.Status)
				}
				paid = append(paid, p.Order.OrderID)
			}
		}
		slices.Sort(paid)
		if !slices.Equal(paid, []string{"1", "2", "3"}) {
			t.Fatalf("OrderPaid events for %v, want orders 1, 2 and 3", paid)
		}
	})
}
