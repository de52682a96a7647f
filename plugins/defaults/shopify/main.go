// Command shopify is the default plugin that carries the Shopify integration:
// on OrderPaid it marks the Shopify order paid (first capturing the order's
// payment authorisations when TPG_SHOPIFY_CAPTURE_PAYMENTS is on), on
// OrderAnnulled it cancels the order. It uses the merchant's TPG_SHOPIFY_*
// settings and the Admin REST calls of the reference (http-api.md §5.6).
//
// Delivery is at least once, so every action first asks Shopify whether it
// was already done (the order's transactions, the order's cancelled_at):
// a redelivered event never captures or cancels twice. 429 and 5xx answers
// are returned as errors and the server retries with backoff; other 4xx are
// permanent failures (parked for an admin to look at).
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

type client struct{ base, token string }

func newClient() client {
	base := sdk.ConfigOr("TPG_SHOPIFY_API_URL", "")
	if base == "" {
		shop := sdk.ConfigOr("TPG_SHOPIFY_SHOP", "")
		base = "https://" + shop + "/admin/api/" + sdk.ConfigOr("TPG_SHOPIFY_API_VERSION", "2024-04")
	}
	token, _ := sdk.Config("TPG_SHOPIFY_ADMIN_ACCESS_TOKEN")
	return client{base: strings.TrimSuffix(base, "/"), token: token}
}

// call sends one Admin API request and decodes a 2xx JSON answer into out.
func (c client) call(method, path string, body any, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	resp, err := sdk.Do(sdk.Request{Method: method, URL: c.base + path, Body: raw,
		Header: map[string]string{"X-Shopify-Access-Token": c.token, "Content-Type": "application/json", "Accept": "application/json"}})
	if err != nil {
		return err
	}
	if !resp.OK() {
		msg := fmt.Errorf("shopify %s %s: HTTP %d: %.300s", method, path, resp.Status, resp.Body)
		if resp.Retryable() {
			return msg
		}
		return sdk.Permanent(msg)
	}
	if out != nil && len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return fmt.Errorf("shopify %s %s: bad JSON: %w", method, path, err)
		}
	}
	return nil
}

type transaction struct {
	ID       int64   `json:"id"`
	ParentID *int64  `json:"parent_id"`
	Kind     string  `json:"kind"`
	Status   string  `json:"status"`
	Amount   string  `json:"amount"`
	Currency string  `json:"currency"`
	Test     bool    `json:"test"`
	Gateway  *string `json:"gateway,omitempty"`
}

// shopifyID returns the numeric Shopify order id; other orders did not come
// from Shopify and are skipped.
func shopifyID(o sdk.Order) (string, bool) {
	if _, err := strconv.ParseUint(o.OrderID, 10, 64); err != nil {
		return "", false
	}
	return o.OrderID, true
}

func orderPaid(ev sdk.Event, e sdk.OrderEvent) error {
	id, ok := shopifyID(e.Order)
	if !ok {
		return sdk.ErrSkip
	}
	c := newClient()
	capture := sdk.ConfigBool("TPG_SHOPIFY_CAPTURE_PAYMENTS", false)
	var list struct {
		Transactions []transaction `json:"transactions"`
	}
	if err := c.call("GET", "/orders/"+id+"/transactions.json", nil, &list); err != nil {
		return err
	}
	captured := map[int64]bool{}
	markedPaid := false
	for _, t := range list.Transactions {
		if t.Status != "success" || (t.Kind != "capture" && t.Kind != "sale") {
			continue
		}
		if t.ParentID != nil {
			captured[*t.ParentID] = true
		} else {
			markedPaid = true
		}
	}
	if capture {
		for _, t := range list.Transactions {
			if t.Kind != "authorization" || t.Status != "success" || captured[t.ID] {
				continue
			}
			body := map[string]any{"transaction": map[string]any{"parent_id": t.ID, "kind": "capture", "amount": t.Amount, "currency": t.Currency, "test": t.Test}}
			if err := c.call("POST", "/orders/"+id+"/transactions.json", body, nil); err != nil {
				return err
			}
			sdk.Infof("captured authorisation %d of Shopify order %s (event %s)", t.ID, id, ev.ID)
		}
	}
	if markedPaid {
		sdk.Infof("Shopify order %s is already marked paid; nothing to do (event %s)", id, ev.ID)
		return nil
	}
	amount := pick(capture, e.Order)
	if amount == "" {
		sdk.Warnf("order %s has neither original_price nor amount_outstanding; not marking it paid", id)
		return sdk.ErrSkip
	}
	if isZero(amount) {
		return sdk.ErrSkip
	}
	body := map[string]any{"transaction": map[string]any{"parent_id": nil, "amount": amount, "kind": "capture", "currency": e.Order.Currency}}
	if err := c.call("POST", "/orders/"+id+"/transactions.json", body, nil); err != nil {
		return err
	}
	sdk.Infof("marked Shopify order %s paid (%s %s)", id, amount, e.Order.Currency)
	return nil
}

// pick chooses the amount to record: original_price first (outstanding
// amount first in capture mode), falling back to the other.
func pick(capture bool, o sdk.Order) string {
	a, b := o.OriginalPrice, o.AmountOutstanding
	if capture {
		a, b = b, a
	}
	if a != nil && strings.TrimSpace(*a) != "" {
		return strings.TrimSpace(*a)
	}
	if b != nil && strings.TrimSpace(*b) != "" {
		return strings.TrimSpace(*b)
	}
	return ""
}

// isZero reports a decimal string equal to zero ("0", "0.00"); text that is
// not a number is not zero (Shopify will judge it).
func isZero(s string) bool {
	digits := strings.ReplaceAll(strings.TrimPrefix(s, "-"), ".", "")
	if digits == "" {
		return false
	}
	for _, r := range digits {
		if r != '0' {
			return false
		}
	}
	return true
}

func orderAnnulled(ev sdk.Event, e sdk.OrderAnnulledEvent) error {
	id, ok := shopifyID(e.Order)
	if !ok {
		return sdk.ErrSkip
	}
	c := newClient()
	var got struct {
		Order struct {
			CancelledAt *string `json:"cancelled_at"`
		} `json:"order"`
	}
	if err := c.call("GET", "/orders/"+id+".json?fields=id,cancelled_at", nil, &got); err != nil {
		return err
	}
	if got.Order.CancelledAt != nil {
		sdk.Infof("Shopify order %s is already cancelled (event %s)", id, ev.ID)
		return nil
	}
	if err := c.call("POST", "/orders/"+id+"/cancel.json", nil, nil); err != nil {
		return err
	}
	sdk.Infof("cancelled Shopify order %s (%s)", id, e.Status)
	return nil
}
