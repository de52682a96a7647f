// Package shopify is the small Shopify Admin API client the server needs:
// GraphQL reads of product variants and open orders, the variant Tari-price
// metafield update used when the exchange rate changes, and exact decimal
// price conversion. Marking orders paid or cancelled is the shopify plugin's
// job, not this package's.
package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client calls the Admin API at BaseURL (https://<shop>/admin/api/<version>
// or the TPG_SHOPIFY_API_URL override).
type Client struct {
	BaseURL string
	token   string
	HTTP    *http.Client
}

// New returns a client with a bounded timeout; no call ever holds a DB
// transaction open (the callers make sure of that).
func New(baseURL, accessToken string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), token: accessToken, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Error is a failed Admin API call.
type Error struct {
	Status int
	Detail string
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

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// GraphQL posts one query and decodes its data into out. An errors array or a
// null data counts as failure.
func (c *Client) GraphQL(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(gqlRequest{Query: query, Variables: vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/graphql.json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", c.token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return &Error{Detail: err.Error()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return &Error{Detail: err.Error()}
	}
	if resp.StatusCode/100 != 2 {
		return &Error{Status: resp.StatusCode, Detail: truncate(string(raw), 300)}
	}
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return &Error{Detail: "invalid GraphQL response: " + err.Error()}
	}
	if len(r.Errors) > 0 {
		msgs := make([]string, len(r.Errors))
		for i, e := range r.Errors {
			msgs[i] = e.Message
		}
		return &Error{Detail: strings.Join(msgs, "; ")}
	}
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return &Error{Detail: "GraphQL response has no data"}
	}
	return json.Unmarshal(r.Data, out)
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

// SetVariantTariPrice writes the custom.tari_price metafield (µT as a decimal
// string), updating the existing metafield or creating it.
func (c *Client) SetVariantTariPrice(ctx context.Context, v Variant, microTari int64) error {
	value := fmt.Sprintf("%d", microTari)
	var mf map[string]any
	if v.Metafield != nil && v.Metafield.ID != "" {
		mf = map[string]any{"id": v.Metafield.ID, "value": value}
	} else {
		mf = map[string]any{"namespace": "custom", "key": "tari_price", "type": "number_integer", "value": value}
	}
	q := `mutation($input: ProductVariantInput!) { productVariantUpdate(input: $input) { productVariant { id } userErrors { field message } } }`
	var out struct {
		ProductVariantUpdate struct {
			UserErrors []struct {
				Message string `json:"message"`
			} `json:"userErrors"`
		} `json:"productVariantUpdate"`
	}
	if err := c.GraphQL(ctx, q, map[string]any{"input": map[string]any{"id": v.ID, "metafields": []any{mf}}}, &out); err != nil {
		return err
	}
	if ue := out.ProductVariantUpdate.UserErrors; len(ue) > 0 {
		msgs := make([]string, len(ue))
		for i, e := range ue {
			msgs[i] = e.Message
		}
		return &Error{Detail: "variant update failed: " + strings.Join(msgs, "; ")}
	}
	return nil
}

// RepriceVariants sets every variant's Tari price to rate × price, skipping
// those already correct. It returns how many were updated.
func (c *Client) RepriceVariants(ctx context.Context, variants []Variant, rate int64) (int, error) {
	n := 0
	var errs []error
	for _, v := range variants {
		want, err := PriceToMicroTari(v.Price, rate)
		if err != nil {
			errs = append(errs, fmt.Errorf("variant %s: %w", v.ID, err))
			continue
		}
		if v.Metafield != nil && v.Metafield.Value == fmt.Sprintf("%d", want) {
			continue
		}
		if err := c.SetVariantTariPrice(ctx, v, want); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
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
