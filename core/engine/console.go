package engine

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store/enginestore"
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
	row, err := e.reads.LiveSession(ctx, tokenHash, now.UnixMilli())
	if errors.Is(err, sql.ErrNoRows) {
		return ConsoleSession{}, ErrSessionNotFound
	}
	if err != nil {
		return ConsoleSession{}, err
	}
	a, err := tari.ParseAddress(row.Address)
	if err != nil {
		return ConsoleSession{}, err
	}
	return ConsoleSession{TokenHash: tokenHash, Address: a, CSRFToken: row.CSRFToken,
		CreatedAt: time.UnixMilli(row.CreatedMs).UTC(), ExpiresAt: time.UnixMilli(row.ExpiresMs).UTC()}, nil
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
type AuditEntry = enginestore.AuditEntry

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
	return e.reads.Audit(ctx, entity, key)
}

// PaymentQuery filters SearchPayments; every given filter applies.
type PaymentQuery = enginestore.PaymentQuery

// SearchPayments lists payments, newest first.
func (e *Engine) SearchPayments(ctx context.Context, q PaymentQuery) ([]core.Payment, error) {
	return e.reads.SearchPayments(ctx, q)
}

// ExchangeRates lists the latest rate of every currency, by currency.
func (e *Engine) ExchangeRates(ctx context.Context) ([]core.ExchangeRate, error) {
	return e.reads.LatestRates(ctx)
}

// RoleHolder is an address and the roles assigned to its account (user is
// implicit and not listed).
type RoleHolder struct {
	Address string
	Roles   []core.Role
}

// RoleHolders lists every account with an assigned role, by address.
func (e *Engine) RoleHolders(ctx context.Context) ([]RoleHolder, error) {
	rows, err := e.reads.RoleAssignments(ctx)
	if err != nil {
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
	created, err := e.reads.OrdersCreatedByDay(ctx, start)
	if err != nil {
		return nil, err
	}
	for _, c := range created {
		if i, ok := byDay[c.Day]; ok {
			out[i].Orders = c.N
		}
	}
	paid, err := e.reads.OrdersPaidByDay(ctx, start)
	if err != nil {
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
	return e.reads.OpenOrderCount(ctx)
}

// ExpiringOrders lists up to limit open orders that expire before cutoff,
// soonest first (expiry measures from status_changed_at, D14).
func (e *Engine) ExpiringOrders(ctx context.Context, cutoff time.Time, limit int) ([]core.Order, error) {
	return e.reads.ExpiringOrders(ctx, cutoff.Add(-e.cfg.UnclaimedTimeout), cutoff.Add(-e.cfg.UnpaidTimeout), limit)
}

// SettlementsForOrder lists the settlements that paid an order, oldest first.
func (e *Engine) SettlementsForOrder(ctx context.Context, orderID string) ([]core.SettlementJournalEntry, error) {
	return e.reads.OrderSettlements(ctx, orderID)
}
