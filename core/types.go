package core

import "time"

// OrderStatus is an order's lifecycle state. It is PascalCase on the wire and
// in the database.
type OrderStatus string

const (
	OrderUnclaimed OrderStatus = "Unclaimed"
	OrderNew       OrderStatus = "New"
	OrderPaid      OrderStatus = "Paid"
	OrderCancelled OrderStatus = "Cancelled"
	OrderExpired   OrderStatus = "Expired"
)

// ParseOrderStatus accepts the PascalCase spelling only (as the reference's search).
func ParseOrderStatus(s string) (OrderStatus, bool) {
	switch st := OrderStatus(s); st {
	case OrderUnclaimed, OrderNew, OrderPaid, OrderCancelled, OrderExpired:
		return st, true
	}
	return "", false
}

// Open reports whether an order can still be claimed, paid, cancelled or expired.
func (s OrderStatus) Open() bool { return s == OrderNew || s == OrderUnclaimed }

// PaymentStatus is a payment's state: received → confirmed or received → cancelled.
type PaymentStatus string

const (
	PaymentReceived  PaymentStatus = "received"
	PaymentConfirmed PaymentStatus = "confirmed"
	PaymentCancelled PaymentStatus = "cancelled"
)

// PaymentType tells wallet payments from credit notes.
type PaymentType string

const (
	PaymentOnChain PaymentType = "on_chain"
	PaymentManual  PaymentType = "manual"
)

// SettlementType says whether an order was paid from one account or several.
type SettlementType string

const (
	SettlementSingle   SettlementType = "single"
	SettlementMultiple SettlementType = "multiple"
)

// Role is an access role (snake_case on the wire).
type Role string

const (
	RoleUser          Role = "user"
	RoleReadAll       Role = "read_all"
	RoleWrite         Role = "write"
	RolePaymentWallet Role = "payment_wallet"
	RoleSuperAdmin    Role = "super_admin"
)

// AllRoles lists the roles in their database order.
var AllRoles = []Role{RoleUser, RoleReadAll, RoleWrite, RolePaymentWallet, RoleSuperAdmin}

// ParseRole validates a role name.
func ParseRole(s string) (Role, bool) {
	for _, r := range AllRoles {
		if string(r) == s {
			return r, true
		}
	}
	return "", false
}

// Order is a storefront order. Field order is the wire order (http-api.md §1.5);
// cancel_reason is this project's addition (D7).
type Order struct {
	ID                int64       `json:"id"`
	OrderID           string      `json:"order_id"`
	AltID             *string     `json:"alt_id"`
	CustomerID        string      `json:"customer_id"`
	Memo              *string     `json:"memo"`
	TotalPrice        MicroTari   `json:"total_price"`
	OriginalPrice     *string     `json:"original_price"`
	Currency          string      `json:"currency"`
	CreatedAt         time.Time   `json:"created_at"`
	UpdatedAt         time.Time   `json:"updated_at"`
	Status            OrderStatus `json:"status"`
	AmountOutstanding *string     `json:"amount_outstanding"`
	CancelReason      *string     `json:"cancel_reason"`
	// StatusChangedAt is when the order entered its current status; expiry
	// clocks run from it (D14). Not on the wire.
	StatusChangedAt time.Time `json:"-"`
}

