package api

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// Webhook topics, as the routes name them (the dedupe key includes them).
const (
	topicCheckoutCreate    = "checkout_create"
	topicProductUpdated    = "product_updated"
	topicTransactionCreate = "transaction_create"
)

// maxDeliveryHeader bounds the header values kept in a dedupe key.
const maxDeliveryHeader = 200

// deliveryKey names one webhook delivery for deduplication (D20), or "" when
// the request carries no id to dedupe on:
//
//   - X-Shopify-Webhook-Id, when present: Shopify's id of this one delivery
//     (the same on every retry of it);
//   - else the topic plus X-Shopify-Event-Id: one event id may be sent for
//     several topics, so the id alone would drop the second topic's webhook.
//
// Both headers are outside the HMAC, so the key also holds the id of the
// resource the (signed) body is about: a reused or forged header on a body
// for another order, product or transaction is never mistaken for a
// duplicate. Every webhook route dedupes through duplicateDelivery and
// markDelivered with its topic and resource id.
func deliveryKey(c *gin.Context, topic, resourceID string) string {
	resourceID = strings.TrimSpace(resourceID)
	if id := headerValue(c, "X-Shopify-Webhook-Id"); id != "" {
		return "webhook:" + id + "|" + resourceID
	}
	if id := headerValue(c, "X-Shopify-Event-Id"); id != "" {
		return "event:" + topic + ":" + id + "|" + resourceID
	}
	return ""
}

func headerValue(c *gin.Context, name string) string {
	v := strings.TrimSpace(c.GetHeader(name))
	if len(v) > maxDeliveryHeader {
		v = v[:maxDeliveryHeader]
	}
	return v
}

// duplicateDelivery reports (D20) whether this delivery (deliveryKey) was
// already handled. It only reads: markDelivered records the key once the
// delivery's work has committed, so a failed delivery is processed again on
// Shopify's retry instead of being dropped as a duplicate.
func (s *Server) duplicateDelivery(c *gin.Context, topic, resourceID string) bool {
	key := deliveryKey(c, topic, resourceID)
	if key == "" {
		return false
	}
	seen, err := s.eng.WebhookSeen(c.Request.Context(), key)
	if err != nil {
		s.log.Error("reading webhook delivery id", "request_id", requestID(c), "err", err)
		return false // process it: orders and transactions are idempotent anyway
	}
	return seen
}

// markDelivered records this delivery's key after its work committed.
func (s *Server) markDelivered(c *gin.Context, topic, resourceID string) {
	key := deliveryKey(c, topic, resourceID)
	if key == "" {
		return
	}
	if _, err := s.eng.MarkWebhookSeen(c.Request.Context(), key); err != nil {
		s.log.Error("recording webhook delivery id", "request_id", requestID(c), "err", err)
	}
}
