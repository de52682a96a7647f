// Package shopify is the small Shopify Admin API client the server and
// taritools need, GraphQL only: reads of product variants, open orders and
// the shop, the variant Tari-price metafield update used when the exchange
// rate changes (productVariantsBulkUpdate), webhook subscriptions, and exact
// decimal price conversion. Tokens come from a TokenSource: the app's
// client-credentials grant (renewed before expiry and once on a 401) or a
// fixed token. Calls wait out THROTTLED answers by their reported cost and
// retry 5xx with backoff; userErrors are permanent errors. Marking orders
// paid or cancelled is the shopify plugin's job; the server's token reaches
// it through Transport.
package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls the Admin API at BaseURL (https://<shop>/admin/api/<version>
// or the TPG_SHOPIFY_API_URL override) through the GraphQL endpoint only.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	// MaxAttempts bounds the tries of one call (throttling and 5xx); default 5.
	MaxAttempts int
	// Sleep waits between tries; tests may shorten it. nil: a context-aware sleep.
	Sleep func(ctx context.Context, d time.Duration) error
}

// New returns a client with a fixed token and a bounded timeout; no call ever
// holds a DB transaction open (the callers make sure of that).
func New(baseURL, accessToken string) *Client {
	return NewWithTokens(baseURL, StaticToken(accessToken), nil)
}

// NewWithTokens returns a client whose requests carry src's token (renewed
// once on a 401). base is the transport underneath; nil means the default.
func NewWithTokens(baseURL string, src TokenSource, base http.RoundTripper) *Client {
	baseURL = strings.TrimRight(baseURL, "/")
	host := ""
	if u, err := url.Parse(baseURL); err == nil {
		host = u.Host
	}
	return &Client{BaseURL: baseURL, HTTP: &http.Client{Timeout: 30 * time.Second,
		Transport: &Transport{Host: host, Source: src, Base: base}}}
}

// Error is a failed Admin API call. Permanent errors (userErrors, a refused
// request) will fail the same way again; the others may pass on a retry.
type Error struct {
	Status    int
	Detail    string
	Permanent bool
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("Shopify API error (HTTP %d): %s", e.Status, e.Detail)
	}
	return "Shopify API error: " + e.Detail
}

type gqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

// Cost is the extensions.cost block of a GraphQL answer.
type Cost struct {
	RequestedQueryCost float64 `json:"requestedQueryCost"`
	ActualQueryCost    float64 `json:"actualQueryCost"`
	ThrottleStatus     struct {
		MaximumAvailable   float64 `json:"maximumAvailable"`
		CurrentlyAvailable float64 `json:"currentlyAvailable"`
		RestoreRate        float64 `json:"restoreRate"`
	} `json:"throttleStatus"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
	Extensions struct {
		Cost *Cost `json:"cost"`
	} `json:"extensions"`
}

// ThrottleWait is how long to wait before a query that was THROTTLED can
// run: until the bucket has refilled to the requested cost.
func ThrottleWait(c *Cost) time.Duration {
	if c == nil || c.ThrottleStatus.RestoreRate <= 0 {
		return time.Second
	}
	missing := c.RequestedQueryCost - c.ThrottleStatus.CurrentlyAvailable
	if missing <= 0 {
		return 100 * time.Millisecond
	}
	return min(time.Duration(missing/c.ThrottleStatus.RestoreRate*float64(time.Second))+50*time.Millisecond, 20*time.Second)
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// GraphQL posts one query and decodes its data into out. It waits out
// THROTTLED answers (by the reported cost) and retries 5xx and network
// failures with exponential backoff, up to MaxAttempts tries. Other errors
// and a null data count as failure.
func (c *Client) GraphQL(ctx context.Context, query string, vars map[string]any, out any) error {
	attempts := c.MaxAttempts
	if attempts <= 0 {
		attempts = 5
	}
	backoff := 500 * time.Millisecond
	var err error
	for i := 0; i < attempts; i++ {
		var wait time.Duration
		wait, err = c.graphQLOnce(ctx, query, vars, out)
		if err == nil || wait < 0 || i == attempts-1 {
			return err
		}
		if wait == 0 {
			wait = backoff
			backoff = min(backoff*2, 10*time.Second)
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return err
		}
	}
	return err
}

// graphQLOnce makes one try. wait < 0: do not retry; 0: retry with backoff;
// > 0: retry after that long (throttled).
func (c *Client) graphQLOnce(ctx context.Context, query string, vars map[string]any, out any) (time.Duration, error) {
	body, err := json.Marshal(gqlRequest{Query: query, Variables: vars})
	if err != nil {
		return -1, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/graphql.json", bytes.NewReader(body))
	if err != nil {
		return -1, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		var se *Error
		if errors.As(err, &se) && se.Permanent { // the token endpoint refused the app
			return -1, se
		}
		if ctx.Err() != nil {
			return -1, &Error{Detail: err.Error()}
		}
		return 0, &Error{Detail: err.Error()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, &Error{Detail: err.Error()}
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return time.Second, &Error{Status: resp.StatusCode, Detail: "throttled"}
	case resp.StatusCode >= 500:
		return 0, &Error{Status: resp.StatusCode, Detail: truncate(string(raw), 300)}
	case resp.StatusCode/100 != 2:
		return -1, &Error{Status: resp.StatusCode, Detail: truncate(string(raw), 300), Permanent: true}
	}
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return -1, &Error{Detail: "invalid GraphQL response: " + err.Error()}
	}
	if len(r.Errors) > 0 {
		msgs := make([]string, len(r.Errors))
		throttled := false
		for i, e := range r.Errors {
			msgs[i] = e.Message
			throttled = throttled || e.Extensions.Code == "THROTTLED"
		}
		if throttled {
			return ThrottleWait(r.Extensions.Cost), &Error{Detail: "THROTTLED: " + strings.Join(msgs, "; ")}
		}
		return -1, &Error{Detail: strings.Join(msgs, "; "), Permanent: true}
	}
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return -1, &Error{Detail: "GraphQL response has no data"}
	}
	return -1, json.Unmarshal(r.Data, out)
}

// UserError is one entry of a mutation's userErrors.
type UserError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code,omitempty"`
}