// Payment is a wallet transfer or a credit note. Sender is the base58 address
// as received; SenderAccount identifies the wallet across address forms (D25).
type Payment struct {
	TxID          string        `json:"txid"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
	Sender        string        `json:"sender"`
	Amount        MicroTari     `json:"amount"`
	Memo          *string       `json:"memo"`
	PaymentType   PaymentType   `json:"payment_type"`
	Status        PaymentStatus `json:"status"`
	OrderID       *string       `json:"order_id"`
	SenderAccount string        `json:"-"`
}

// SettlementJournalEntry debits an account for (part of) an order.
type SettlementJournalEntry struct {
	ID             int64          `json:"id"`
	CreatedAt      time.Time      `json:"created_at"`
	OrderID        string         `json:"order_id"`
	PaymentAddress string         `json:"payment_address"`
	SettlementType SettlementType `json:"settlement_type"`
	Amount         MicroTari      `json:"amount"`
	Account        string         `json:"-"`
}

// AddressBalance is one account's position. An unknown address has zeros and
// last_update = now.
type AddressBalance struct {
	Address        string    `json:"address"`
	TotalConfirmed MicroTari `json:"total_confirmed"`
	TotalPaid      MicroTari `json:"total_paid"`
	CurrentBalance MicroTari `json:"current_balance"`
	LastUpdate     time.Time `json:"last_update"`
	// Pending is the sum of the account's received (unconfirmed) payments.
	Pending MicroTari `json:"-"`
}

// CustomerBalance sums the balances of the accounts linked to a customer, each
// account once.
type CustomerBalance struct {
	TotalConfirmed MicroTari        `json:"total_confirmed"`
	TotalPaid      MicroTari        `json:"total_paid"`
	CurrentBalance MicroTari        `json:"current_balance"`
	Addresses      []AddressBalance `json:"addresses"`
}

// CustomerOrderBalance sums a customer's order prices by status group.
type CustomerOrderBalance struct {
	CustomerID     string    `json:"customer_id"`
	TotalCurrent   MicroTari `json:"total_current"`
	TotalPaid      MicroTari `json:"total_paid"`
	TotalExpired   MicroTari `json:"total_expired"`
	TotalCancelled MicroTari `json:"total_cancelled"`
}

// CustomerOrders is one creditors row.
type CustomerOrders struct {
	CustomerID  string      `json:"customer_id"`
	Status      OrderStatus `json:"status"`
	TotalOrders MicroTari   `json:"total_orders"`
}

// OrderResult lists orders of the customers linked to an address.
type OrderResult struct {
	Address     string    `json:"address"`
	TotalOrders MicroTari `json:"total_orders"`
	Orders      []Order   `json:"orders"`
}

// PaymentsResult lists payments sent by an address (any of its forms).
type PaymentsResult struct {
	Address       string    `json:"address"`
	TotalPayments MicroTari `json:"total_payments"`
	Payments      []Payment `json:"payments"`
}

// AddressHistory is everything known about one address.
type AddressHistory struct {
	Address     string                   `json:"address"`
	Balance     AddressBalance           `json:"balance"`
	Orders      []Order                  `json:"orders"`
	Payments    []Payment                `json:"payments"`
	Settlements []SettlementJournalEntry `json:"settlements"`
}

// CustomerHistory is everything known about one customer.
type CustomerHistory struct {
	CustomerID   string                   `json:"customer_id"`
	Balance      CustomerBalance          `json:"balance"`
	OrderBalance CustomerOrderBalance     `json:"order_balance"`
	Orders       []Order                  `json:"orders"`
	Settlements  []SettlementJournalEntry `json:"settlements"`
}

// MultiAccountPayment is the result of a payment attempt: the orders it paid
// and the settlements it wrote (both empty arrays, never null, when nothing).
type MultiAccountPayment struct {
	OrdersPaid  []Order                  `json:"orders_paid"`
	Settlements []SettlementJournalEntry `json:"settlements"`
}

// Empty reports whether nothing was paid.
func (m MultiAccountPayment) Empty() bool { return len(m.OrdersPaid) == 0 }

// OrderChanged pairs an order before and after a change.
type OrderChanged struct {
	OldOrder Order `json:"old_order"`
	NewOrder Order `json:"new_order"`
}

// OrderMovedResult is the result of reassigning an order.
type OrderMovedResult struct {
	Orders      OrderChanged             `json:"orders"`
	Settlements []SettlementJournalEntry `json:"settlements"`
}

// ExpiryResult lists the orders one expiry run annulled. Skipped is true when
// another instance held the expiry lock and this run did nothing.
type ExpiryResult struct {
	Unclaimed []Order `json:"unclaimed"`
	Unpaid    []Order `json:"unpaid"`
	Skipped   bool    `json:"-"`
}

// ClaimResult is a claimed order and when it will expire if left unpaid (D13:
// from the configured timeouts).
type ClaimResult struct {
	Order     Order
	ExpiresAt time.Time
}

// ConfirmResult is a confirmed payment and what it paid.
type ConfirmResult struct {
	Payment Payment
	Paid    MultiAccountPayment
}

// ExchangeRate is µT per one whole unit of Currency (stored upper-case, D9).
type ExchangeRate struct {
	Currency  string    `json:"currency"`
	Rate      MicroTari `json:"rate"`
	UpdatedAt time.Time `json:"updated_at"`
}

// WalletInfo is an authorised hot wallet.
type WalletInfo struct {
	Address   string `json:"address"`
	IPAddress string `json:"ip_address"`
	LastNonce int64  `json:"last_nonce"`
}

// ShopifyTransaction is a Shopify payment authorisation to capture later.
type ShopifyTransaction struct {
	ID        int64     `json:"id"`
	OrderID   int64     `json:"order_id"`
	Amount    string    `json:"amount"`
	Currency  string    `json:"currency"`
	Test      bool      `json:"test"`
	Captured  bool      `json:"captured"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OrderQuery filters GET /api/search/orders. Nil/empty fields do not filter;
// every combination works (D10). Memo is a literal, case-insensitive substring.
type OrderQuery struct {
	Memo       *string
	OrderID    *string
	AltID      *string
	CustomerID *string
	Currency   *string
	Since      *time.Time // created_at >= Since
	Until      *time.Time // created_at <= Until
	Statuses   []OrderStatus
	Page
}

// Page is LIMIT/OFFSET pagination; either may be given alone (D10).
type Page struct {
	Count  *int
	Offset *int
}
