package store

import (
	"time"

	"github.com/tari-payment/tps/core"
)

// The rows of the domain tables as bun scans them. They have exactly the
// fields of their core types, so one converts to the other (core.Order(r)):
// the column mapping lives here, and package core stays free of any
// database library.

// Order is a row of the orders table.
type Order struct {
	ID                int64            `bun:"id,pk,autoincrement"`
	OrderID           string           `bun:"order_id"`
	AltID             *string          `bun:"alt_id"`
	CustomerID        string           `bun:"customer_id"`
	Memo              *string          `bun:"memo"`
	TotalPrice        core.MicroTari   `bun:"total_price"`
	OriginalPrice     *string          `bun:"original_price"`
	Currency          string           `bun:"currency"`
	CreatedAt         time.Time        `bun:"created_at"`
	UpdatedAt         time.Time        `bun:"updated_at"`
	Status            core.OrderStatus `bun:"status"`
	AmountOutstanding *string          `bun:"amount_outstanding"`
	CancelReason      *string          `bun:"cancel_reason"`
	StatusChangedAt   time.Time        `bun:"status_changed_at"`
}

// Payment is a row of the payments table.
type Payment struct {
	TxID          string             `bun:"txid,pk"`
	CreatedAt     time.Time          `bun:"created_at"`
	UpdatedAt     time.Time          `bun:"updated_at"`
	Sender        string             `bun:"sender"`
	Amount        core.MicroTari     `bun:"amount"`
	Memo          *string            `bun:"memo"`
	PaymentType   core.PaymentType   `bun:"payment_type"`
	Status        core.PaymentStatus `bun:"status"`
	OrderID       *string            `bun:"order_id"`
	SenderAccount string             `bun:"sender_account"`
}

// Settlement is a row of the settlement_journal table.
type Settlement struct {
	ID             int64               `bun:"id,pk,autoincrement"`
	CreatedAt      time.Time           `bun:"created_at"`
	OrderID        string              `bun:"order_id"`
	PaymentAddress string              `bun:"payment_address"`
	SettlementType core.SettlementType `bun:"settlement_type"`
	Amount         core.MicroTari      `bun:"amount"`
	Account        string              `bun:"account"`
}

// Orders converts scanned rows to the domain type, never nil.
func Orders(rows []Order) []core.Order {
	out := make([]core.Order, len(rows))
	for i, r := range rows {
		out[i] = core.Order(r)
	}
	return out
}

// Payments converts scanned rows to the domain type, never nil.
func Payments(rows []Payment) []core.Payment {
	out := make([]core.Payment, len(rows))
	for i, r := range rows {
		out[i] = core.Payment(r)
	}
	return out
}

// Settlements converts scanned rows to the domain type, never nil.
func Settlements(rows []Settlement) []core.SettlementJournalEntry {
	out := make([]core.SettlementJournalEntry, len(rows))
	for i, r := range rows {
		out[i] = core.SettlementJournalEntry(r)
	}
	return out
}
