package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

func decodeSegment(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// Wire types not in core: answers and request bodies of single routes.
type (
	// RawAddress is the raw TariAddress object of ClaimedOrder.send_to.
	RawAddress struct {
		Single *RawAddressBody `json:"Single,omitempty"`
		Dual   *RawAddressBody `json:"Dual,omitempty"`
	}
	// RawAddressBody is the inside of a RawAddress.
	RawAddressBody struct {
		Network        string `json:"network"`
		Features       int    `json:"features"`
		PublicViewKey  string `json:"public_view_key,omitempty"`
		PublicSpendKey string `json:"public_spend_key"`
	}
	// ClaimedOrder is the answer of POST /order/claim.
	ClaimedOrder struct {
		OrderID    string           `json:"order_id"`
		TotalPrice core.MicroTari   `json:"total_price"`
		ExpiresAt  string           `json:"expires_at"`
		Status     core.OrderStatus `json:"status"`
		SendTo     RawAddress       `json:"send_to"`
	}
	// JSONResponse is {"success":..,"message":..}.
	JSONResponse struct {
		Success bool   `json:"success"`
		Message string `json:"message"`
	}
	// RoleUpdate is one entry of POST /api/roles.
	RoleUpdate struct {
		Address string   `json:"address"`
		Apply   []string `json:"apply,omitempty"`
		Revoke  []string `json:"revoke,omitempty"`
	}
	// NewWallet is the body of POST /api/wallets.
	NewWallet struct {
		Address      string `json:"address"`
		IPAddress    string `json:"ip_address"`
		InitialNonce int64  `json:"initial_nonce"`
	}
	// WalletAuth is the signature part of a wallet notification.
	WalletAuth struct {
		Address   string `json:"address"`
		Nonce     int64  `json:"nonce"`
		Signature string `json:"signature"`
	}
	// NewPayment is a wallet-reported payment.
	NewPayment struct {
		Sender  string  `json:"sender"`
		Amount  int64   `json:"amount"`
		TxID    string  `json:"txid"`
		Memo    *string `json:"memo"`
		OrderID *string `json:"order_id"`
	}
)

// Address decodes a RawAddress into a tari.Address.
func (r RawAddress) Address() (tari.Address, error) {
	b := r.Single
	if b == nil {
		b = r.Dual
	}
	if b == nil {
		return tari.Address{}, &Error{Message: "send_to has neither Single nor Dual"}
	}
	n, err := tari.ParseNetwork(b.Network)
	if err != nil {
		return tari.Address{}, err
	}
	spend, err := tari.ParsePublicKey(b.PublicSpendKey)
	if err != nil {
		return tari.Address{}, err
	}
	a := tari.Address{Network: n, Features: byte(b.Features), SpendKey: spend}
	if r.Dual != nil {
		view, err := tari.ParsePublicKey(b.PublicViewKey)
		if err != nil {
			return tari.Address{}, err
		}
		a.ViewKey = &view
	}
	return a, nil
}

// ---- public routes ----

// Health calls GET /health.
func (c *Client) Health(ctx context.Context) error {
	var body []byte
	return c.call(ctx, http.MethodGet, "/health", false, nil, &body)
}

// Claim claims an order with a memo signature (POST /order/claim).
func (c *Client) Claim(ctx context.Context, sig tari.MemoSignature) (ClaimedOrder, error) {
	var out ClaimedOrder
	err := c.call(ctx, http.MethodPost, "/order/claim", false, sig, &out)
	return out, err
}

// ClaimOrder signs a claim for orderID with the client's key and sends it.
func (c *Client) ClaimOrder(ctx context.Context, orderID string) (ClaimedOrder, error) {
	return c.Claim(ctx, tari.SignMemo(c.Key, c.Address, orderID))
}

// SendTo lists the authorised hot-wallet addresses (GET /wallet/send_to).
func (c *Client) SendTo(ctx context.Context) ([]string, error) {
	var out []string
	err := c.call(ctx, http.MethodGet, "/wallet/send_to", false, nil, &out)
	return out, err
}

// IncomingPayment reports a payment to the hot wallet, signed with the
// client's key (POST /wallet/incoming_payment).
func (c *Client) IncomingPayment(ctx context.Context, p NewPayment, nonce int64) (JSONResponse, error) {
	sender, err := tari.ParseAddress(p.Sender)
	if err != nil {
		return JSONResponse{}, err
	}
	p.Sender = sender.Base58()
	payload := tari.PaymentPayloadJSON(sender, p.Amount, p.TxID, p.Memo, p.OrderID)
	body := struct {
		Payment NewPayment `json:"payment"`
		Auth    WalletAuth `json:"auth"`
	}{p, c.walletAuth(nonce, payload)}
	var out JSONResponse
	err = c.call(ctx, http.MethodPost, "/wallet/incoming_payment", false, body, &out)
	return out, err
}

// TxConfirmation reports that a payment is confirmed (POST /wallet/tx_confirmation).
func (c *Client) TxConfirmation(ctx context.Context, txid string, nonce int64) (JSONResponse, error) {
	body := struct {
		Confirmation struct {
			TxID string `json:"txid"`
		} `json:"confirmation"`
		Auth WalletAuth `json:"auth"`
	}{Auth: c.walletAuth(nonce, tari.ConfirmationPayloadJSON(txid))}
	body.Confirmation.TxID = txid
	var out JSONResponse
	err := c.call(ctx, http.MethodPost, "/wallet/tx_confirmation", false, body, &out)
	return out, err
}

func (c *Client) walletAuth(nonce int64, payload []byte) WalletAuth {
	sig := tari.SignWallet(c.Key, c.Address, nonce, payload)
	return WalletAuth{Address: c.Address.Base58(), Nonce: nonce, Signature: sig.Hex()}
}

// ---- any authenticated user ----

// CheckToken calls GET /api/check_token.
func (c *Client) CheckToken(ctx context.Context) error {
	var body []byte
	return c.call(ctx, http.MethodGet, "/api/check_token", true, nil, &body)
}

// Balance is the caller's balance (GET /api/balance).
func (c *Client) Balance(ctx context.Context) (core.AddressBalance, error) {
	var out core.AddressBalance
	err := c.call(ctx, http.MethodGet, "/api/balance", true, nil, &out)
	return out, err
}

// History is the caller's history (GET /api/history).
func (c *Client) History(ctx context.Context) (core.AddressHistory, error) {
	var out core.AddressHistory
	err := c.call(ctx, http.MethodGet, "/api/history", true, nil, &out)
	return out, err
}

// Orders lists the caller's orders (GET /api/orders).
func (c *Client) Orders(ctx context.Context) (core.OrderResult, error) {
	var out core.OrderResult
	err := c.call(ctx, http.MethodGet, "/api/orders", true, nil, &out)
	return out, err
}

// UnfulfilledOrders lists the caller's open orders (GET /api/unfulfilled_orders).
func (c *Client) UnfulfilledOrders(ctx context.Context) (core.OrderResult, error) {
	var out core.OrderResult
	err := c.call(ctx, http.MethodGet, "/api/unfulfilled_orders", true, nil, &out)
	return out, err
}

// Payments lists the caller's payments (GET /api/payments).
func (c *Client) Payments(ctx context.Context) (core.PaymentsResult, error) {
	var out core.PaymentsResult
	err := c.call(ctx, http.MethodGet, "/api/payments", true, nil, &out)
	return out, err
}

// Settle pays the caller's open orders from their balances (POST /api/settle).
// It returns nil when nothing was paid.
func (c *Client) Settle(ctx context.Context) (*core.MultiAccountPayment, error) {
	var out *core.MultiAccountPayment
	err := c.call(ctx, http.MethodPost, "/api/settle", true, nil, &out)
	return out, err
}

// OrderByID looks an order up (GET /api/order/id/{id}); nil when not found
// or not visible to the caller.
func (c *Client) OrderByID(ctx context.Context, orderID string) (*core.Order, error) {
	var out *core.Order
	err := c.call(ctx, http.MethodGet, "/api/order/id/"+esc(orderID), true, nil, &out)
	return out, err
}

// ---- read_all ----

// BalanceFor is an address's balance (GET /api/balance/{address}).
func (c *Client) BalanceFor(ctx context.Context, address string) (core.AddressBalance, error) {
	var out core.AddressBalance
	err := c.call(ctx, http.MethodGet, "/api/balance/"+esc(address), true, nil, &out)
	return out, err
}

// HistoryForAddress calls GET /api/history/address/{address}.
func (c *Client) HistoryForAddress(ctx context.Context, address string) (core.AddressHistory, error) {
	var out core.AddressHistory
	err := c.call(ctx, http.MethodGet, "/api/history/address/"+esc(address), true, nil, &out)
	return out, err
}

// HistoryForCustomer calls GET /api/history/customer/{id}.
func (c *Client) HistoryForCustomer(ctx context.Context, customerID string) (core.CustomerHistory, error) {
	var out core.CustomerHistory
	err := c.call(ctx, http.MethodGet, "/api/history/customer/"+esc(customerID), true, nil, &out)
	return out, err
}

// OrdersFor calls GET /api/orders/{address}.
func (c *Client) OrdersFor(ctx context.Context, address string) (core.OrderResult, error) {
	var out core.OrderResult
	err := c.call(ctx, http.MethodGet, "/api/orders/"+esc(address), true, nil, &out)
	return out, err
}

// UnfulfilledOrdersFor calls GET /api/unfulfilled_orders/{address}.
func (c *Client) UnfulfilledOrdersFor(ctx context.Context, address string) (core.OrderResult, error) {
	var out core.OrderResult
	err := c.call(ctx, http.MethodGet, "/api/unfulfilled_orders/"+esc(address), true, nil, &out)
	return out, err
}

// PaymentsFor calls GET /api/payments/{address}.
func (c *Client) PaymentsFor(ctx context.Context, address string) (core.PaymentsResult, error) {
	var out core.PaymentsResult
	err := c.call(ctx, http.MethodGet, "/api/payments/"+esc(address), true, nil, &out)
	return out, err
}

// PaymentsForOrder calls GET /api/payments-for-order/{order_id}.
func (c *Client) PaymentsForOrder(ctx context.Context, orderID string) ([]core.Payment, error) {
	var out []core.Payment
	err := c.call(ctx, http.MethodGet, "/api/payments-for-order/"+esc(orderID), true, nil, &out)
	return out, err
}

// OrderSearch holds the optional filters of GET /api/search/orders.
type OrderSearch struct {
	Memo, OrderID, AltID, CustomerID, Currency, Since, Until string
	Statuses                                                 []string
}

// Query encodes the filters that are set.
func (q OrderSearch) Query() string {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("memo", q.Memo)
	set("order_id", q.OrderID)
	set("alt_id", q.AltID)
	set("customer_id", q.CustomerID)
	set("currency", q.Currency)
	set("since", q.Since)
	set("until", q.Until)
	set("status", strings.Join(q.Statuses, ","))
	return v.Encode()
}

// SearchOrders calls GET /api/search/orders.
func (c *Client) SearchOrders(ctx context.Context, q OrderSearch) ([]core.Order, error) {
	path := "/api/search/orders"
	if s := q.Query(); s != "" {
		path += "?" + s
	}
	var out []core.Order
	err := c.call(ctx, http.MethodGet, path, true, nil, &out)
	return out, err
}

// Creditors calls GET /api/creditors.
func (c *Client) Creditors(ctx context.Context) ([]core.CustomerOrders, error) {
	var out []core.CustomerOrders
	err := c.call(ctx, http.MethodGet, "/api/creditors", true, nil, &out)
	return out, err
}

func pageQuery(offset, count int) string {
	if count <= 0 {
		return ""
	}
	return "?offset=" + strconv.Itoa(max(offset, 0)) + "&count=" + strconv.Itoa(count)
}

// CustomerIDs calls GET /api/customer_ids (count 0 = all).
func (c *Client) CustomerIDs(ctx context.Context, offset, count int) ([]string, error) {
	var out []string
	err := c.call(ctx, http.MethodGet, "/api/customer_ids"+pageQuery(offset, count), true, nil, &out)
	return out, err
}

// Addresses calls GET /api/addresses (count 0 = all).
func (c *Client) Addresses(ctx context.Context, offset, count int) ([]string, error) {
	var out []string
	err := c.call(ctx, http.MethodGet, "/api/addresses"+pageQuery(offset, count), true, nil, &out)
	return out, err
}

// ExchangeRate calls GET /api/exchange_rate/{currency}.
func (c *Client) ExchangeRate(ctx context.Context, currency string) (core.ExchangeRate, error) {
	var out core.ExchangeRate
	err := c.call(ctx, http.MethodGet, "/api/exchange_rate/"+esc(currency), true, nil, &out)
	return out, err
}

// Wallets calls GET /api/wallets.
func (c *Client) Wallets(ctx context.Context) ([]core.WalletInfo, error) {
	var out []core.WalletInfo
	err := c.call(ctx, http.MethodGet, "/api/wallets", true, nil, &out)
	return out, err
}

// ---- write ----

// Credit issues a credit note (POST /api/credit); amount may be negative.
func (c *Client) Credit(ctx context.Context, customerID string, amount int64, reason string) (core.MultiAccountPayment, error) {
	body := map[string]any{"customer_id": customerID, "amount": amount}
	if reason != "" {
		body["reason"] = reason
	}
	var out core.MultiAccountPayment
	err := c.call(ctx, http.MethodPost, "/api/credit", true, body, &out)
	return out, err
}

// Fulfil marks an order paid by hand (POST /api/fulfill).
func (c *Client) Fulfil(ctx context.Context, orderID, reason string) (core.Order, error) {
	var out core.Order
	err := c.call(ctx, http.MethodPost, "/api/fulfill", true, map[string]string{"order_id": orderID, "reason": reason}, &out)
	return out, err
}

// Cancel cancels an open order (POST /api/cancel).
func (c *Client) Cancel(ctx context.Context, orderID, reason string) (core.Order, error) {
	var out core.Order
	err := c.call(ctx, http.MethodPost, "/api/cancel", true, map[string]string{"order_id": orderID, "reason": reason}, &out)
	return out, err
}

// UpdateMemo replaces an order's memo (PATCH /api/order_memo).
func (c *Client) UpdateMemo(ctx context.Context, orderID, memo, reason string) (core.Order, error) {
	body := map[string]string{"order_id": orderID, "new_memo": memo}
	if reason != "" {
		body["reason"] = reason
	}
	var out core.Order
	err := c.call(ctx, http.MethodPatch, "/api/order_memo", true, body, &out)
	return out, err
}

// UpdatePrice changes a New order's price (PATCH /api/order_price).
func (c *Client) UpdatePrice(ctx context.Context, orderID string, price int64, reason string) (core.Order, error) {
	body := map[string]any{"order_id": orderID, "new_price": price}
	if reason != "" {
		body["reason"] = reason
	}
	var out core.Order
	err := c.call(ctx, http.MethodPatch, "/api/order_price", true, body, &out)
	return out, err
}

// Reassign moves an order to another customer (PATCH /api/reassign_order).
func (c *Client) Reassign(ctx context.Context, orderID, customerID, reason string) (core.OrderMovedResult, error) {
	body := map[string]string{"order_id": orderID, "new_customer_id": customerID, "reason": reason}
	var out core.OrderMovedResult
	err := c.call(ctx, http.MethodPatch, "/api/reassign_order", true, body, &out)
	return out, err
}

// ResetOrder brings an expired or cancelled order back to New
// (PATCH /api/reset_order/{id}), sending the reason in the body as the other
// admin changes do. The answer is returned as raw JSON.
func (c *Client) ResetOrder(ctx context.Context, orderID, reason string) (json.RawMessage, error) {
	var out []byte
	err := c.call(ctx, http.MethodPatch, "/api/reset_order/"+esc(orderID), true, map[string]string{"reason": reason}, &out)
	return json.RawMessage(out), err
}

// SettleAddress calls POST /api/settle/address/{address}; nil when nothing was paid.
func (c *Client) SettleAddress(ctx context.Context, address string) (*core.MultiAccountPayment, error) {
	var out *core.MultiAccountPayment
	err := c.call(ctx, http.MethodPost, "/api/settle/address/"+esc(address), true, nil, &out)
	return out, err
}

// SettleCustomer calls POST /api/settle/customer/{id}; nil when nothing was paid.
func (c *Client) SettleCustomer(ctx context.Context, customerID string) (*core.MultiAccountPayment, error) {
	var out *core.MultiAccountPayment
	err := c.call(ctx, http.MethodPost, "/api/settle/customer/"+esc(customerID), true, nil, &out)
	return out, err
}

// SetExchangeRate stores a rate in µT per whole unit (POST /api/exchange_rate).
func (c *Client) SetExchangeRate(ctx context.Context, currency string, rate int64) error {
	return c.call(ctx, http.MethodPost, "/api/exchange_rate", true, map[string]any{"currency": currency, "rate": rate}, nil)
}

// RescanOpenOrders calls POST /api/rescan_open_orders.
func (c *Client) RescanOpenOrders(ctx context.Context) ([]JSONResponse, error) {
	var out []JSONResponse
	err := c.call(ctx, http.MethodPost, "/api/rescan_open_orders", true, nil, &out)
	return out, err
}

// ---- super_admin ----

// UpdateRoles calls POST /api/roles.
func (c *Client) UpdateRoles(ctx context.Context, updates []RoleUpdate) error {
	return c.call(ctx, http.MethodPost, "/api/roles", true, updates, nil)
}

// AddWallet authorises a hot wallet (POST /api/wallets).
func (c *Client) AddWallet(ctx context.Context, w NewWallet) error {
	return c.call(ctx, http.MethodPost, "/api/wallets", true, w, nil)
}

// RemoveWallet calls DELETE /api/wallets/{address}.
func (c *Client) RemoveWallet(ctx context.Context, address string) error {
	return c.call(ctx, http.MethodDelete, "/api/wallets/"+esc(address), true, nil, nil)
}

// ---- plugins (this project's additions) ----

// Plugins calls GET /api/plugins. The shape is the server's; it is returned raw.
func (c *Client) Plugins(ctx context.Context) (json.RawMessage, error) {
	var out []byte
	err := c.call(ctx, http.MethodGet, "/api/plugins", true, nil, &out)
	return out, err
}

// FailedDeliveries calls GET /api/plugins/deliveries/failed.
func (c *Client) FailedDeliveries(ctx context.Context) (json.RawMessage, error) {
	var out []byte
	err := c.call(ctx, http.MethodGet, "/api/plugins/deliveries/failed", true, nil, &out)
	return out, err
}

// Redeliver calls POST /api/plugins/deliveries/{id}/redeliver.
func (c *Client) Redeliver(ctx context.Context, id string) (json.RawMessage, error) {
	var out []byte
	err := c.call(ctx, http.MethodPost, "/api/plugins/deliveries/"+esc(id)+"/redeliver", true, nil, &out)
	return out, err
}

// RedeliverAll calls POST /api/plugins/deliveries/redeliver.
func (c *Client) RedeliverAll(ctx context.Context) (json.RawMessage, error) {
	var out []byte
	err := c.call(ctx, http.MethodPost, "/api/plugins/deliveries/redeliver", true, nil, &out)
	return out, err
}

// EnablePlugin calls POST /api/plugins/{id}/enable: re-enables a plugin
// disabled for crashing and returns its state (as Plugins shows it), raw.
func (c *Client) EnablePlugin(ctx context.Context, id string) (json.RawMessage, error) {
	var out []byte
	err := c.call(ctx, http.MethodPost, "/api/plugins/"+esc(id)+"/enable", true, nil, &out)
	return out, err
}

// ReloadPlugins calls POST /api/plugins/reload: the server rescans its
// plugin folder now and returns the plugins (as Plugins shows them), raw.
func (c *Client) ReloadPlugins(ctx context.Context) (json.RawMessage, error) {
	var out []byte
	err := c.call(ctx, http.MethodPost, "/api/plugins/reload", true, nil, &out)
	return out, err
}

// RemovePlugin calls DELETE /api/plugins/{id}: drops a removed plugin's
// cursor and failed deliveries for good.
func (c *Client) RemovePlugin(ctx context.Context, id string) (json.RawMessage, error) {
	var out []byte
	err := c.call(ctx, http.MethodDelete, "/api/plugins/"+esc(id), true, nil, &out)
	return out, err
}
