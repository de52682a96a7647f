package engine

import (
	"context"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// RegisterWallet authorises a hot wallet (exact address) from ip with an
// initial nonce. Errors: core.ErrWalletExists. Route: POST /api/wallets.
func (e *Engine) RegisterWallet(ctx context.Context, addr tari.Address, ip string, initialNonce int64) error {
	_, err := e.writeParallel(ctx, func(t *txn) error {
		added, err := t.InsertWallet(addr.Base58(), ip, initialNonce, t.now)
		if err != nil {
			return err
		}
		if !added {
			return core.ErrWalletExists
		}
		return nil
	})
	return err
}

// DeregisterWallet removes a hot wallet. Errors: core.ErrWalletNotFound.
// Route: DELETE /api/wallets/{address}.
func (e *Engine) DeregisterWallet(ctx context.Context, addr tari.Address) error {
	_, err := e.writeParallel(ctx, func(t *txn) error {
		deleted, err := t.DeleteWallet(addr.Base58())
		if err != nil {
			return err
		}
		if !deleted {
			return core.ErrWalletNotFound
		}
		return nil
	})
	return err
}

// Wallets lists the authorised hot wallets. Routes: GET /api/wallets,
// GET /wallet/send_to (addresses only).
func (e *Engine) Wallets(ctx context.Context) ([]core.WalletInfo, error) {
	rows, err := e.reads.Wallets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]core.WalletInfo, len(rows))
	for i, r := range rows {
		out[i] = core.WalletInfo{Address: r.Address, IPAddress: r.IPAddress, LastNonce: r.LastNonce}
	}
	return out, nil
}

// UseWalletNonce authenticates a hot-wallet request after the caller verified
// its signature: the wallet must be registered (exact address), nonce must be
// strictly greater than its last nonce, and when checkIP is set remoteIP must
// equal its registered IP. On success the nonce is stored atomically, so two
// requests can never use the same nonce. Any failure is
// core.ErrUnauthorizedWallet. Routes: POST /wallet/incoming_payment,
// POST /wallet/tx_confirmation.
func (e *Engine) UseWalletNonce(ctx context.Context, addr tari.Address, nonce int64, remoteIP string, checkIP bool) error {
	return e.writeStatement(ctx, func(t *txn) error {
		// One conditional UPDATE: the check and the store cannot be separated
		// by a concurrent request with the same nonce.
		var ip *string
		if checkIP {
			ip = &remoteIP
		}
		used, err := t.UseWalletNonce(addr.Base58(), nonce, ip, t.now)
		if err != nil {
			return err
		}
		if !used {
			return core.ErrUnauthorizedWallet
		}
		return nil
	})
}
