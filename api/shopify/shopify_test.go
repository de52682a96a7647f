package shopify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPriceToMicroTari(t *testing.T) {
	cases := []struct {
		price string
		rate  int64
		want  int64
	}{
		{"15.9", 30_000_000, 477_000_000},
		{"15.90", 30_000_000, 477_000_000},
		{"190.00", 1_000_000, 190_000_000},
		{"12.5", 100, 1250},
		{"1.234", 1000, 1234},
		{"-3.5", 2, -7},
		{"0.00", 5, 0},
		{"7", 3, 21},
		{".5", 10, 5},
	}
	for _, c := range cases {
		got, err := PriceToMicroTari(c.price, c.rate)
		if err != nil || got != c.want {
			t.Errorf("%q×%d = %d, %v; want %d", c.price, c.rate, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "abc", "1.2.3", "1e5", "--1", ".", "99999999999999999999999"} {
		if _, err := PriceToMicroTari(bad, 1_000_000); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRepriceAndOpenOrders(t *testing.T) {
	var updates []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/api/2026-10/graphql.json" || r.Header.Get("X-Shopify-Access-Token") != "tok" {
			http.Error(w, "bad", 401)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var req gqlRequest
		_ = json.Unmarshal(b, &req)
		switch {
		case strings.Contains(req.Query, "productVariants("):
			if req.Variables["after"] == nil {
				io.WriteString(w, `{"data":{"productVariants":{"pageInfo":{"endCursor":"c1","hasNextPage":true},"nodes":[{"id":"gid://shopify/ProductVariant/1","price":"10.00","product":{"id":"p","title":"t"},"metafield":{"id":"m1","value":"300000000"}}]}}}`)
			} else {
				io.WriteString(w, `{"data":{"productVariants":{"pageInfo":{"endCursor":null,"hasNextPage":false},"nodes":[{"id":"gid://shopify/ProductVariant/2","price":"2.5","product":{"id":"p","title":"t"},"metafield":null}]}}}`)
			}
		case strings.Contains(req.Query, "productVariantsBulkUpdate"):
			updates = append(updates, string(b))
			io.WriteString(w, `{"data":{"productVariantsBulkUpdate":{"productVariants":[{"id":"x"}],"userErrors":[]}}}`)
		case strings.Contains(req.Query, "orders("):
			io.WriteString(w, `{"data":{"orders":{"pageInfo":{"hasNextPage":false},"nodes":[{"id":"gid://shopify/Order/42","name":"#1001","totalPrice":"1.00","currencyCode":"USD","customer":null}]}}}`)
		default:
			io.WriteString(w, `{"errors":[{"message":"nope"}]}`)
		}
	}))
	defer srv.Close()
	c := New(srv.URL+"/admin/api/2026-10/", "tok")
	vs, err := c.AllProductVariants(context.Background())
	if err != nil || len(vs) != 2 {
		t.Fatal(vs, err)
	}
	n, err := c.RepriceVariants(context.Background(), vs, 30_000_000)
	if err != nil || n != 1 || len(updates) != 1 || !strings.Contains(updates[0], `"value":"75000000"`) || !strings.Contains(updates[0], `"key":"tari_price"`) {
		t.Fatal(n, err, updates)
	}
	orders, err := c.OpenOrders(context.Background())
	if err != nil || len(orders) != 1 || GIDNumber(orders[0].ID) != "42" || orders[0].Customer != nil {
		t.Fatal(orders, err)
	}
	if _, err := c.ProductVariant(context.Background(), 5); err == nil {
		t.Fatal("errors array not reported")
	}
	bad := New(srv.URL, "wrong")
	if _, err := bad.OpenOrders(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatal(err)
	}
}
