package api

import (
	"context"

	"github.com/tari-payment/tps/api/console"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/tari"
)

// Engine is what the API needs from the payment engine, the console's needs
// included; *engine.Engine has it (cmd passes one).
type Engine interface {
	console.Engine

	// Health and metrics.
	Ping(ctx context.Context) error
	OutboxSubscribers(ctx context.Context) ([]outbox.SubscriberState, error)

	// Sign-in, roles and hot wallets.
	AssignRoles(ctx context.Context, addr tari.Address, apply, revoke []core.Role) error
	UseWalletNonce(ctx context.Context, addr tari.Address, nonce int64, remoteIP string, checkIP bool) error

	// Orders.
	NewOrder(ctx context.Context, o engine.NewOrder) (*core.Order, error)
	ClaimOrder(ctx context.Context, sig tari.MemoSignature) (core.ClaimResult, error)
	OrderByIDStrict(ctx context.Context, id string) (*core.Order, error)
	OrderForAddress(ctx context.Context, addr tari.Address, orderID string) (*core.Order, error)
	OrderPayState(ctx context.Context, orderID string) (*engine.OrderPayState, error)
	OwnOrders(ctx context.Context, addr tari.Address, unfulfilledOnly bool) (core.OrderResult, error)
	OwnHistory(ctx context.Context, addr tari.Address) (core.AddressHistory, error)
	NoteShopifyCancelMismatch(ctx context.Context, orderID, note string) (*core.Order, error)

	// Payments and balances.
	ReceivePayment(ctx context.Context, p engine.IncomingPayment) (*core.Payment, error)
	ConfirmPayment(ctx context.Context, txid string) (core.ConfirmResult, error)
	PaymentsForAddress(ctx context.Context, addr tari.Address) (core.PaymentsResult, error)
	AddressBalance(ctx context.Context, addr tari.Address) (core.AddressBalance, error)

	// Exchange rates.
	ExchangeRate(ctx context.Context, currency string) (core.ExchangeRate, error)
	AllExchangeRates(ctx context.Context) ([]core.ExchangeRate, error)
	PriceInMicroTari(ctx context.Context, currency, price string) (core.MicroTari, error)

	// Shopify webhooks and customer privacy.
	WebhookSeen(ctx context.Context, eventID string) (bool, error)
	MarkWebhookSeen(ctx context.Context, eventID string) (firstTime bool, err error)
	RecordShopifyTransaction(ctx context.Context, st core.ShopifyTransaction) error
	CustomerDataExport(ctx context.Context, customerID string) (engine.CustomerData, error)
	RedactCustomers(ctx context.Context, r engine.Redaction) (engine.RedactionResult, error)
}

var _ Engine = (*engine.Engine)(nil)
