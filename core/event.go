package core

import (
	"encoding/json"
	"time"
)

// EventType names an event. The spellings are part of the plugin ABI and of the
// outgoing webhook body, so they never change.
type EventType string

const (
	EventNewOrder         EventType = "NewOrder"
	EventOrderPaid        EventType = "OrderPaid"
	EventOrderAnnulled    EventType = "OrderAnnulled"
	EventOrderModified    EventType = "OrderModified"
	EventOrderClaimed     EventType = "OrderClaimed"
	EventPaymentReceived  EventType = "PaymentReceived"
	EventPaymentConfirmed EventType = "PaymentConfirmed"
)

// AllEventTypes lists every event type in a stable order.
var AllEventTypes = []EventType{
	EventNewOrder, EventOrderPaid, EventOrderAnnulled, EventOrderModified,
	EventOrderClaimed, EventPaymentReceived, EventPaymentConfirmed,
}

// Event is one committed entry of the outbox. Seq orders events globally; ID is
// a random identifier that receivers use to drop duplicates (delivery is at
// least once).
type Event struct {
	Seq       int64           `json:"-"`
	ID        string          `json:"id"`
	Type      EventType       `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	Payload   json.RawMessage `json:"data"`
	// Subscriber addresses the event to one subscriber (a plugin's Tick);
	// empty means every subscriber whose types include it.
	Subscriber string `json:"-"`
}
