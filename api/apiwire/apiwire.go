// Package apiwire builds requests the way the payment server's real clients
// do: signed hot-wallet notifications, HMAC-signed Shopify webhooks, access
// token headers and strictly increasing login nonces. It imports no testing
// code, so tools (taritools bench) can use it; api/apitest builds its test
// helpers on it.
package apiwire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"github.com/tari-payment/tps/core/tari"
)

// Wallet is a key pair and its mainnet single address.
type Wallet struct {
	Key  tari.SecretKey
	Addr tari.Address
}

// NewWallet makes a random wallet.
func NewWallet() Wallet {
	k := tari.GenerateSecretKey()
	return Wallet{Key: k, Addr: tari.NewAddress(tari.Mainnet, k.PublicKey())}
}

// nonces makes login nonces strictly increasing within a process.
var (
	nonceMu   sync.Mutex
	lastNonce uint64
)

// NextNonce returns a strictly increasing nonce (Unix microseconds).
func NextNonce() uint64 {
	nonceMu.Lock()
	defer nonceMu.Unlock()
	n := uint64(time.Now().UnixMicro())
	if n <= lastNonce {
		n = lastNonce + 1
	}
	lastNonce = n
	return n
}

// Auth is the header map carrying an access token.
func Auth(token string) map[string]string { return map[string]string{"tpg_access_token": token} }

// NewPayment is a hot wallet's payment notification.
type NewPayment struct {
	Sender  tari.Address
	Amount  int64
	TxID    string
	Memo    *string
	OrderID *string
}

// WalletPaymentBody is a signed /wallet/incoming_payment body.
func WalletPaymentBody(hot Wallet, nonce int64, p NewPayment) map[string]any {
	payload := tari.PaymentPayloadJSON(p.Sender, p.Amount, p.TxID, p.Memo, p.OrderID)
	sig := tari.SignWallet(hot.Key, hot.Addr, nonce, payload)
	return map[string]any{
		"payment": map[string]any{"sender": p.Sender.Base58(), "amount": p.Amount, "txid": p.TxID, "memo": p.Memo, "order_id": p.OrderID},
		"auth":    map[string]any{"address": hot.Addr.Base58(), "nonce": nonce, "signature": sig.Hex()},
	}
}

// WalletConfirmationBody is a signed /wallet/tx_confirmation body.
func WalletConfirmationBody(hot Wallet, nonce int64, txid string) map[string]any {
	sig := tari.SignWallet(hot.Key, hot.Addr, nonce, tari.ConfirmationPayloadJSON(txid))
	return map[string]any{
		"confirmation": map[string]any{"txid": txid},
		"auth":         map[string]any{"address": hot.Addr.Base58(), "nonce": nonce, "signature": sig.Hex()},
	}
}

// ShopifyHeaders signs body with secret as Shopify does.
func ShopifyHeaders(secret string, body []byte) map[string]string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return map[string]string{"X-Shopify-Hmac-Sha256": base64.StdEncoding.EncodeToString(mac.Sum(nil))}
}
