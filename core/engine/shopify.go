package engine

import (
	"context"

	"github.com/tari-payment/tps/core"
)

// RecordShopifyTransaction stores a Shopify payment authorisation to capture
// later; a known id is a no-op success. Route: POST
// /shopify/webhook/transaction_create (kind authorization, status success).
func (e *Engine) RecordShopifyTransaction(ctx context.Context, t core.ShopifyTransaction) error {
	return errNotImplemented
}

// ShopifyTransactionsForOrder lists the uncaptured authorisations of a Shopify
// order (the shopify plugin captures them on OrderPaid).
func (e *Engine) ShopifyTransactionsForOrder(ctx context.Context, shopifyOrderID int64) ([]core.ShopifyTransaction, error) {
	return nil, errNotImplemented
}

// MarkShopifyTransactionCaptured flags one authorisation (by its transaction
// id) as captured.
func (e *Engine) MarkShopifyTransactionCaptured(ctx context.Context, transactionID int64) error {
	return errNotImplemented
}

// MarkWebhookSeen records a Shopify X-Shopify-Event-Id and reports whether it
// was the first delivery (D20: duplicates are acknowledged and change nothing).
func (e *Engine) MarkWebhookSeen(ctx context.Context, eventID string) (firstTime bool, err error) {
	return false, errNotImplemented
}
