package engine

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// The web console's reads and sessions (api/console). Sessions live in the
// database so a logout or a revocation holds on every instance.

// ErrSessionNotFound: no live console session has that token.
var ErrSessionNotFound = errors.New("console session not found or expired")

// ConsoleSession is a signed-in console user. TokenHash is the SHA-256 (hex)
// of the cookie's secret; the secret itself is never stored.
type ConsoleSession struct {
	TokenHash string
	Address   tari.Address
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateConsoleSession stores a session.
func (e *Engine) CreateConsoleSession(ctx context.Context, s ConsoleSession) error {
	_, err := e.write(ctx, func(t *txn) error {
		// Expired sessions go with each new sign-in, so the table does not
		// grow with sessions that were never signed out (it holds a few rows).
		if err := t.DeleteExpiredSessions(t.now.UnixMilli()); err != nil {
			return err
		}
		return t.InsertSession(s.TokenHash, s.Address.AccountKey(), s.Address.Base58(), s.CSRFToken, s.CreatedAt.UnixMilli(), s.ExpiresAt.UnixMilli())
	})
	return err
}

// ConsoleSessionByHash returns the live session with that token hash, else
// ErrSessionNotFound.
func (e *Engine) ConsoleSessionByHash(ctx context.Context, tokenHash string, now time.Time) (ConsoleSession, error) {
	var addr, csrf string
	var created, expires int64
	err := e.db.QueryRowContext(ctx, "SELECT address, csrf_token, created_ms, expires_ms FROM console_sessions WHERE token_hash = ? AND expires_ms > ?",
		tokenHash, now.UnixMilli()).Scan(&addr, &csrf, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return ConsoleSession{}, ErrSessionNotFound
	}
	if err != nil {
		return ConsoleSession{}, err
	}
	a, err := tari.ParseAddress(addr)
	if err != nil {
		return ConsoleSession{}, err
	}
	return ConsoleSession{TokenHash: tokenHash, Address: a, CSRFToken: csrf,
		CreatedAt: time.UnixMilli(created).UTC(), ExpiresAt: time.UnixMilli(expires).UTC()}, nil
}

// DeleteConsoleSession ends one session (logout); unknown hashes are fine.
func (e *Engine) DeleteConsoleSession(ctx context.Context, tokenHash string) error {
	_, err := e.write(ctx, func(t *txn) error {
		return t.DeleteSession(tokenHash)
	})
	return err
}

// DeleteConsoleSessionsFor ends every session of addr's account and says how
// many there were.
func (e *Engine) DeleteConsoleSessionsFor(ctx context.Context, addr tari.Address) (int64, error) {
	var n int64
	_, err := e.write(ctx, func(t *txn) error {
		var err error
		n, err = t.DeleteSessionsOf(addr.AccountKey())
		return err
	})
	return n, err
}

// AuditEntry is one row of an order's or payment's audit history: the
// operation and the row as it stood after it (JSON).
type AuditEntry struct {
	ID        int64     `bun:"id"`
	Operation string    `bun:"operation"`
	ChangedAt time.Time `bun:"changed_at"`
	Snapshot  string    `bun:"snapshot"`
}

// OrderAudit lists an order's audit history, oldest first (the log keys
// orders by their row id). The audit log has no index of its own (it is
// written on every change and read rarely), so this scans it: it serves the
// console's order page only.
func (e *Engine) OrderAudit(ctx context.Context, o core.Order) ([]AuditEntry, error) {
	return e.audit(ctx, "order", strconv.FormatInt(o.ID, 10))
}

// PaymentAudit lists a payment's audit history, oldest first.
func (e *Engine) PaymentAudit(ctx context.Context, txid string) ([]AuditEntry, error) {
	return e.audit(ctx, "payment", txid)
}

func (e *Engine) audit(ctx context.Context, entity, key string) ([]AuditEntry, error) {
	out := []AuditEntry{}
	if err := e.db.NewRaw("SELECT id, operation, changed_at, snapshot FROM audit_log WHERE entity = ? AND entity_key = ? ORDER BY id", entity, key).Scan(ctx, &out); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	for i := range out {
		out[i].ChangedAt = utc(out[i].ChangedAt)
	}
	return out, nil
}

// PaymentQuery filters SearchPayments; every given filter applies.
type PaymentQuery struct {
	TxID     *string
	Statuses []core.PaymentStatus
	Type     *core.PaymentType
	Sender   *string    // exact address as received (base58)
	Since    *time.Time // created_at >= Since
	Until    *time.Time // created_at < Until
	core.Page
}

// SearchPayments lists payments, newest first.
func (e *Engine) SearchPayments(ctx context.Context, q PaymentQuery) ([]core.Payment, error) {
	sqlq := "SELECT " + paymentCols + " FROM payments WHERE 1 = 1"
	var args []any
	if q.TxID != nil {
		sqlq += " AND txid = ?"
		args = append(args, *q.TxID)
	}
	if len(q.Statuses) > 0 {
		sqlq += " AND status IN (?)"
		args = append(args, bun.In(q.Statuses))
	}
	if q.Type != nil {
		sqlq += " AND payment_type = ?"
		args = append(args, *q.Type)
	}
	if q.Sender != nil {
		sqlq += " AND sender = ?"
		args = append(args, *q.Sender)
	}
	if q.Since != nil {
		sqlq += " AND created_at >= ?"
		args = append(args, q.Since.UTC())
	}
	if q.Until != nil {
		sqlq += " AND created_at < ?"
		args = append(args, q.Until.UTC())
	}
	sqlq += " ORDER BY created_at DESC, txid" + e.reads.Page(q.Page)
	return selectPayments(ctx, e.db, sqlq, args...)
}

// ExchangeRates lists the latest rate of every currency, by currency.
func (e *Engine) ExchangeRates(ctx context.Context) ([]core.ExchangeRate, error) {
	out := []core.ExchangeRate{}
	var rows []struct {
		Currency  string         `bun:"base_currency"`
		Rate      core.MicroTari `bun:"rate"`
		UpdatedAt time.Time      `bun:"updated_at"`
	}
	if err := e.db.NewRaw("SELECT r.base_currency, r.rate, r.updated_at FROM exchange_rates r WHERE r.id = (SELECT MAX(id) FROM exchange_rates x WHERE x.base_currency = r.base_currency) ORDER BY r.base_currency").Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	for _, r := range rows {
		out = append(out, core.ExchangeRate{Currency: r.Currency, Rate: r.Rate, UpdatedAt: utc(r.UpdatedAt)})
	}
	return out, nil
}

// RoleHolder is an address and the roles assigned to its account (user is
// implicit and not listed).
type RoleHolder struct {
	Address string
	Roles   []core.Role
}

// RoleHolders lists every account with an assigned role, by address.
func (e *Engine) RoleHolders(ctx context.Context) ([]RoleHolder, error) {
	var rows []struct {
		Address string `bun:"address"`
		Role    string `bun:"name"`
	}
	if err := e.db.NewRaw("SELECT a.address, r.name FROM role_assignments a JOIN roles r ON r.id = a.role_id ORDER BY a.address, r.id").Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	out := []RoleHolder{}
	for _, r := range rows {
		if n := len(out); n > 0 && out[n-1].Address == r.Address {
			out[n-1].Roles = append(out[n-1].Roles, core.Role(r.Role))
			continue
		}
		out = append(out, RoleHolder{Address: r.Address, Roles: []core.Role{core.Role(r.Role)}})
	}
	return out, nil
}

// DayVolume is one UTC day of the console's overview: orders created and
// the total price of orders that became Paid that day.
type DayVolume struct {
	Day        time.Time
	Orders     int
	Paid       int
	PaidVolume core.MicroTari
}

// DailyVolume returns one entry per UTC day from since's day to now's,
// oldest first. It reads every order created or paid since then (orders have
// no time index: each index is one more page written per order), grouped by
// the database.
func (e *Engine) DailyVolume(ctx context.Context, since, now time.Time) ([]DayVolume, error) {
	day := func(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
	start := day(since)
	var out []DayVolume
	byDay := map[string]int{}
	for d := start; !d.After(day(now)); d = d.Add(24 * time.Hour) {
		byDay[d.Format("2006-01-02")] = len(out)
		out = append(out, DayVolume{Day: d})
	}
	var created []struct {
		Day string `bun:"day"`
		N   int    `bun:"n"`
	}
	if err := e.db.NewRaw("SELECT "+e.reads.DayExpr("created_at")+" AS day, COUNT(*) AS n FROM orders WHERE created_at >= ? GROUP BY 1", start).Scan(ctx, &created); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	for _, c := range created {
		if i, ok := byDay[c.Day]; ok {
			out[i].Orders = c.N
		}
	}
	var paid []struct {
		Day   string         `bun:"day"`
		N     int            `bun:"n"`
		Total core.MicroTari `bun:"total"`
	}
	if err := e.db.NewRaw("SELECT "+e.reads.DayExpr("status_changed_at")+" AS day, COUNT(*) AS n, SUM(total_price) AS total FROM orders WHERE status = 'Paid' AND status_changed_at >= ? GROUP BY 1", start).Scan(ctx, &paid); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	for _, p := range paid {
		if i, ok := byDay[p.Day]; ok {
			out[i].Paid, out[i].PaidVolume = p.N, p.Total
		}
	}
	return out, nil
}

// OpenOrderCount counts the New and Unclaimed orders.
func (e *Engine) OpenOrderCount(ctx context.Context) (int, error) {
	var n int
	err := e.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders WHERE "+openStatus).Scan(&n)
	return n, err
}

// ExpiringOrders lists up to limit open orders that expire before cutoff,
// soonest first (expiry measures from status_changed_at, D14).
func (e *Engine) ExpiringOrders(ctx context.Context, cutoff time.Time, limit int) ([]core.Order, error) {
	return selectOrders(ctx, e.db, "SELECT "+orderCols+" FROM orders WHERE "+openStatus+
		" AND ((status = 'Unclaimed' AND status_changed_at < ?) OR (status = 'New' AND status_changed_at < ?))"+
		" ORDER BY status_changed_at, id LIMIT ?",
		cutoff.Add(-e.cfg.UnclaimedTimeout).UTC(), cutoff.Add(-e.cfg.UnpaidTimeout).UTC(), limit)
}

// SettlementsForOrder lists the settlements that paid an order, oldest first.
func (e *Engine) SettlementsForOrder(ctx context.Context, orderID string) ([]core.SettlementJournalEntry, error) {
	return selectSettlements(ctx, e.db, "SELECT "+settlementCols+" FROM settlement_journal WHERE order_id = ? ORDER BY id", orderID)
}
