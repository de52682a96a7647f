// Package shopifytest is a fake Shopify for tests, on loopback, that behaves
// like the real one where the server depends on it: the OAuth
// client-credentials grant issues expiring tokens, the GraphQL Admin API
// (only) answers the operations the server and the shipped plugin use with
// Shopify's shapes (userErrors, orderCancelUserErrors, extensions.cost), and
// faults can be injected: THROTTLED with cost data, HTTP 5xx, user errors,
// revoked tokens. Any other path (the legacy REST API) answers 404 and is
// counted, so a test can assert nothing calls REST.
package shopifytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Order is an order in the fake shop.
type Order struct {
	ID              int64
	FinancialStatus string // PENDING, AUTHORIZED, PAID, ...
	Total           string
	Currency        string
	CancelledAt     *time.Time
	CancelReason    string
	StaffNote       string
	Restocked       bool
	Refunded        bool
	NotifyCustomer  bool
	Transactions    []Transaction
	MarkedPaid      int // orderMarkAsPaid calls that succeeded
	Captures        []int64
	Cancels         int
}

// Transaction is an order transaction.
type Transaction struct {
	ID       int64
	Kind     string // AUTHORIZATION, CAPTURE, SALE
	Status   string // SUCCESS
	ParentID int64
	Amount   string
	Currency string
}

// Variant is a product variant with its Tari price metafield.
type Variant struct {
	ProductID int64
	Price     string
	TariPrice string // "" means no metafield
}

// Webhook is a webhook subscription.
type Webhook struct {
	ID    int64
	Topic string // ORDERS_CREATE, ...
	URI   string
}

// Fault is an injected answer for one GraphQL call.
type Fault struct {
	Status    int    // HTTP status (5xx, 429)
	Throttled bool   // a THROTTLED error with cost data
	UserError string // a userErrors entry (mutations)
	OrderID   int64  // when set, only a call about this order takes the fault
}

// Fake is the fake shop.
type Fake struct {
	*httptest.Server
	Version      string // Admin API version served (2026-10)
	ClientID     string
	ClientSecret string

	mu        sync.Mutex
	tokenTTL  time.Duration
	tokens    map[string]time.Time // token → expiry
	issued    int
	rejected  int // requests refused for a missing, unknown or expired token
	restCalls []string
	ops       []string
	faults    map[string][]Fault
	nextID    int64
	currency  string
	scopes    []string
	orders    map[int64]*Order
	variants  map[int64]*Variant
	webhooks  []*Webhook
	updates   []string
	open      []map[string]any // open orders, as the orders query returns them
	down      bool
	now       func() time.Time
}

// New starts a fake shop for the app clientID/clientSecret.
func New(clientID, clientSecret string) *Fake {
	f := &Fake{Version: "2026-10", ClientID: clientID, ClientSecret: clientSecret, tokenTTL: 24 * time.Hour,
		tokens: map[string]time.Time{}, faults: map[string][]Fault{}, nextID: 5000, currency: "USD",
		scopes: []string{"read_orders", "write_orders", "read_products", "write_products"},
		orders: map[int64]*Order{}, variants: map[int64]*Variant{}, now: time.Now}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// APIURL is the TPG_SHOPIFY_API_URL to configure.
func (f *Fake) APIURL() string { return f.URL + "/admin/api/" + f.Version }

// Host is the shop's host:port.
func (f *Fake) Host() string { return strings.TrimPrefix(f.URL, "http://") }

// SetTokenTTL sets the lifetime (expires_in) of tokens issued from now on.
func (f *Fake) SetTokenTTL(d time.Duration) { f.mu.Lock(); f.tokenTTL = d; f.mu.Unlock() }

// ExpireTokens makes every token issued so far expire now (Shopify then
// answers 401 to calls made with them).
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	for t := range f.tokens {
		f.tokens[t] = f.now().Add(-time.Second)
	}
	f.mu.Unlock()
}

// AddStaticToken accepts a fixed Admin API token (a pre-2026 custom app).
func (f *Fake) AddStaticToken(tok string) {
	f.mu.Lock()
	f.tokens[tok] = f.now().Add(100 * 365 * 24 * time.Hour)
	f.mu.Unlock()
}