// userErrorsErr turns a non-empty userErrors list into a permanent Error.
func userErrorsErr(what string, ue []UserError) error {
	if len(ue) == 0 {
		return nil
	}
	msgs := make([]string, len(ue))
	for i, e := range ue {
		msgs[i] = e.Message
		if len(e.Field) > 0 {
			msgs[i] = strings.Join(e.Field, ".") + ": " + e.Message
		}
	}
	return &Error{Detail: what + ": " + strings.Join(msgs, "; "), Permanent: true}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Metafield is the custom.tari_price metafield of a variant.
type Metafield struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// Variant is a product variant with its shop price and Tari price metafield.
type Variant struct {
	ID      string `json:"id"` // gid://shopify/ProductVariant/<n>
	Price   string `json:"price"`
	Product struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"product"`
	Metafield *Metafield `json:"metafield"`
}

const variantFields = `id price product { id title } metafield(namespace: "custom", key: "tari_price") { id value }`

// ProductVariant fetches one variant by its numeric id.
func (c *Client) ProductVariant(ctx context.Context, id int64) (Variant, error) {
	var out struct {
		ProductVariant *Variant `json:"productVariant"`
	}
	q := `query($id: ID!) { productVariant(id: $id) { ` + variantFields + ` } }`
	if err := c.GraphQL(ctx, q, map[string]any{"id": fmt.Sprintf("gid://shopify/ProductVariant/%d", id)}, &out); err != nil {
		return Variant{}, err
	}
	if out.ProductVariant == nil {
		return Variant{}, &Error{Detail: fmt.Sprintf("product variant %d not found", id)}
	}
	return *out.ProductVariant, nil
}

type pageInfo struct {
	EndCursor   *string `json:"endCursor"`
	HasNextPage bool    `json:"hasNextPage"`
}

// maxPages bounds pagination so a misbehaving API cannot loop us forever.
const maxPages = 10000

// AllProductVariants lists every product variant, 100 per page.
func (c *Client) AllProductVariants(ctx context.Context) ([]Variant, error) {
	q := `query($after: String) { productVariants(first: 100, after: $after) { pageInfo { endCursor hasNextPage } nodes { ` + variantFields + ` } } }`
	var all []Variant
	var after *string
	for range maxPages {
		var out struct {
			ProductVariants struct {
				PageInfo pageInfo  `json:"pageInfo"`
				Nodes    []Variant `json:"nodes"`
			} `json:"productVariants"`
		}
		if err := c.GraphQL(ctx, q, map[string]any{"after": after}, &out); err != nil {
			return nil, err
		}
		all = append(all, out.ProductVariants.Nodes...)
		if !out.ProductVariants.PageInfo.HasNextPage || out.ProductVariants.PageInfo.EndCursor == nil {
			return all, nil
		}
		after = out.ProductVariants.PageInfo.EndCursor
	}
	return nil, &Error{Detail: "too many pages of product variants"}
}

// tariPriceMetafield is the metafield input that sets a variant's Tari price
// (µT as a decimal string), updating the existing metafield or creating it.
func tariPriceMetafield(v Variant, microTari int64) map[string]any {
	value := fmt.Sprintf("%d", microTari)
	if v.Metafield != nil && v.Metafield.ID != "" {
		return map[string]any{"id": v.Metafield.ID, "value": value}
	}
	return map[string]any{"namespace": "custom", "key": "tari_price", "type": "number_integer", "value": value}
}

// maxBulkVariants is how many variants one productVariantsBulkUpdate carries.
const maxBulkVariants = 250

const bulkUpdateMutation = `mutation($productId: ID!, $variants: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate(productId: $productId, variants: $variants) { productVariants { id } userErrors { field message code } } }`

// setTariPrices writes the Tari prices of some variants of one product with
// productVariantsBulkUpdate.
func (c *Client) setTariPrices(ctx context.Context, productID string, inputs []map[string]any) error {
	var out struct {
		ProductVariantsBulkUpdate struct {
			UserErrors []UserError `json:"userErrors"`
		} `json:"productVariantsBulkUpdate"`
	}
	if err := c.GraphQL(ctx, bulkUpdateMutation, map[string]any{"productId": productID, "variants": inputs}, &out); err != nil {
		return err
	}
	return userErrorsErr("variant update failed", out.ProductVariantsBulkUpdate.UserErrors)
}

// RepriceVariants sets every variant's Tari price to rate × price, skipping
// those already correct, one productVariantsBulkUpdate per product. It
// returns how many were updated.
func (c *Client) RepriceVariants(ctx context.Context, variants []Variant, rate int64) (int, error) {
	var errs []error
	byProduct := map[string][]map[string]any{}
	var products []string
	for _, v := range variants {
		want, err := PriceToMicroTari(v.Price, rate)
		if err != nil {
			errs = append(errs, fmt.Errorf("variant %s: %w", v.ID, err))
			continue
		}
		if v.Metafield != nil && v.Metafield.Value == fmt.Sprintf("%d", want) {
			continue
		}
		if _, ok := byProduct[v.Product.ID]; !ok {
			products = append(products, v.Product.ID)
		}
		byProduct[v.Product.ID] = append(byProduct[v.Product.ID], map[string]any{"id": v.ID, "metafields": []any{tariPriceMetafield(v, want)}})
	}
	n := 0
	for _, p := range products {
		in := byProduct[p]
		for len(in) > 0 {
			chunk := in[:min(len(in), maxBulkVariants)]
			in = in[len(chunk):]
			if err := c.setTariPrices(ctx, p, chunk); err != nil {
				errs = append(errs, err)
				continue
			}
			n += len(chunk)
		}
	}
	return n, errors.Join(errs...)
}

// OpenOrder is one open order as returned by the rescan query.
type OpenOrder struct {
	ID                      string  `json:"id"` // gid://shopify/Order/<n>
	Name                    string  `json:"name"`
	CreatedAt               string  `json:"createdAt"`
	UpdatedAt               string  `json:"updatedAt"`
	Note                    *string `json:"note"`
	CurrencyCode            string  `json:"currencyCode"`
	PresentmentCurrencyCode string  `json:"presentmentCurrencyCode"`
	Confirmed               bool    `json:"confirmed"`
	TotalDiscounts          string  `json:"totalDiscounts"`
	TotalPrice              string  `json:"totalPrice"`
	TotalTax                string  `json:"totalTax"`
	SubtotalPrice           string  `json:"subtotalPrice"`
	TotalOutstandingSet     *struct {
		ShopMoney struct {
			Amount string `json:"amount"`
		} `json:"shopMoney"`
	} `json:"totalOutstandingSet"`
	Customer *struct {
		ID string `json:"id"`
	} `json:"customer"`
}

// OpenOrders fetches every open order, 25 per page.
func (c *Client) OpenOrders(ctx context.Context) ([]OpenOrder, error) {
	q := `query($after: String) { orders(first: 25, after: $after, query: "status:open") { pageInfo { endCursor hasNextPage } nodes { id name createdAt updatedAt note currencyCode presentmentCurrencyCode confirmed totalDiscounts totalPrice totalTax subtotalPrice totalOutstandingSet { shopMoney { amount } } customer { id } } } }`
	var all []OpenOrder
	var after *string
	for range maxPages {
		var out struct {
			Orders struct {
				PageInfo pageInfo    `json:"pageInfo"`
				Nodes    []OpenOrder `json:"nodes"`
			} `json:"orders"`
		}
		if err := c.GraphQL(ctx, q, map[string]any{"after": after}, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Orders.Nodes...)
		if !out.Orders.PageInfo.HasNextPage || out.Orders.PageInfo.EndCursor == nil {
			return all, nil
		}
		after = out.Orders.PageInfo.EndCursor
	}
	return nil, &Error{Detail: "too many pages of orders"}
}

// GIDNumber returns the last path segment of a Shopify gid ("gid://shopify/Order/12" → "12").
func GIDNumber(gid string) string {
	if i := strings.LastIndexByte(gid, '/'); i >= 0 {
		return gid[i+1:]
	}
	return gid
}

// ShopCurrency returns the shop's currency code (what variant prices are in).
func (c *Client) ShopCurrency(ctx context.Context) (string, error) {
	var out struct {
		Shop struct {
			CurrencyCode string `json:"currencyCode"`
		} `json:"shop"`
	}
	if err := c.GraphQL(ctx, `{ shop { currencyCode } }`, nil, &out); err != nil {
		return "", err
	}
	if out.Shop.CurrencyCode == "" {
		return "", &Error{Detail: "shop has no currency code"}
	}
	return strings.ToUpper(out.Shop.CurrencyCode), nil
}
