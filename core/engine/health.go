package engine

import (
	"context"

	"github.com/tari-payment/tps/core/outbox"
)

// Ping reports whether the database answers (readiness probe, metrics).
func (e *Engine) Ping(ctx context.Context) error { return e.db.PingContext(ctx) }

// OutboxSubscribers reads every outbox subscriber's delivery state from the
// database (metrics: the same numbers on every instance sharing it).
func (e *Engine) OutboxSubscribers(ctx context.Context) ([]outbox.SubscriberState, error) {
	return outbox.Subscribers(ctx, e.db)
}
