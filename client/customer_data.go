package client

import (
	"context"
	"encoding/json"
	"net/http"
)

// CustomerData calls GET /api/customer_data/{customer_id}: everything the
// server stores about a customer (for a Shopify customers/data_request).
func (c *Client) CustomerData(ctx context.Context, customerID string) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.call(ctx, http.MethodGet, "/api/customer_data/"+esc(customerID), true, nil, &out)
	return out, err
}
