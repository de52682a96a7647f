package sdk

import (
	"encoding/json"
	"time"
)

// Event types, spelled as on the server and in webhook bodies.
const (
	NewOrder         = "NewOrder"
	OrderPaid        = "OrderPaid"
	OrderAnnulled    = "OrderAnnulled"
	OrderModified    = "OrderModified"
	OrderClaimed     = "OrderClaimed"
	PaymentReceived  = "PaymentReceived"
	PaymentConfirmed = "PaymentConfirmed"
)

// Event is the envelope every plugin receives. Raw holds the exact bytes sent
// by the server: {"id":…,"type":…,"created_at":…,"data":…}, which is also the
// body of the outgoing event webhook. Typed handlers get the payload decoded
// and Data left empty; OnEvent handlers get Data.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
	Raw       []byte          `json:"-"`
}

// Order is the server's order JSON. Prices are integer micro-Tari;
// OriginalPrice and AmountOutstanding are the storefront's decimal strings.
type Order struct {
	ID                int64     `json:"id"`
	OrderID           string    `json:"order_id"`
	AltID             *string   `json:"alt_id"`
	CustomerID        string    `json:"customer_id"`
	Memo              *string   `json:"memo"`
	TotalPrice        int64     `json:"total_price"`
	OriginalPrice     *string   `json:"original_price"`
	Currency          string    `json:"currency"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
	Status            string    `json:"status"` // Unclaimed, New, Paid, Cancelled, Expired
	AmountOutstanding *string   `json:"amount_outstanding"`
	CancelReason      *string   `json:"cancel_reason,omitempty"`
}

// Payment is the server's payment JSON. Amount is micro-Tari.
type Payment struct {
	TxID        string    `json:"txid"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Sender      string    `json:"sender"`
	Amount      int64     `json:"amount"`
	Memo        *string   `json:"memo"`
	PaymentType string    `json:"payment_type"` // on_chain, manual
	Status      string    `json:"status"`       // received, confirmed, cancelled
	OrderID     *string   `json:"order_id"`
}

// OrderEvent is the payload of NewOrder and OrderPaid.
type OrderEvent struct {
	Order Order `json:"order"`
}

// OrderAnnulledEvent is the payload of OrderAnnulled; Status is Cancelled or Expired.
type OrderAnnulledEvent struct {
	Order  Order  `json:"order"`
	Status string `json:"status"`
}

// OrderChanged pairs an order before and after a change.
type OrderChanged struct {
	OldOrder Order `json:"old_order"`
	NewOrder Order `json:"new_order"`
}

// OrderModifiedEvent is the payload of OrderModified; FieldChanged is one of
// status, customer_id, memo, total_price.
type OrderModifiedEvent struct {
	FieldChanged string       `json:"field_changed"`
	Orders       OrderChanged `json:"orders"`
}

// OrderClaimedEvent is the payload of OrderClaimed; Claimant is a base58 address.
type OrderClaimedEvent struct {
	Order    Order  `json:"order"`
	Claimant string `json:"claimant"`
}

// PaymentEvent is the payload of PaymentReceived and PaymentConfirmed.
type PaymentEvent struct {
	Payment Payment `json:"payment"`
}
