package enginestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
)

// RoleNames lists the names of the roles assigned to an account, in role
// order, on the pool (a *store.DB) or in a transaction (Tx.IDB()).
func RoleNames(ctx context.Context, q store.Querier, account string) ([]string, error) {
	var names []string
	if err := q.NewRaw("SELECT r.name FROM role_assignments a JOIN roles r ON r.id = a.role_id WHERE a.account = ? ORDER BY r.id", account).Scan(ctx, &names); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return names, nil
}

// LastLoginNonce reads (and locks) an account's last login nonce; ok is
// false when it never logged in.
func (t *Tx) LastLoginNonce(account string) (last int64, ok bool, err error) {
	err = t.QueryRow("SELECT last_nonce FROM auth_log WHERE account = ?"+t.ForUpdate(), []any{account}, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return last, err == nil, err
}

// SetLoginNonce stores an account's last login nonce.
func (t *Tx) SetLoginNonce(account, address string, nonce int64, now time.Time) error {
	return t.Exec("INSERT INTO auth_log (account, address, last_nonce, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (account) DO UPDATE SET last_nonce = excluded.last_nonce, address = excluded.address, updated_at = excluded.updated_at",
		account, address, nonce, now)
}

// AssignRole gives an account a role (idempotent).
func (t *Tx) AssignRole(account, address string, r core.Role) error {
	return t.Exec("INSERT INTO role_assignments (account, address, role_id) SELECT ?, ?, id FROM roles WHERE name = ? ON CONFLICT (account, role_id) DO NOTHING", account, address, r)
}

// RevokeRole takes a role from an account (idempotent).
func (t *Tx) RevokeRole(account string, r core.Role) error {
	return t.Exec("DELETE FROM role_assignments WHERE account = ? AND role_id = (SELECT id FROM roles WHERE name = ?)", account, r)
}

// DeleteExpiredSessions removes the console sessions expired at nowMs.
func (t *Tx) DeleteExpiredSessions(nowMs int64) error {
	return t.Exec("DELETE FROM console_sessions WHERE expires_ms <= ?", nowMs)
}

// InsertSession stores a console session.
func (t *Tx) InsertSession(tokenHash, account, address, csrf string, createdMs, expiresMs int64) error {
	return t.Exec("INSERT INTO console_sessions (token_hash, account, address, csrf_token, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)",
		tokenHash, account, address, csrf, createdMs, expiresMs)
}

// DeleteSession removes one console session.
func (t *Tx) DeleteSession(tokenHash string) error {
	return t.Exec("DELETE FROM console_sessions WHERE token_hash = ?", tokenHash)
}

// DeleteSessionsOf removes every console session of an account and says
// how many there were.
func (t *Tx) DeleteSessionsOf(account string) (int64, error) {
	res, err := t.ExecResult("DELETE FROM console_sessions WHERE account = ?", account)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// InsertWallet authorises a hot wallet; false when it already is.
func (t *Tx) InsertWallet(address, ip string, nonce int64, now time.Time) (bool, error) {
	res, err := t.ExecResult("INSERT INTO wallet_auth (address, ip_address, last_nonce, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (address) DO NOTHING",
		address, ip, nonce, now, now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DeleteWallet removes a hot wallet; false when there was none.
func (t *Tx) DeleteWallet(address string) (bool, error) {
	res, err := t.ExecResult("DELETE FROM wallet_auth WHERE address = ?", address)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

var (
	qUseWalletNonce   = pgStatement("use_wallet_nonce", "UPDATE wallet_auth SET last_nonce = ?, updated_at = ? WHERE address = ? AND last_nonce < ?")
	qUseWalletNonceIP = pgStatement("use_wallet_nonce_ip", qUseWalletNonce+" AND ip_address = ?")
)

// UseWalletNonce stores a wallet's nonce if it is greater than its last one
// (and, when ip is not nil, the wallet's IP is *ip), in one conditional
// UPDATE so that the check and the store cannot be separated by a
// concurrent request with the same nonce. It reports whether it did.
func (t *Tx) UseWalletNonce(address string, nonce int64, ip *string, now time.Time) (bool, error) {
	q, args := qUseWalletNonce, []any{nonce, now, address, nonce}
	if ip != nil {
		q = qUseWalletNonceIP
		args = append(args, *ip)
	}
	res, err := t.ExecResult(q, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InsertShopifyTransaction stores a Shopify authorisation, uncaptured (a
// known id is left as it is).
func (t *Tx) InsertShopifyTransaction(st core.ShopifyTransaction, now time.Time) error {
	return t.Exec("INSERT INTO shopify_transactions (id, order_id, amount, currency, test, captured, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
		st.ID, st.OrderID, st.Amount, st.Currency, st.Test, false, now, now)
}

// MarkShopifyCaptured flags a Shopify authorisation as captured.
func (t *Tx) MarkShopifyCaptured(transactionID int64, now time.Time) error {
	return t.Exec("UPDATE shopify_transactions SET captured = ?, updated_at = ? WHERE id = ?", true, now, transactionID)
}

// MarkWebhook records a Shopify event id; false when it was known.
func (t *Tx) MarkWebhook(eventID string, now time.Time) (bool, error) {
	res, err := t.ExecResult("INSERT INTO shopify_webhooks (event_id, seen_at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING", eventID, now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InsertRate stores an exchange rate.
func (t *Tx) InsertRate(r core.ExchangeRate) error {
	return t.Exec("INSERT INTO exchange_rates (base_currency, rate, updated_at) VALUES (?, ?, ?)", r.Currency, r.Rate, r.UpdatedAt)
}

// RoleNames lists the names of the roles assigned to an account.
func (t *Tx) RoleNames(account string) ([]string, error) {
	return RoleNames(t.ctx, t.IDB(), account)
}
