// Command shopify is the default plugin that carries the Shopify integration:
// on OrderPaid it marks the Shopify order paid (orderMarkAsPaid), first
// capturing the order's pending authorisations (orderCapture) when
// TPG_SHOPIFY_CAPTURE_PAYMENTS is on; on OrderAnnulled (expired or cancelled
// here) it cancels the order (orderCancel: restocked, not refunded, with a
// staff note). Every call goes through the GraphQL Admin API at
// TPG_SHOPIFY_API_VERSION.
//
// The access token: when the server holds the app's client credentials (or a
// fixed token) its plugin host adds X-Shopify-Access-Token to this plugin's
// requests for the shop, renewing the token as needed; the plugin never sees
// the client secret. A fixed TPG_SHOPIFY_ADMIN_ACCESS_TOKEN, when set, is
// also sent by the plugin itself (useful when the host has no token source).
//
// Delivery is at least once, so every action first reads the order's state
// (transactions, financial status, cancelledAt): a redelivered event never
// captures, marks paid or cancels twice. THROTTLED answers, 429 and 5xx are
// returned as errors and the server retries with backoff; userErrors and
// other 4xx are permanent failures, parked for an admin to look at.
package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tari-payment/tps/sdk"
)

func init() {
	sdk.OnOrderPaid(orderPaid)
	sdk.OnOrderAnnulled(orderAnnulled)
}

func main() {}

// defaultAPIVersion is a currently supported Admin API version.
const defaultAPIVersion = "2026-10"

type client struct{ endpoint, token string }

func newClient() client {
	base := sdk.ConfigOr("TPG_SHOPIFY_API_URL", "")
	if base == "" {
		shop := sdk.ConfigOr("TPG_SHOPIFY_SHOP", "")
		base = "https://" + shop + "/admin/api/" + sdk.ConfigOr("TPG_SHOPIFY_API_VERSION", defaultAPIVersion)
	}
	token, _ := sdk.Config("TPG_SHOPIFY_ADMIN_ACCESS_TOKEN")
	return client{endpoint: strings.TrimSuffix(base, "/") + "/graphql.json", token: token}
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

type userError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
}

