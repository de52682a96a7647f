package engine_test

import (
	"encoding/json"
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
