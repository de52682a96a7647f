package engine

import (
	"context"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store/enginestore"
)

// The store below the engine, entity by entity: what an operation needs of
// its write transaction (storeTx) and of the database outside one
// (storeReader). core/store/enginestore implements both, on SQLite and on
// PostgreSQL; the engine above them decides which rows, which transitions,
// which amounts, which events and what the audit records.

// orderStore reads and writes orders inside a transaction. Reads lock the
// rows they return where the database needs it (PostgreSQL).
type orderStore interface {
	OrderByOrderID(orderID string) (*core.Order, error)
	OrderByIDOrAlt(id string) (*core.Order, error)
	OpenOrdersOf(customerID string) ([]core.Order, error)
	OrderClaimant(id int64) (*string, error)
	InsertOrder(o *core.Order) (int64, error)
	InsertOrderAutoClaim(o *core.Order, altID *string) (int64, string, error)
	SetOrderStatus(id int64, s core.OrderStatus, now time.Time) error
	ClaimOrder(id int64, account string, now time.Time) error
	CancelOrder(id int64, reason string, now time.Time) error
	ReopenOrder(id int64, now time.Time) error
	SetOrderCustomer(id int64, customerID string, now time.Time) error
	SetOrderMemo(id int64, memo string, now time.Time) error
	SetOrderPrice(id int64, price core.MicroTari, now time.Time) error
	SetOrderCancelReason(id int64, reason string, now time.Time) error
	ExpireOrders(from core.OrderStatus, cutoff, now time.Time) ([]core.Order, error)
}

// paymentStore reads and writes payments inside a transaction.
type paymentStore interface {
	InsertPayment(p *core.Payment) (bool, error)
	LeaveReceived(txid string, to core.PaymentStatus, now time.Time) (core.Payment, error)
	PaymentStatus(txid string) (core.PaymentStatus, error)
}

// balanceStore reads and writes accounts: balances, settlements, links.
type balanceStore interface {
	Balance(account string) (enginestore.Balance, bool, error)
	Payable(account string) ([]core.Order, *enginestore.Balance, error)
	PoolBalances(customerID, orderID string, altID *string) ([]enginestore.Balance, error)
	BumpBalance(account, address string, confirmed, paid, pending, bound core.MicroTari, known bool, now time.Time) (bool, error)
	InsertSettlement(s core.SettlementJournalEntry) (int64, error)
	Link(account, address, customerID string, now time.Time) error
	CustomersOf(account string) ([]string, error)
}

// eventStore writes a transaction's outbox events (through the store's one
// append path, store.AppendEvents) and audit rows, at the end, several per
// statement. It fills in the events' seqs only when the store numbers them at
// once; otherwise they are numbered after the commit (Seq stays 0).
type eventStore interface {
	AppendEvents(events []core.Event, audit []any) error
}

// accessStore writes logins, roles, console sessions and hot wallets.
type accessStore interface {
	LastLoginNonce(account string) (int64, bool, error)
	SetLoginNonce(account, address string, nonce int64, now time.Time) error
	RoleNames(account string) ([]string, error)
	AssignRole(account, address string, r core.Role) error
	RevokeRole(account string, r core.Role) error
	DeleteExpiredSessions(nowMs int64) error
	InsertSession(tokenHash, account, address, csrf string, createdMs, expiresMs int64) error
	DeleteSession(tokenHash string) error
	DeleteSessionsOf(account string) (int64, error)
	InsertWallet(address, ip string, nonce int64, now time.Time) (bool, error)
	DeleteWallet(address string) (bool, error)
	UseWalletNonce(address string, nonce int64, ip *string, now time.Time) (bool, error)
}

// shopStore writes Shopify records and exchange rates.
type shopStore interface {
	InsertShopifyTransaction(st core.ShopifyTransaction, now time.Time) error
	MarkShopifyCaptured(transactionID int64, now time.Time) error
	MarkWebhook(eventID string, now time.Time) (bool, error)
	InsertRate(r core.ExchangeRate) error
}