// graphQL sends one query and decodes its data into out. Throttling, 429 and
// 5xx are retryable; GraphQL errors and other 4xx are permanent.
func (c client) graphQL(op, query string, vars map[string]any, out any) error {
	raw, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	h := map[string]string{"Content-Type": "application/json", "Accept": "application/json"}
	if c.token != "" {
		h["X-Shopify-Access-Token"] = c.token
	}
	resp, err := sdk.Do(sdk.Request{Method: "POST", URL: c.endpoint, Body: raw, Header: h})
	if err != nil {
		return err
	}
	if !resp.OK() {
		msg := fmt.Errorf("shopify %s: HTTP %d: %.300s", op, resp.Status, resp.Body)
		if resp.Retryable() {
			return msg
		}
		return sdk.Permanent(msg)
	}
	var r struct {
		Data       json.RawMessage `json:"data"`
		Errors     []gqlError      `json:"errors"`
		Extensions struct {
			Cost *struct {
				RequestedQueryCost float64 `json:"requestedQueryCost"`
				ThrottleStatus     struct {
					CurrentlyAvailable float64 `json:"currentlyAvailable"`
					RestoreRate        float64 `json:"restoreRate"`
				} `json:"throttleStatus"`
			} `json:"cost"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(resp.Body, &r); err != nil {
		return fmt.Errorf("shopify %s: bad JSON: %w", op, err)
	}
	if len(r.Errors) > 0 {
		msgs := make([]string, len(r.Errors))
		throttled := false
		for i, e := range r.Errors {
			msgs[i] = e.Message
			throttled = throttled || e.Extensions.Code == "THROTTLED"
		}
		if throttled {
			// The server's retry backoff outlasts the bucket's refill
			// (restoreRate points a second); say how long Shopify needs.
			wait := ""
			if c := r.Extensions.Cost; c != nil && c.ThrottleStatus.RestoreRate > 0 {
				wait = fmt.Sprintf(" (cost %.0f, %.0f available, refills %.0f/s)", c.RequestedQueryCost, c.ThrottleStatus.CurrentlyAvailable, c.ThrottleStatus.RestoreRate)
			}
			return fmt.Errorf("shopify %s: THROTTLED%s", op, wait)
		}
		return sdk.Permanent(fmt.Errorf("shopify %s: %s", op, strings.Join(msgs, "; ")))
	}
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return fmt.Errorf("shopify %s: no data", op)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		return sdk.Permanent(fmt.Errorf("shopify %s: unexpected data: %w", op, err))
	}
	return nil
}

// userErrors turns a mutation's userErrors into a permanent failure: Shopify
// refused the change and will refuse it again.
func userErrors(op string, ue []userError) error {
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
	return sdk.Permanent(fmt.Errorf("shopify %s refused: %s", op, strings.Join(msgs, "; ")))
}

type money struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currencyCode"`
}

type transaction struct {
	ID                string `json:"id"`
	Kind              string `json:"kind"`   // AUTHORIZATION, CAPTURE, SALE, ...
	Status            string `json:"status"` // SUCCESS, PENDING, FAILURE, ...
	ParentTransaction *struct {
		ID string `json:"id"`
	} `json:"parentTransaction"`
	AmountSet struct {
		PresentmentMoney money `json:"presentmentMoney"`
	} `json:"amountSet"`
}

type orderState struct {
	ID                     string        `json:"id"`
	CancelledAt            *string       `json:"cancelledAt"`
	DisplayFinancialStatus string        `json:"displayFinancialStatus"`
	CanMarkAsPaid          bool          `json:"canMarkAsPaid"`
	Transactions           []transaction `json:"transactions"`
}

const orderQuery = `query($id: ID!) { order(id: $id) { id cancelledAt displayFinancialStatus canMarkAsPaid transactions(first: 50) { id kind status parentTransaction { id } amountSet { presentmentMoney { amount currencyCode } } } } }`

func (c client) order(gid string) (orderState, error) {
	var out struct {
		Order *orderState `json:"order"`
	}
	if err := c.graphQL("order", orderQuery, map[string]any{"id": gid}, &out); err != nil {
		return orderState{}, err
	}
	if out.Order == nil {
		return orderState{}, sdk.Permanent(fmt.Errorf("shopify order %s not found", gid))
	}
	return *out.Order, nil
}

// shopifyGID returns the Shopify order gid; orders whose id is not a number
// did not come from Shopify and are skipped.
func shopifyGID(o sdk.Order) (string, bool) {
	if _, err := strconv.ParseUint(o.OrderID, 10, 64); err != nil {
		return "", false
	}
	return "gid://shopify/Order/" + o.OrderID, true
}

// alreadyPaid are the financial statuses of an order whose payment is recorded.
var alreadyPaid = map[string]bool{"PAID": true, "PARTIALLY_REFUNDED": true, "REFUNDED": true}

const captureMutation = `mutation($input: OrderCaptureInput!) { orderCapture(input: $input) { transaction { id } userErrors { field message } } }`
const markPaidMutation = `mutation($input: OrderMarkAsPaidInput!) { orderMarkAsPaid(input: $input) { order { id displayFinancialStatus } userErrors { field message } } }`

func orderPaid(ev sdk.Event, e sdk.OrderEvent) error {
	gid, ok := shopifyGID(e.Order)
	if !ok {
		return sdk.ErrSkip
	}
	c := newClient()
	st, err := c.order(gid)
	if err != nil {
		return err
	}
	if sdk.ConfigBool("TPG_SHOPIFY_CAPTURE_PAYMENTS", false) {
		captured := map[string]bool{}
		for _, t := range st.Transactions {
			if t.Status == "SUCCESS" && t.Kind == "CAPTURE" && t.ParentTransaction != nil {
				captured[t.ParentTransaction.ID] = true
			}
		}
		didCapture := false
		for _, t := range st.Transactions {
			if t.Kind != "AUTHORIZATION" || t.Status != "SUCCESS" || captured[t.ID] {
				continue
			}
			m := t.AmountSet.PresentmentMoney
			var out struct {
				OrderCapture struct {
					UserErrors []userError `json:"userErrors"`
				} `json:"orderCapture"`
			}
			in := map[string]any{"id": gid, "parentTransactionId": t.ID, "amount": m.Amount, "currency": m.CurrencyCode}
			if err := c.graphQL("orderCapture", captureMutation, map[string]any{"input": in}, &out); err != nil {
				return err
			}
			if err := userErrors("orderCapture", out.OrderCapture.UserErrors); err != nil {
				return err
			}
			didCapture = true
			sdk.Infof("captured authorisation %s of Shopify order %s (event %s)", t.ID, e.Order.OrderID, ev.ID)
		}
		if didCapture {
			// A capture may settle the order; read its state again.
			if st, err = c.order(gid); err != nil {
				return err
			}
		}
	}
	switch {
	case alreadyPaid[st.DisplayFinancialStatus]:
		sdk.Infof("Shopify order %s is already paid; nothing to do (event %s)", e.Order.OrderID, ev.ID)
		return nil
	case st.CancelledAt != nil:
		sdk.Warnf("Shopify order %s was cancelled in Shopify but is paid here; not marking it paid", e.Order.OrderID)
		return sdk.ErrSkip
	case !st.CanMarkAsPaid:
		sdk.Warnf("Shopify order %s cannot be marked paid (financial status %s)", e.Order.OrderID, st.DisplayFinancialStatus)
		return sdk.ErrSkip
	}
	var out struct {
		OrderMarkAsPaid struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"orderMarkAsPaid"`
	}
	if err := c.graphQL("orderMarkAsPaid", markPaidMutation, map[string]any{"input": map[string]any{"id": gid}}, &out); err != nil {
		return err
	}
	if err := userErrors("orderMarkAsPaid", out.OrderMarkAsPaid.UserErrors); err != nil {
		return err
	}
	sdk.Infof("marked Shopify order %s paid (event %s)", e.Order.OrderID, ev.ID)
	return nil
}

const cancelQuery = `query($id: ID!) { order(id: $id) { id cancelledAt } }`
const cancelMutation = `mutation($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, $refundMethod: OrderCancelRefundMethodInput, $staffNote: String, $notifyCustomer: Boolean) { orderCancel(orderId: $orderId, reason: $reason, restock: $restock, refundMethod: $refundMethod, staffNote: $staffNote, notifyCustomer: $notifyCustomer) { job { id done } orderCancelUserErrors { field message code } } }`

func orderAnnulled(ev sdk.Event, e sdk.OrderAnnulledEvent) error {
	gid, ok := shopifyGID(e.Order)
	if !ok {
		return sdk.ErrSkip
	}
	c := newClient()
	var got struct {
		Order *struct {
			CancelledAt *string `json:"cancelledAt"`
		} `json:"order"`
	}
	if err := c.graphQL("order", cancelQuery, map[string]any{"id": gid}, &got); err != nil {
		return err
	}
	if got.Order == nil {
		return sdk.Permanent(fmt.Errorf("shopify order %s not found", gid))
	}
	if got.Order.CancelledAt != nil {
		sdk.Infof("Shopify order %s is already cancelled (event %s)", e.Order.OrderID, ev.ID)
		return nil
	}
	note := fmt.Sprintf("Tari payment server: order %s here (%s); nothing was paid in Tari.", strings.ToLower(string(e.Status)), ev.ID)
	vars := map[string]any{
		"orderId": gid, "reason": "OTHER", "restock": true,
		// Nothing was paid through Tari; never refund anything else.
		"refundMethod": map[string]any{"originalPaymentMethodsRefund": false},
		"staffNote":    note, "notifyCustomer": false,
	}
	var out struct {
		OrderCancel struct {
			UserErrors []userError `json:"orderCancelUserErrors"`
		} `json:"orderCancel"`
	}
	if err := c.graphQL("orderCancel", cancelMutation, vars, &out); err != nil {
		return err
	}
	if err := userErrors("orderCancel", out.OrderCancel.UserErrors); err != nil {
		return err
	}
	sdk.Infof("cancelled Shopify order %s with restock (%s)", e.Order.OrderID, e.Status)
	return nil
}
