package shopify

import (
	"context"
	"strings"
)

// WebhookSubscription is one of the shop's webhook subscriptions.
type WebhookSubscription struct {
	ID    string `json:"id"`
	Topic string `json:"topic"` // ORDERS_CREATE, ...
	URI   string `json:"uri"`
}

// WebhookSubscriptions lists the app's webhook subscriptions.
func (c *Client) WebhookSubscriptions(ctx context.Context) ([]WebhookSubscription, error) {
	q := `query($after: String) { webhookSubscriptions(first: 100, after: $after) { pageInfo { endCursor hasNextPage } nodes { id topic uri } } }`
	var all []WebhookSubscription
	var after *string
	for range maxPages {
		var out struct {
			WebhookSubscriptions struct {
				PageInfo pageInfo              `json:"pageInfo"`
				Nodes    []WebhookSubscription `json:"nodes"`
			} `json:"webhookSubscriptions"`
		}
		if err := c.GraphQL(ctx, q, map[string]any{"after": after}, &out); err != nil {
			return nil, err
		}
		all = append(all, out.WebhookSubscriptions.Nodes...)
		if !out.WebhookSubscriptions.PageInfo.HasNextPage || out.WebhookSubscriptions.PageInfo.EndCursor == nil {
			return all, nil
		}
		after = out.WebhookSubscriptions.PageInfo.EndCursor
	}
	return nil, &Error{Detail: "too many pages of webhook subscriptions"}
}

// CreateWebhook subscribes uri to topic (webhookSubscriptionCreate, JSON).
func (c *Client) CreateWebhook(ctx context.Context, topic, uri string) error {
	q := `mutation($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) { webhookSubscription { id topic uri } userErrors { field message } } }`
	var out struct {
		WebhookSubscriptionCreate struct {
			UserErrors []UserError `json:"userErrors"`
		} `json:"webhookSubscriptionCreate"`
	}
	if err := c.GraphQL(ctx, q, map[string]any{"topic": topic, "webhookSubscription": map[string]any{"uri": uri, "format": "JSON"}}, &out); err != nil {
		return err
	}
	return userErrorsErr("webhookSubscriptionCreate "+topic, out.WebhookSubscriptionCreate.UserErrors)
}

// UpdateWebhook points an existing subscription at uri.
func (c *Client) UpdateWebhook(ctx context.Context, id, uri string) error {
	q := `mutation($id: ID!, $webhookSubscription: WebhookSubscriptionInput!) { webhookSubscriptionUpdate(id: $id, webhookSubscription: $webhookSubscription) { webhookSubscription { id } userErrors { field message } } }`
	var out struct {
		WebhookSubscriptionUpdate struct {
			UserErrors []UserError `json:"userErrors"`
		} `json:"webhookSubscriptionUpdate"`
	}
	if err := c.GraphQL(ctx, q, map[string]any{"id": id, "webhookSubscription": map[string]any{"uri": uri}}, &out); err != nil {
		return err
	}
	return userErrorsErr("webhookSubscriptionUpdate", out.WebhookSubscriptionUpdate.UserErrors)
}

// AccessScopes lists the scopes the app holds on the shop.
func (c *Client) AccessScopes(ctx context.Context) ([]string, error) {
	var out struct {
		CurrentAppInstallation struct {
			AccessScopes []struct {
				Handle string `json:"handle"`
			} `json:"accessScopes"`
		} `json:"currentAppInstallation"`
	}
	if err := c.GraphQL(ctx, `{ currentAppInstallation { accessScopes { handle } } }`, nil, &out); err != nil {
		return nil, err
	}
	s := make([]string, 0, len(out.CurrentAppInstallation.AccessScopes))
	for _, a := range out.CurrentAppInstallation.AccessScopes {
		s = append(s, a.Handle)
	}
	return s, nil
}

// RequiredScopes are the Admin API scopes the server and its plugin use.
var RequiredScopes = []string{"read_orders", "write_orders", "read_products", "write_products"}

// MissingScopes returns the required scopes not in have.
func MissingScopes(have []string) []string {
	set := map[string]bool{}
	for _, h := range have {
		set[strings.TrimSpace(h)] = true
	}
	var missing []string
	for _, r := range RequiredScopes {
		// write_X implies read_X.
		if !set[r] && !(strings.HasPrefix(r, "read_") && set["write_"+strings.TrimPrefix(r, "read_")]) {
			missing = append(missing, r)
		}
	}
	return missing
}

// OrderSummary is an order as taritools shows it.
type OrderSummary struct {
	ID                     string  `json:"id"`
	Name                   string  `json:"name"`
	Email                  *string `json:"email"`
	CreatedAt              string  `json:"createdAt"`
	CurrencyCode           string  `json:"currencyCode"`
	DisplayFinancialStatus string  `json:"displayFinancialStatus"`
	CancelledAt            *string `json:"cancelledAt"`
	CancelReason           *string `json:"cancelReason"`
	Note                   *string `json:"note"`
	TotalPriceSet          struct {
		ShopMoney struct {
			Amount string `json:"amount"`
		} `json:"shopMoney"`
	} `json:"totalPriceSet"`
}

// Order fetches one order by its numeric id (nil if there is none).
func (c *Client) Order(ctx context.Context, id string) (*OrderSummary, error) {
	var out struct {
		Order *OrderSummary `json:"order"`
	}
	q := `query($id: ID!) { order(id: $id) { id name email createdAt currencyCode displayFinancialStatus cancelledAt cancelReason note totalPriceSet { shopMoney { amount } } } }`
	err := c.GraphQL(ctx, q, map[string]any{"id": "gid://shopify/Order/" + id}, &out)
	return out.Order, err
}

// MarkOrderPaid runs orderMarkAsPaid.
func (c *Client) MarkOrderPaid(ctx context.Context, id string) error {
	var out struct {
		OrderMarkAsPaid struct {
			UserErrors []UserError `json:"userErrors"`
		} `json:"orderMarkAsPaid"`
	}
	q := `mutation($input: OrderMarkAsPaidInput!) { orderMarkAsPaid(input: $input) { order { id } userErrors { field message } } }`
	if err := c.GraphQL(ctx, q, map[string]any{"input": map[string]any{"id": "gid://shopify/Order/" + id}}, &out); err != nil {
		return err
	}
	return userErrorsErr("orderMarkAsPaid", out.OrderMarkAsPaid.UserErrors)
}

// CancelOrder runs orderCancel: restocked, not refunded, the customer not
// notified, with a staff note.
func (c *Client) CancelOrder(ctx context.Context, id, staffNote string) error {
	var out struct {
		OrderCancel struct {
			UserErrors []UserError `json:"orderCancelUserErrors"`
		} `json:"orderCancel"`
	}
	q := `mutation($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, $refundMethod: OrderCancelRefundMethodInput, $staffNote: String, $notifyCustomer: Boolean) { orderCancel(orderId: $orderId, reason: $reason, restock: $restock, refundMethod: $refundMethod, staffNote: $staffNote, notifyCustomer: $notifyCustomer) { job { id done } orderCancelUserErrors { field message code } } }`
	vars := map[string]any{"orderId": "gid://shopify/Order/" + id, "reason": "OTHER", "restock": true,
		"refundMethod": map[string]any{"originalPaymentMethodsRefund": false}, "staffNote": staffNote, "notifyCustomer": false}
	if err := c.GraphQL(ctx, q, vars, &out); err != nil {
		return err
	}
	return userErrorsErr("orderCancel", out.OrderCancel.UserErrors)
}
