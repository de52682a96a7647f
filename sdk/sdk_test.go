package sdk

import (
	"errors"
	"strings"
	"testing"
)

func reset() {
	handlers = map[string]func([]byte) error{}
	fallback = nil
}

func TestDispatchTypedHandlerAndPanics(t *testing.T) {
	defer reset()
	var got OrderEvent
	var gotEv Event
	OnOrderPaid(func(ev Event, e OrderEvent) error { gotEv, got = ev, e; return nil })
	OnOrderAnnulled(func(Event, OrderAnnulledEvent) error { panic("kaboom") })
	OnPaymentReceived(func(Event, PaymentEvent) error { return Permanent(errors.New("nope")) })

	raw := []byte(`{"id":"e1","type":"OrderPaid","created_at":"2026-11-25T12:00:00.5Z","data":{"order":{"order_id":"1001","total_price":15900000,"original_price":"15.90","alt_id":null}}}`)
	if err := dispatch(raw); err != nil {
		t.Fatal(err)
	}
	if gotEv.ID != "e1" || gotEv.Type != OrderPaid || gotEv.CreatedAt.Nanosecond() != 500000000 || string(gotEv.Raw) != string(raw) {
		t.Fatalf("event = %+v", gotEv)
	}
	if got.Order.OrderID != "1001" || got.Order.TotalPrice != 15_900_000 || *got.Order.OriginalPrice != "15.90" || got.Order.AltID != nil {
		t.Fatalf("order = %+v", got.Order)
	}
	err := dispatch([]byte(`{"id":"e2","type":"OrderAnnulled","created_at":"2026-11-25T12:00:00Z","data":{}}`))
	if err == nil || !strings.Contains(err.Error(), "plugin panicked: kaboom") {
		t.Fatalf("panic became %v", err)
	}
	err = dispatch([]byte(`{"id":"e3","type":"PaymentReceived","created_at":"2026-11-25T12:00:00Z","data":{}}`))
	var p permanent
	if !errors.As(err, &p) {
		t.Fatalf("permanent lost: %v", err)
	}
	// No handler and no fallback: skipped.
	if err := dispatch([]byte(`{"id":"e4","type":"NewOrder","created_at":"2026-11-25T12:00:00Z","data":{}}`)); !errors.Is(err, ErrSkip) {
		t.Fatalf("unhandled = %v", err)
	}
	// A malformed payload cannot succeed later: permanent.
	err = dispatch([]byte(`{"id":"e5","type":"OrderPaid","created_at":"2026-11-25T12:00:00Z","data":{"order":{"total_price":"x"}}}`))
	if !errors.As(err, &p) {
		t.Fatalf("bad payload = %v", err)
	}
}

func TestDispatchFallbackGetsRawData(t *testing.T) {
	defer reset()
	var got Event
	OnEvent(func(ev Event) error { got = ev; return nil })
	// Key order other than the host's still works.
	raw := []byte(`{"data":{"x":1},"type":"OrderClaimed","id":"e9","created_at":"2026-11-25T12:00:00Z"}`)
	if err := dispatch(raw); err != nil {
		t.Fatal(err)
	}
	if got.Type != OrderClaimed || string(got.Data) != `{"x":1}` || got.ID != "e9" {
		t.Fatalf("event = %+v", got)
	}
	if peekType([]byte(`{"id":"1","type":"OrderPaid","data":{}}`)) != "OrderPaid" || peekType([]byte(`{}`)) != "" {
		t.Fatal("peekType")
	}
}

func TestConfigBoolAndResponse(t *testing.T) {
	if !ConfigBool("missing", true) || ConfigBool("missing", false) {
		t.Fatal("default")
	}
	r := &Response{Status: 429}
	if r.OK() || !r.Retryable() {
		t.Fatal("429")
	}
	if (&Response{Status: 404}).Retryable() || !(&Response{Status: 204}).OK() {
		t.Fatal("404/204")
	}
	if _, err := Get("http://x", nil); err == nil {
		t.Fatal("HTTP outside the host should fail")
	}
}
