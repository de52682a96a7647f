package engine

import (
	"context"

	"github.com/tari-payment/tps/core"
)

// RecordShopifyTransaction stores a Shopify payment authorisation to capture
// later; a known id is a no-op success. Route: POST
// /shopify/webhook/transaction_create (kind authorization, status success).
func (e *Engine) RecordShopifyTransaction(ctx context.Context, st core.ShopifyTransaction) error {
	_, err := e.writeParallel(ctx, func(t *txn) error {
		return t.InsertShopifyTransaction(st, t.now)
	})
	return err
}

// ShopifyTransactionsForOrder lists the uncaptured authorisations of a Shopify
// order (the shopify plugin captures them on OrderPaid).
func (e *Engine) ShopifyTransactionsForOrder(ctx context.Context, shopifyOrderID int64) ([]core.ShopifyTransaction, error) {
	rows, err := e.reads.UncapturedShopifyTransactions(ctx, shopifyOrderID)
	if err != nil {
		return nil, err
	}
	out := make([]core.ShopifyTransaction, len(rows))
	for i, r := range rows {
		out[i] = core.ShopifyTransaction{ID: r.ID, OrderID: r.OrderID, Amount: r.Amount, Currency: r.Currency, Test: r.Test, Captured: r.Captured, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	}
	return out, nil
}

// MarkShopifyTransactionCaptured flags one authorisation (by its transaction
// id) as captured.
func (e *Engine) MarkShopifyTransactionCaptured(ctx context.Context, transactionID int64) error {
	_, err := e.writeParallel(ctx, func(t *txn) error {
		return t.MarkShopifyCaptured(transactionID, t.now)
	})
	return err
}

// WebhookSeen reports whether a Shopify X-Shopify-Event-Id was recorded by
// MarkWebhookSeen. Handlers check it first and mark the id only after the
// delivery's work committed, so a delivery that failed (or a crash between
// the two) is not mistaken for a duplicate when Shopify retries it.
func (e *Engine) WebhookSeen(ctx context.Context, eventID string) (bool, error) {
	return e.reads.WebhookSeen(ctx, eventID)
}

// MarkWebhookSeen records a Shopify X-Shopify-Event-Id and reports whether it
// was the first delivery (D20: duplicates are acknowledged and change nothing).
func (e *Engine) MarkWebhookSeen(ctx context.Context, eventID string) (firstTime bool, err error) {
	_, err = e.writeParallel(ctx, func(t *txn) error {
		var err error
		firstTime, err = t.MarkWebhook(eventID, t.now)
		return err
	})
	return firstTime, err
}
