package sdk

import (
	"encoding/json"
	"fmt"
	"time"
)

// Actions are calls back into the payment server's engine, each granted by
// an entry of the manifest's "actions" (plugins/ABI.md "Actions"):
//
//	"rates:write"   SetRate, Rate
//	"rates:read"    Rate
//	"orders:read"   OrderByID, OrdersByStatus, OrdersByCustomer
//	"payments:read" Payments
//
// The server runs each as the plugin and records it in its audit trail; an
// action the manifest does not grant is refused (and logged there too).
// Actions are not undone when the handler then fails: a rate set by a Tick
// handler that later returns an error stays set, and the retried Tick sets
// it again.

// ActionError is an action the server refused or could not complete. Code is
// "refused" (not granted, or unknown), "invalid" (a bad request),
// "not_found" or "failed".
type ActionError struct {
	Action string
	Code   string
	Msg    string
}

func (e *ActionError) Error() string {
	return fmt.Sprintf("action %s: %s: %s", e.Action, e.Code, e.Msg)
}

// Action calls the named action with req (encoded as JSON) and decodes its
// result into out (skipped when out is nil). The typed helpers below cover
// every action; Action is for actions newer than this SDK.
func Action(name string, req any, out any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	var resp struct {
		Result json.RawMessage `json:"result"`
		Error  string          `json:"error"`
		Code   string          `json:"code"`
	}
	if err := json.Unmarshal(actionCall(name, b), &resp); err != nil {
		return fmt.Errorf("action %s: bad host answer: %w", name, err)
	}
	if resp.Error != "" {
		return &ActionError{Action: name, Code: resp.Code, Msg: resp.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Result, out); err != nil {
		return fmt.Errorf("action %s: bad result: %w", name, err)
	}
	return nil
}

// ExchangeRate is a stored rate: Rate micro-Tari per whole unit of Currency.
type ExchangeRate struct {
	Currency  string    `json:"currency"`
	Rate      int64     `json:"rate"`
	UpdatedAt time.Time `json:"updated_at"`
}

// RateChange is what SetRate did: the stored rate, and how many of the
// store's product variants were repriced. RepriceError is set when the rate
// was stored but the store's products could not be repriced.
type RateChange struct {
	Rate         ExchangeRate `json:"rate"`
	Repriced     int          `json:"repriced"`
	RepriceError string       `json:"reprice_error,omitempty"`
}

// SetRate stores the exchange rate of currency (micro-Tari per whole unit)
// and reprices the store's products as the admin route POST
// /api/exchange_rate does. Needs "rates:write".
func SetRate(currency string, microTariPerUnit int64) (RateChange, error) {
	var out RateChange
	err := Action("rates.set", map[string]any{"currency": currency, "rate": microTariPerUnit}, &out)
	return out, err
}

// Rate returns the latest stored rate of currency (an *ActionError with code
// "not_found" if there is none). Needs "rates:read" or "rates:write".
func Rate(currency string) (ExchangeRate, error) {
	var out ExchangeRate
	err := Action("rates.get", map[string]string{"currency": currency}, &out)
	return out, err
}

// OrderByID returns one order by its order id. Needs "orders:read".
func OrderByID(orderID string) (Order, error) {
	var out Order
	err := Action("orders.get", map[string]string{"order_id": orderID}, &out)
	return out, err
}

// OrdersByStatus lists orders in any of the statuses (Unclaimed, New, Paid,
// Cancelled, Expired), at most limit (0: 100, at most 500). Needs "orders:read".
func OrdersByStatus(limit int, statuses ...string) ([]Order, error) {
	var out struct {
		Orders []Order `json:"orders"`
	}
	err := Action("orders.list", map[string]any{"status": statuses, "limit": limit}, &out)
	return out.Orders, err
}

// OrdersByCustomer lists a customer's orders, at most limit (0: 100, at
// most 500). Needs "orders:read".
func OrdersByCustomer(customerID string, limit int) ([]Order, error) {
	var out struct {
		Orders []Order `json:"orders"`
	}
	err := Action("orders.list", map[string]any{"customer_id": customerID, "limit": limit}, &out)
	return out.Orders, err
}

// PaymentQuery selects payments; at least one field must be set. Empty
// fields do not filter.
type PaymentQuery struct {
	TxID    string   `json:"txid,omitempty"`
	OrderID string   `json:"order_id,omitempty"` // payments made for this order
	Sender  string   `json:"sender,omitempty"`   // base58 address
	Status  []string `json:"status,omitempty"`   // received, confirmed, cancelled
	Limit   int      `json:"limit,omitempty"`    // 0: 100; at most 500
}

// Payments lists the payments matching q, newest first. Needs "payments:read".
func Payments(q PaymentQuery) ([]Payment, error) {
	var out struct {
		Payments []Payment `json:"payments"`
	}
	err := Action("payments.list", q, &out)
	return out.Payments, err
}