// Fail queues faults for the next calls of a GraphQL operation (orderMarkAsPaid,
// orderCapture, orderCancel, order, productVariantsBulkUpdate, ...).
func (f *Fake) Fail(op string, faults ...Fault) {
	f.mu.Lock()
	f.faults[op] = append(f.faults[op], faults...)
	f.mu.Unlock()
}

// AddOrder puts an order in the shop.
func (f *Fake) AddOrder(o Order) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o.FinancialStatus == "" {
		o.FinancialStatus = "PENDING"
	}
	if o.Currency == "" {
		o.Currency = "USD"
	}
	c := o
	f.orders[o.ID] = &c
}

// Order returns a copy of an order (ok false if unknown).
func (f *Fake) Order(id int64) (Order, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[id]
	if !ok {
		return Order{}, false
	}
	c := *o
	c.Transactions = append([]Transaction(nil), o.Transactions...)
	c.Captures = append([]int64(nil), o.Captures...)
	return c, true
}

// AddVariant puts a product variant in the shop.
func (f *Fake) AddVariant(id int64, v Variant) {
	f.mu.Lock()
	c := v
	f.variants[id] = &c
	f.mu.Unlock()
}

// VariantTariPrice returns a variant's Tari price metafield value.
func (f *Fake) VariantTariPrice(id int64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v := f.variants[id]; v != nil {
		return v.TariPrice
	}
	return ""
}

// SetVariantPrice changes a variant's shop price.
func (f *Fake) SetVariantPrice(id int64, price string) {
	f.mu.Lock()
	if v := f.variants[id]; v != nil {
		v.Price = price
	}
	f.mu.Unlock()
}

// Updates returns the Tari price writes so far, as "variant gid=value".
func (f *Fake) Updates() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.updates...)
}

// SetOpenOrders sets the nodes the open-orders query returns.
func (f *Fake) SetOpenOrders(nodes []map[string]any) {
	f.mu.Lock()
	f.open = nodes
	f.mu.Unlock()
}

// SetDown makes every GraphQL call answer HTTP 500 until called with false.
func (f *Fake) SetDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

// Webhooks returns the subscriptions.
func (f *Fake) Webhooks() []Webhook {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Webhook, len(f.webhooks))
	for i, w := range f.webhooks {
		out[i] = *w
	}
	return out
}

// Stats are counters for assertions.
type Stats struct {
	TokensIssued int
	Rejected     int      // calls refused for a bad or expired token
	RESTCalls    []string // requests outside OAuth and GraphQL
	Ops          []string // GraphQL operations answered (after faults)
}

// Stats returns the counters so far.
func (f *Fake) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Stats{f.issued, f.rejected, append([]string(nil), f.restCalls...), append([]string(nil), f.ops...)}
}

