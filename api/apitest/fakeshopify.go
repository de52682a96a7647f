package apitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// FakeShopify is a tiny Shopify Admin GraphQL API: a shop currency, product
// variants with a Tari price metafield, and open orders.
type FakeShopify struct {
	*httptest.Server
	mu         sync.Mutex
	Currency   string
	Variants   map[int64]*FakeVariant
	OpenOrders []map[string]any
	Updates    []string // variant gid → value, as "gid=value"
	Fail       bool     // answer every call with HTTP 500
}

// FakeVariant is a product variant.
type FakeVariant struct {
	Price     string
	TariPrice string // "" means no metafield
}

// NewFakeShopify starts one; its Admin API base URL is URL()+"/admin/api/2026-10".
func NewFakeShopify() *FakeShopify {
	f := &FakeShopify{Currency: "USD", Variants: map[int64]*FakeVariant{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// APIURL is the TPG_SHOPIFY_API_URL to configure.
func (f *FakeShopify) APIURL() string { return f.URL + "/admin/api/2026-10" }

func (f *FakeShopify) variantNode(id int64, v *FakeVariant) map[string]any {
	n := map[string]any{"id": fmt.Sprintf("gid://shopify/ProductVariant/%d", id), "price": v.Price,
		"product": map[string]any{"id": "gid://shopify/Product/1", "title": "Thing"}, "metafield": nil}
	if v.TariPrice != "" {
		n["metafield"] = map[string]any{"id": fmt.Sprintf("gid://shopify/Metafield/%d", id), "value": v.TariPrice}
	}
	return n
}

func (f *FakeShopify) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Fail {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	if r.URL.Path != "/admin/api/2026-10/graphql.json" || r.Header.Get("X-Shopify-Access-Token") == "" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &req)
	out := map[string]any{}
	switch {
	case strings.Contains(req.Query, "shop {"):
		out["shop"] = map[string]any{"currencyCode": f.Currency}
	case strings.Contains(req.Query, "productVariantsBulkUpdate"):
		var done []any
		for _, raw := range req.Variables["variants"].([]any) {
			in := raw.(map[string]any)
			gid := in["id"].(string)
			mf := in["metafields"].([]any)[0].(map[string]any)
			f.Updates = append(f.Updates, gid+"="+mf["value"].(string))
			var id int64
			fmt.Sscanf(gid, "gid://shopify/ProductVariant/%d", &id)
			if v := f.Variants[id]; v != nil {
				v.TariPrice = mf["value"].(string)
			}
			done = append(done, map[string]any{"id": gid})
		}
		out["productVariantsBulkUpdate"] = map[string]any{"productVariants": done, "userErrors": []any{}}
	case strings.Contains(req.Query, "productVariants("):
		nodes := []any{}
		for id, v := range f.Variants {
			nodes = append(nodes, f.variantNode(id, v))
		}
		out["productVariants"] = map[string]any{"pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil}, "nodes": nodes}
	case strings.Contains(req.Query, "productVariant("):
		var id int64
		fmt.Sscanf(fmt.Sprint(req.Variables["id"]), "gid://shopify/ProductVariant/%d", &id)
		if v := f.Variants[id]; v != nil {
			out["productVariant"] = f.variantNode(id, v)
		} else {
			out["productVariant"] = nil
		}
	case strings.Contains(req.Query, "orders("):
		nodes := f.OpenOrders
		if nodes == nil {
			nodes = []map[string]any{}
		}
		out["orders"] = map[string]any{"pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil}, "nodes": nodes}
	default:
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{"message": "unknown query"}}})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": out})
}

// UpdatesSnapshot returns the metafield updates so far.
func (f *FakeShopify) UpdatesSnapshot() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.Updates...)
}

// SetFail makes every call fail (or succeed again).
func (f *FakeShopify) SetFail(v bool) {
	f.mu.Lock()
	f.Fail = v
	f.mu.Unlock()
}