// privacyStore rewrites personal data for redaction.
type privacyStore interface {
	OrdersToRedact(redactedPrefix string, customerIDs, orderIDs []string, all bool) ([]enginestore.OrderRef, error)
	PseudonymiseOrder(id int64, customerID string, now time.Time) error
	RenameCustomerLinks(from, to string) error
	OrderSnapshots() ([]enginestore.JSONDoc, error)
	OrderSnapshotsOf(orderID string) ([]enginestore.JSONDoc, error)
	EventPayloads() ([]enginestore.JSONDoc, error)
	EventPayloadsContaining(s string) ([]enginestore.JSONDoc, error)
	SetSnapshot(id int64, doc string) error
	SetEventPayload(seq int64, doc string) error
}

// storeTx is one write transaction of the store.
type storeTx interface {
	Context() context.Context
	// ReadsLock reports whether every read must reach the database to lock
	// its row (else a row read once may be kept until this transaction
	// changes it).
	ReadsLock() bool
	// TryLock takes a transaction-scoped lock shared with other instances
	// if it is free.
	TryLock(key int64) (bool, error)
	orderStore
	paymentStore
	balanceStore
	eventStore
	accessStore
	shopStore
	privacyStore
}

// storeReader reads outside transactions.
type storeReader interface {
	OrderByOrderID(ctx context.Context, orderID string) (*core.Order, error)
	OrderByIDOrAlt(ctx context.Context, id string) (*core.Order, error)
	OwnOrder(ctx context.Context, account, orderID string, strict bool) (*core.Order, error)
	OwnOrders(ctx context.Context, account string, strict, openOnly bool) ([]core.Order, error)
	LinkedOrders(ctx context.Context, account string, openOnly bool) ([]core.Order, error)
	CustomerOrders(ctx context.Context, customerID string) ([]core.Order, error)
	OpenOrders(ctx context.Context) ([]core.Order, error)
	OpenOrderCount(ctx context.Context) (int, error)
	ExpiringOrders(ctx context.Context, unclaimedBefore, unpaidBefore time.Time, limit int) ([]core.Order, error)
	SearchOrders(ctx context.Context, q core.OrderQuery) ([]core.Order, error)
	CustomerOrderPrices(ctx context.Context, customerID string) ([]enginestore.StatusPrice, error)
	NewOrderPrices(ctx context.Context) ([]enginestore.CustomerPrice, error)
	OrdersCreatedByDay(ctx context.Context, start time.Time) ([]enginestore.DayCount, error)
	OrdersPaidByDay(ctx context.Context, start time.Time) ([]enginestore.DayCount, error)

	PaymentsByAccount(ctx context.Context, account string) ([]core.Payment, error)
	PaymentsForOrder(ctx context.Context, orderID string) ([]core.Payment, error)
	SearchPayments(ctx context.Context, q enginestore.PaymentQuery) ([]core.Payment, error)

	Balance(ctx context.Context, account string) (enginestore.Balance, bool, error)
	CustomerBalances(ctx context.Context, customerID string) ([]enginestore.Balance, error)
	AccountSettlements(ctx context.Context, account string) ([]core.SettlementJournalEntry, error)
	CustomerSettlements(ctx context.Context, customerID string) ([]core.SettlementJournalEntry, error)
	OrderSettlements(ctx context.Context, orderID string) ([]core.SettlementJournalEntry, error)
	CustomerIDs(ctx context.Context, p core.Page) ([]string, error)
	Senders(ctx context.Context, p core.Page) ([]string, error)
	LinkedCustomers(ctx context.Context, account string) ([]string, error)
	CustomerAddresses(ctx context.Context, customerID string) ([]string, error)

	Audit(ctx context.Context, entity, key string) ([]enginestore.AuditEntry, error)
	RoleNames(ctx context.Context, account string) ([]string, error)
	RoleAssignments(ctx context.Context) ([]enginestore.RoleAssignment, error)
	LiveSession(ctx context.Context, tokenHash string, nowMs int64) (enginestore.Session, error)
	Wallets(ctx context.Context) ([]enginestore.Wallet, error)
	LatestRate(ctx context.Context, currency string) (core.ExchangeRate, error)
	LatestRates(ctx context.Context) ([]core.ExchangeRate, error)
	AllLatestRates(ctx context.Context) ([]core.ExchangeRate, error)
	UncapturedShopifyTransactions(ctx context.Context, shopifyOrderID int64) ([]enginestore.ShopifyTransaction, error)
	WebhookSeen(ctx context.Context, eventID string) (bool, error)
}

var (
	_ storeTx     = (*enginestore.Tx)(nil)
	_ storeReader = (*enginestore.Reader)(nil)
)
