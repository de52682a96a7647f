package core

// Event payloads (engine.md §5.1). They are the "data" of outbox events and of
// the plugin ABI, so field names never change.

// OrderEvent is the payload of NewOrder and OrderPaid.
type OrderEvent struct {
	Order Order `json:"order"`
}

// OrderAnnulledEvent is the payload of OrderAnnulled; Status is Cancelled or Expired.
type OrderAnnulledEvent struct {
	Order  Order       `json:"order"`
	Status OrderStatus `json:"status"`
}

// OrderModifiedEvent is the payload of OrderModified. FieldChanged is one of
// "status", "customer_id", "memo", "total_price".
type OrderModifiedEvent struct {
	FieldChanged string       `json:"field_changed"`
	Orders       OrderChanged `json:"orders"`
}

// OrderClaimedEvent is the payload of OrderClaimed; Claimant is base58.
type OrderClaimedEvent struct {
	Order    Order  `json:"order"`
	Claimant string `json:"claimant"`
}

// PaymentEvent is the payload of PaymentReceived and PaymentConfirmed.
type PaymentEvent struct {
	Payment Payment `json:"payment"`
}
