package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
)

// Console sessions: found while live, gone after expiry, logout and the
// per-account revocation.
func TestConsoleSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		s := engine.ConsoleSession{TokenHash: strings.Repeat("a", 64), Address: w.addr, CSRFToken: "csrf-1", CreatedAt: t0, ExpiresAt: t0.Add(8 * time.Hour)}
		if err := x.e.CreateConsoleSession(x.ctx, s); err != nil {
			t.Fatal(err)
		}
		got, err := x.e.ConsoleSessionByHash(x.ctx, s.TokenHash, t0.Add(time.Hour))
		if err != nil || got.Address.AccountKey() != w.addr.AccountKey() || got.CSRFToken != "csrf-1" || !got.ExpiresAt.Equal(s.ExpiresAt) {
			t.Fatalf("live session: %+v %v", got, err)
		}
		if _, err := x.e.ConsoleSessionByHash(x.ctx, s.TokenHash, t0.Add(8*time.Hour)); !errors.Is(err, engine.ErrSessionNotFound) {
			t.Fatalf("expired session: %v", err)
		}
		if _, err := x.e.ConsoleSessionByHash(x.ctx, strings.Repeat("b", 64), t0); !errors.Is(err, engine.ErrSessionNotFound) {
			t.Fatalf("unknown session: %v", err)
		}
		if err := x.e.DeleteConsoleSession(x.ctx, s.TokenHash); err != nil {
			t.Fatal(err)
		}
		if _, err := x.e.ConsoleSessionByHash(x.ctx, s.TokenHash, t0); !errors.Is(err, engine.ErrSessionNotFound) {
			t.Fatalf("after logout: %v", err)
		}
		for _, h := range []string{"c", "d"} {
			s.TokenHash = strings.Repeat(h, 64)
			if err := x.e.CreateConsoleSession(x.ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := x.e.DeleteConsoleSessionsFor(x.ctx, w.addr); err != nil || n != 2 {
			t.Fatalf("revoke all: %d %v", n, err)
		}
	})
}

// The console's reads: daily volume, payments by filter, every latest rate,
// role holders, an order's audit trail and settlements.
func TestConsoleReads(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		a, b := newWallet(), newWallet()
		x.order("o1", "c1", core.Tari(5))
		x.claim(a, "o1")
		x.advance(24 * time.Hour)
		x.order("o2", "c2", core.Tari(7))
		x.pay(a.addr, "tx-a", core.Tari(5)) // pays o1 on day 2
		x.receive(b.addr, "tx-b", core.Tari(1), nil)

		days, err := x.e.DailyVolume(x.ctx, t0.Add(-24*time.Hour), t0.Add(24*time.Hour))
		if err != nil || len(days) != 3 {
			t.Fatalf("days: %v %v", days, err)
		}
		if days[0].Orders != 0 || days[1].Orders != 1 || days[2].Orders != 1 || days[2].Paid != 1 || days[2].PaidVolume != core.Tari(5) || days[1].PaidVolume != 0 {
			t.Fatalf("daily volume: %+v", days)
		}

		// o2 is Unclaimed since day 2 (expires 2 h later by default), o1 Paid.
		if n, err := x.e.OpenOrderCount(x.ctx); err != nil || n != 1 {
			t.Fatalf("open orders: %d %v", n, err)
		}
		if soon, err := x.e.ExpiringOrders(x.ctx, x.clock().Add(3*time.Hour), 10); err != nil || len(soon) != 1 || soon[0].OrderID != "o2" {
			t.Fatalf("expiring within 3 h: %v %v", soon, err)
		}
		if soon, err := x.e.ExpiringOrders(x.ctx, x.clock().Add(time.Hour), 10); err != nil || len(soon) != 0 {
			t.Fatalf("expiring within 1 h: %v %v", soon, err)
		}

		got, err := x.e.SearchPayments(x.ctx, engine.PaymentQuery{Statuses: []core.PaymentStatus{core.PaymentReceived}})
		if err != nil || len(got) != 1 || got[0].TxID != "tx-b" {
			t.Fatalf("received payments: %v %v", got, err)
		}
		sender := a.addr.Base58()
		got, err = x.e.SearchPayments(x.ctx, engine.PaymentQuery{Sender: &sender})
		if err != nil || len(got) != 1 || got[0].TxID != "tx-a" {
			t.Fatalf("by sender: %v %v", got, err)
		}
		since := t0.Add(48 * time.Hour)
		if got, _ = x.e.SearchPayments(x.ctx, engine.PaymentQuery{Since: &since}); len(got) != 0 {
			t.Fatalf("since: %v", got)
		}
		if got, _ = x.e.SearchPayments(x.ctx, engine.PaymentQuery{Type: ptr(core.PaymentManual)}); len(got) != 0 {
			t.Fatalf("manual: %v", got)
		}

		for _, r := range []struct {
			cur  string
			rate core.MicroTari
		}{{"USD", 100}, {"EUR", 200}, {"USD", 300}} {
			if _, err := x.e.SetExchangeRate(x.ctx, r.cur, r.rate); err != nil {
				t.Fatal(err)
			}
		}
		rates, err := x.e.ExchangeRates(x.ctx)
		if err != nil || len(rates) != 2 || rates[0].Currency != "EUR" || rates[1].Rate != 300 {
			t.Fatalf("rates: %+v %v", rates, err)
		}

		if err := x.e.AssignRoles(x.ctx, a.addr, []core.Role{core.RoleWrite, core.RoleReadAll}, nil); err != nil {
			t.Fatal(err)
		}
		holders, err := x.e.RoleHolders(x.ctx)
		if err != nil || len(holders) != 1 || len(holders[0].Roles) != 2 || holders[0].Address != a.addr.Base58() {
			t.Fatalf("holders: %+v %v", holders, err)
		}

		o := x.get("o1")
		audit, err := x.e.OrderAudit(x.ctx, o)
		if err != nil || len(audit) < 3 || !strings.Contains(audit[len(audit)-1].Snapshot, `"Paid"`) {
			t.Fatalf("audit: %+v %v", audit, err)
		}
		sets, err := x.e.SettlementsForOrder(x.ctx, "o1")
		if err != nil || len(sets) != 1 || sets[0].Amount != core.Tari(5) {
			t.Fatalf("settlements: %+v %v", sets, err)
		}
	})
}
