package console

import (
	"context"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/tari"
)

// Engine is what the console needs from the payment engine; *engine.Engine
// has it.
type Engine interface {
	// Sessions and sign-in.
	Login(ctx context.Context, addr tari.Address, nonce uint64, desired []core.Role) ([]core.Role, error)
	RolesForAddress(ctx context.Context, addr tari.Address) ([]core.Role, error)
	CreateConsoleSession(ctx context.Context, s engine.ConsoleSession) error
	ConsoleSessionByHash(ctx context.Context, tokenHash string, now time.Time) (engine.ConsoleSession, error)
	DeleteConsoleSession(ctx context.Context, tokenHash string) error
	DeleteConsoleSessionsFor(ctx context.Context, addr tari.Address) (int64, error)

	// Reads.
	OrderByID(ctx context.Context, id string) (*core.Order, error)
	SearchOrders(ctx context.Context, q core.OrderQuery) ([]core.Order, error)
	SearchPayments(ctx context.Context, q engine.PaymentQuery) ([]core.Payment, error)
	OrdersForAddress(ctx context.Context, addr tari.Address, unfulfilledOnly bool) (core.OrderResult, error)
	OrderAudit(ctx context.Context, o core.Order) ([]engine.AuditEntry, error)
	OrderExpiresAt(o core.Order) time.Time
	ExpiringOrders(ctx context.Context, cutoff time.Time, limit int) ([]core.Order, error)
	OpenOrderCount(ctx context.Context) (int, error)
	DailyVolume(ctx context.Context, since, now time.Time) ([]engine.DayVolume, error)
	PaymentsForOrder(ctx context.Context, orderID string) ([]core.Payment, error)
	PaymentAudit(ctx context.Context, txid string) ([]engine.AuditEntry, error)
	SettlementsForOrder(ctx context.Context, orderID string) ([]core.SettlementJournalEntry, error)
	AddressHistory(ctx context.Context, addr tari.Address) (core.AddressHistory, error)
	Addresses(ctx context.Context, p core.Page) ([]string, error)
	CustomerHistory(ctx context.Context, customerID string) (core.CustomerHistory, error)
	CustomerIDs(ctx context.Context, p core.Page) ([]string, error)
	CustomerIDsForAddress(ctx context.Context, addr tari.Address) ([]string, error)
	Creditors(ctx context.Context) ([]core.CustomerOrders, error)
	ExchangeRates(ctx context.Context) ([]core.ExchangeRate, error)
	Wallets(ctx context.Context) ([]core.WalletInfo, error)
	RoleHolders(ctx context.Context) ([]engine.RoleHolder, error)

	// Changes.
	CancelOrder(ctx context.Context, orderID, reason string) (*core.Order, error)
	FulfilOrder(ctx context.Context, orderID, reason string) (*core.Order, error)
	ResetOrder(ctx context.Context, orderID string) (core.OrderChanged, error)
	ReassignOrder(ctx context.Context, orderID, newCustomerID, reason string) (core.OrderMovedResult, error)
	UpdateOrderMemo(ctx context.Context, orderID, memo, reason string) (*core.Order, error)
	UpdateOrderPrice(ctx context.Context, orderID string, newPrice core.MicroTari, reason string) (*core.Order, error)
	IssueCreditNote(ctx context.Context, customerID string, amount core.MicroTari, reason *string) (core.MultiAccountPayment, error)
	SettleAddress(ctx context.Context, addr tari.Address) (*core.MultiAccountPayment, error)
	SettleCustomer(ctx context.Context, customerID string) (*core.MultiAccountPayment, error)
	SetExchangeRate(ctx context.Context, currency string, rate core.MicroTari) (core.ExchangeRate, error)
	RegisterWallet(ctx context.Context, addr tari.Address, ip string, initialNonce int64) error
	DeregisterWallet(ctx context.Context, addr tari.Address) error
	AssignRoles(ctx context.Context, addr tari.Address, apply, revoke []core.Role) error
}

var _ Engine = (*engine.Engine)(nil)