// Count returns how many times a GraphQL operation was answered.
func (s Stats) Count(op string) int {
	n := 0
	for _, o := range s.Ops {
		if o == op {
			n++
		}
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/admin/oauth/access_token":
		f.serveToken(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/admin/api/"+f.Version+"/graphql.json":
		f.serveGraphQL(w, r)
	default:
		f.restCalls = append(f.restCalls, r.Method+" "+r.URL.Path)
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
	}
}

// serveToken is the client-credentials grant (form or JSON body).
func (f *Fake) serveToken(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	var in struct {
		GrantType    string `json:"grant_type"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(body, &in)
	} else {
		v, _ := url.ParseQuery(string(body))
		in.GrantType, in.ClientID, in.ClientSecret = v.Get("grant_type"), v.Get("client_id"), v.Get("client_secret")
	}
	if in.GrantType != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type"})
		return
	}
	if in.ClientID != f.ClientID || in.ClientSecret != f.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "Client authentication failed"})
		return
	}
	f.issued++
	tok := fmt.Sprintf("shpat_fake_%d_%d", f.issued, f.now().UnixNano())
	f.tokens[tok] = f.now().Add(f.tokenTTL)
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "scope": strings.Join(f.scopes, ","), "expires_in": int64(f.tokenTTL / time.Second)})
}

func cost(requested float64, available float64) map[string]any {
	return map[string]any{"cost": map[string]any{
		"requestedQueryCost": requested, "actualQueryCost": nil,
		"throttleStatus": map[string]any{"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": 100.0},
	}}
}

var opNames = []string{
	"orderMarkAsPaid", "orderCapture", "orderCancel", "productVariantsBulkUpdate", "productVariantUpdate",
	"webhookSubscriptionCreate", "webhookSubscriptionUpdate", "webhookSubscriptions", "currentAppInstallation",
	"productVariants", "productVariant", "orders", "order", "shop",
}

// operation names the query's root field.
func operation(q string) string {
	for _, n := range opNames {
		if regexp.MustCompile(`[{\s]` + n + `\s*[({]`).MatchString(q) {
			return n
		}
	}
	return ""
}

func gid(kind string, id int64) string { return fmt.Sprintf("gid://shopify/%s/%d", kind, id) }

func gidNum(v any) int64 {
	s, _ := v.(string)
	var n int64
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		fmt.Sscan(s[i+1:], &n)
	}
	return n
}

func userErrors(msg string) []any {
	if msg == "" {
		return []any{}
	}
	return []any{map[string]any{"field": []string{"id"}, "message": msg}}
}

func (f *Fake) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	tok := r.Header.Get("X-Shopify-Access-Token")
	if exp, ok := f.tokens[tok]; !ok || !f.now().Before(exp) {
		f.rejected++
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []any{map[string]any{"message": "invalid JSON"}}})
		return
	}
	if f.down {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": "Internal Server Error"})
		return
	}
	op := operation(req.Query)
	var fault Fault
	target := callOrderID(req.Variables)
	for i, q := range f.faults[op] {
		if q.OrderID == 0 || q.OrderID == target {
			fault = q
			f.faults[op] = append(f.faults[op][:i:i], f.faults[op][i+1:]...)
			break
		}
	}
	switch {
	case fault.Status != 0:
		writeJSON(w, fault.Status, map[string]any{"errors": "Internal Server Error"})
		return
	case fault.Throttled:
		writeJSON(w, http.StatusOK, map[string]any{
			"errors":     []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}},
			"extensions": cost(52, 10),
		})
		return
	}
	f.ops = append(f.ops, op)
	v := req.Variables
	data := map[string]any{}
	switch op {
	case "order":
		o := f.orders[gidNum(v["id"])]
		if o == nil {
			data["order"] = nil
			break
		}
		txs := []any{}
		for _, t := range o.Transactions {
			var parent any
			if t.ParentID != 0 {
				parent = map[string]any{"id": gid("OrderTransaction", t.ParentID)}
			}
			txs = append(txs, map[string]any{"id": gid("OrderTransaction", t.ID), "kind": t.Kind, "status": t.Status, "parentTransaction": parent,
				"amountSet": map[string]any{"presentmentMoney": map[string]any{"amount": t.Amount, "currencyCode": t.Currency}}})
		}
		var cancelled any
		if o.CancelledAt != nil {
			cancelled = o.CancelledAt.Format(time.RFC3339)
		}
		var reason any
		if o.CancelReason != "" {
			reason = o.CancelReason
		}
		data["order"] = map[string]any{"id": gid("Order", o.ID), "name": fmt.Sprintf("#%d", o.ID), "email": nil, "note": nil,
			"createdAt": "2026-12-01T10:00:00Z", "currencyCode": o.Currency, "cancelReason": reason,
			"cancelledAt": cancelled, "displayFinancialStatus": o.FinancialStatus,
			"canMarkAsPaid": o.CancelledAt == nil && (o.FinancialStatus == "PENDING" || o.FinancialStatus == "PARTIALLY_PAID"),
			"transactions":  txs, "totalPriceSet": map[string]any{"shopMoney": map[string]any{"amount": o.Total, "currencyCode": o.Currency}}}
	case "orderMarkAsPaid":
		in, _ := v["input"].(map[string]any)
		o := f.orders[gidNum(in["id"])]
		msg := fault.UserError
		switch {
		case msg != "":
		case o == nil:
			msg = "Order does not exist"
		case o.CancelledAt != nil || (o.FinancialStatus != "PENDING" && o.FinancialStatus != "PARTIALLY_PAID"):
			msg = "Order cannot be marked as paid."
		}
		if msg != "" {
			data["orderMarkAsPaid"] = map[string]any{"order": nil, "userErrors": userErrors(msg)}
			break
		}
		o.FinancialStatus = "PAID"
		o.MarkedPaid++
		f.nextID++
		o.Transactions = append(o.Transactions, Transaction{ID: f.nextID, Kind: "SALE", Status: "SUCCESS", Amount: o.Total, Currency: o.Currency})
		data["orderMarkAsPaid"] = map[string]any{"order": map[string]any{"id": gid("Order", o.ID), "displayFinancialStatus": "PAID"}, "userErrors": []any{}}
	case "orderCapture":
		in, _ := v["input"].(map[string]any)
		o := f.orders[gidNum(in["id"])]
		parent := gidNum(in["parentTransactionId"])
		msg := fault.UserError
		var auth *Transaction
		if o != nil {
			for i := range o.Transactions {
				if o.Transactions[i].ID == parent && o.Transactions[i].Kind == "AUTHORIZATION" {
					auth = &o.Transactions[i]
				}
			}
		}
		if msg == "" && auth == nil {
			msg = "Parent transaction does not exist"
		}
		if msg == "" && in["amount"] != auth.Amount {
			msg = "Amount must match the authorization"
		}
		if msg != "" {
			data["orderCapture"] = map[string]any{"transaction": nil, "userErrors": userErrors(msg)}
			break
		}
		f.nextID++
		o.Transactions = append(o.Transactions, Transaction{ID: f.nextID, Kind: "CAPTURE", Status: "SUCCESS", ParentID: parent, Amount: auth.Amount, Currency: auth.Currency})
		o.Captures = append(o.Captures, parent)
		o.FinancialStatus = "PAID"
		data["orderCapture"] = map[string]any{"transaction": map[string]any{"id": gid("OrderTransaction", f.nextID)}, "userErrors": []any{}}
	case "orderCancel":
		o := f.orders[gidNum(v["orderId"])]
		msg := fault.UserError
		switch {
		case msg != "":
		case o == nil:
			msg = "Order does not exist"
		case o.CancelledAt != nil:
			msg = "Order has already been cancelled"
		case v["reason"] == nil || v["restock"] == nil:
			msg = "reason and restock are required"
		}
		if msg != "" {
			data["orderCancel"] = map[string]any{"job": nil, "orderCancelUserErrors": []any{map[string]any{"field": []string{"orderId"}, "message": msg, "code": "INVALID"}}, "userErrors": []any{}}
			break
		}
		now := f.now()
		o.CancelledAt = &now
		o.Cancels++
		o.CancelReason, _ = v["reason"].(string)
		o.StaffNote, _ = v["staffNote"].(string)
		o.Restocked, _ = v["restock"].(bool)
		o.NotifyCustomer, _ = v["notifyCustomer"].(bool)
		if rm, ok := v["refundMethod"].(map[string]any); ok {
			o.Refunded, _ = rm["originalPaymentMethodsRefund"].(bool)
		} else if rf, ok := v["refund"].(bool); ok {
			o.Refunded = rf
		} else {
			o.Refunded = true // Shopify's default refunds
		}
		f.nextID++
		data["orderCancel"] = map[string]any{"job": map[string]any{"id": gid("Job", f.nextID), "done": false}, "orderCancelUserErrors": []any{}, "userErrors": []any{}}
	case "productVariantsBulkUpdate":
		product := gidNum(v["productId"])
		ins, _ := v["variants"].([]any)
		done := []any{}
		msg := fault.UserError
		for _, raw := range ins {
			in, _ := raw.(map[string]any)
			vr := f.variants[gidNum(in["id"])]
			if vr == nil || vr.ProductID != product {
				msg = "Product variant does not exist"
			}
		}
		if msg != "" {
			data["productVariantsBulkUpdate"] = map[string]any{"productVariants": nil, "userErrors": userErrors(msg)}
			break
		}
		for _, raw := range ins {
			in := raw.(map[string]any)
			id := gidNum(in["id"])
			mfs, _ := in["metafields"].([]any)
			for _, m := range mfs {
				mf, _ := m.(map[string]any)
				val, _ := mf["value"].(string)
				f.variants[id].TariPrice = val
				f.updates = append(f.updates, fmt.Sprintf("%s=%s", gid("ProductVariant", id), val))
			}
			done = append(done, map[string]any{"id": gid("ProductVariant", id)})
		}
		data["productVariantsBulkUpdate"] = map[string]any{"productVariants": done, "userErrors": []any{}}
	case "productVariant":
		id := gidNum(v["id"])
		if vr := f.variants[id]; vr != nil {
			data["productVariant"] = f.variantNode(id, vr)
		} else {
			data["productVariant"] = nil
		}
	case "productVariants":
		ids := make([]int64, 0, len(f.variants))
		for id := range f.variants {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		nodes := []any{}
		for _, id := range ids {
			nodes = append(nodes, f.variantNode(id, f.variants[id]))
		}
		data["productVariants"] = map[string]any{"pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil}, "nodes": nodes}
	case "orders":
		nodes := []any{}
		for _, o := range f.open {
			nodes = append(nodes, o)
		}
		data["orders"] = map[string]any{"pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil}, "nodes": nodes}
	case "shop":
		data["shop"] = map[string]any{"currencyCode": f.currency, "name": "Fake shop", "myshopifyDomain": f.Host()}
	case "currentAppInstallation":
		sc := []any{}
		for _, s := range f.scopes {
			sc = append(sc, map[string]any{"handle": s})
		}
		data["currentAppInstallation"] = map[string]any{"accessScopes": sc}
	case "webhookSubscriptions":
		nodes := []any{}
		for _, wh := range f.webhooks {
			nodes = append(nodes, map[string]any{"id": gid("WebhookSubscription", wh.ID), "topic": wh.Topic, "uri": wh.URI})
		}
		data["webhookSubscriptions"] = map[string]any{"pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil}, "nodes": nodes}
	case "webhookSubscriptionCreate":
		topic, _ := v["topic"].(string)
		sub, _ := v["webhookSubscription"].(map[string]any)
		uri, _ := sub["uri"].(string)
		msg := fault.UserError
		for _, wh := range f.webhooks {
			if msg == "" && wh.Topic == topic && wh.URI == uri {
				msg = "Address for this topic has already been taken"
			}
		}
		if msg == "" && !strings.HasPrefix(uri, "https://") && !strings.HasPrefix(uri, "http://") {
			msg = "Address is invalid"
		}
		if msg != "" {
			data["webhookSubscriptionCreate"] = map[string]any{"webhookSubscription": nil, "userErrors": userErrors(msg)}
			break
		}
		f.nextID++
		wh := &Webhook{ID: f.nextID, Topic: topic, URI: uri}
		f.webhooks = append(f.webhooks, wh)
		data["webhookSubscriptionCreate"] = map[string]any{"webhookSubscription": map[string]any{"id": gid("WebhookSubscription", wh.ID), "topic": topic, "uri": uri}, "userErrors": []any{}}
	case "webhookSubscriptionUpdate":
		id := gidNum(v["id"])
		sub, _ := v["webhookSubscription"].(map[string]any)
		uri, _ := sub["uri"].(string)
		var found *Webhook
		for _, wh := range f.webhooks {
			if wh.ID == id {
				found = wh
			}
		}
		if found == nil {
			data["webhookSubscriptionUpdate"] = map[string]any{"webhookSubscription": nil, "userErrors": userErrors("Webhook subscription does not exist")}
			break
		}
		found.URI = uri
		data["webhookSubscriptionUpdate"] = map[string]any{"webhookSubscription": map[string]any{"id": gid("WebhookSubscription", id), "topic": found.Topic, "uri": uri}, "userErrors": []any{}}
	default:
		writeJSON(w, http.StatusOK, map[string]any{"errors": []any{map[string]any{"message": "Field is not defined on QueryRoot", "extensions": map[string]any{"code": "undefinedField"}}}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "extensions": cost(10, 1990)})
}

// callOrderID is the order a call is about (0 if none).
func callOrderID(v map[string]any) int64 {
	if n := gidNum(v["orderId"]); n != 0 {
		return n
	}
	if in, ok := v["input"].(map[string]any); ok {
		return gidNum(in["id"])
	}
	return gidNum(v["id"])
}

func (f *Fake) variantNode(id int64, v *Variant) map[string]any {
	n := map[string]any{"id": gid("ProductVariant", id), "price": v.Price,
		"product": map[string]any{"id": gid("Product", v.ProductID), "title": "Thing"}, "metafield": nil}
	if v.TariPrice != "" {
		n["metafield"] = map[string]any{"id": gid("Metafield", id), "value": v.TariPrice}
	}
	return n
}
