package engine

import (
	"context"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// RegisterWallet authorises a hot wallet (exact address) from ip with an
// initial nonce. Errors: core.ErrWalletExists. Route: POST /api/wallets.
func (e *Engine) RegisterWallet(ctx context.Context, addr tari.Address, ip string, initialNonce int64) error {
	return errNotImplemented
}

// DeregisterWallet removes a hot wallet. Errors: core.ErrWalletNotFound.
// Route: DELETE /api/wallets/{address}.
func (e *Engine) DeregisterWallet(ctx context.Context, addr tari.Address) error {
	return errNotImplemented
}

// Wallets lists the authorised hot wallets. Routes: GET /api/wallets,
// GET /wallet/send_to (addresses only).
func (e *Engine) Wallets(ctx context.Context) ([]core.WalletInfo, error) {
	return nil, errNotImplemented
}

// UseWalletNonce authenticates a hot-wallet request after the caller verified
// its signature: the wallet must be registered (exact address), nonce must be
// strictly greater than its last nonce, and when checkIP is set remoteIP must
// equal its registered IP. On success the nonce is stored atomically, so two
// requests can never use the same nonce. Any failure is
// core.ErrUnauthorizedWallet. Routes: POST /wallet/incoming_payment,
// POST /wallet/tx_confirmation.
func (e *Engine) UseWalletNonce(ctx context.Context, addr tari.Address, nonce int64, remoteIP string, checkIP bool) error {
	return errNotImplemented
}
