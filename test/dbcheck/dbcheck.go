// Package dbcheck reads a payment server's database after the fact and reports
// every broken guarantee: the balance invariants of engine.md §7.3, one
// OrderPaid per Paid order (D6), the audit history of every row, and legal
// status moves. It writes nothing and imports no testing code, so crash
// tests, multi-instance tests and load tools share one set of SQL checks.
package dbcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
)

// Invariants checks the whole database and returns one line per violation
// (empty when every check holds). The error is for failed queries only.
func Invariants(ctx context.Context, db *store.DB) ([]string, error) {
	var bad []string
	fail := func(f string, a ...any) { bad = append(bad, fmt.Sprintf(f, a...)) }

	sums := func(q string) (map[string]int64, error) {
		var rows []struct {
			Account string `bun:"account"`
			V       int64  `bun:"v"`
		}
		if err := db.NewRaw(q).Scan(ctx, &rows); err != nil && !errors.Is(err, store.ErrNoRows) {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
		m := map[string]int64{}
		for _, r := range rows {
			m[r.Account] = r.V
		}
		return m, nil
	}
	confirmed, err := sums("SELECT sender_account AS account, SUM(amount) AS v FROM payments WHERE status = 'confirmed' GROUP BY sender_account")
	if err != nil {
		return nil, err
	}
	pending, err := sums("SELECT sender_account AS account, SUM(amount) AS v FROM payments WHERE status = 'received' GROUP BY sender_account")
	if err != nil {
		return nil, err
	}
	settled, err := sums("SELECT account, SUM(amount) AS v FROM settlement_journal GROUP BY account")
	if err != nil {
		return nil, err
	}
	negNotes, err := sums("SELECT sender_account AS account, COUNT(*) AS v FROM payments WHERE amount < 0 GROUP BY sender_account")
	if err != nil {
		return nil, err
	}
	var bals []struct {
		Account        string `bun:"account"`
		TotalConfirmed int64  `bun:"total_confirmed"`
		TotalPaid      int64  `bun:"total_paid"`
		Pending        int64  `bun:"pending"`
	}
	if err := db.NewRaw("SELECT account, total_confirmed, total_paid, pending FROM account_balances").Scan(ctx, &bals); err != nil && !errors.Is(err, store.ErrNoRows) {
		return nil, err
	}
	seen := map[string]bool{}
	var sumPaid int64
	for _, b := range bals {
		seen[b.Account] = true
		sumPaid += b.TotalPaid
		// 1. balance = confirmed − settled; pending = received.
		if b.TotalConfirmed != confirmed[b.Account] || b.TotalPaid != settled[b.Account] || b.Pending != pending[b.Account] {
			fail("invariant 1: account %s totals confirmed/paid/pending %d/%d/%d, recomputed %d/%d/%d", b.Account,
				b.TotalConfirmed, b.TotalPaid, b.Pending, confirmed[b.Account], settled[b.Account], pending[b.Account])
		}
		// 9. only a negative credit note makes a balance negative.
		if b.TotalConfirmed-b.TotalPaid < 0 && negNotes[b.Account] == 0 {
			fail("invariant 9: account %s balance %d < 0 without a negative credit note", b.Account, b.TotalConfirmed-b.TotalPaid)
		}
	}
	for _, m := range []map[string]int64{confirmed, pending, settled} {
		for a := range m {
			if !seen[a] {
				fail("invariant 1: account %s has payments or settlements but no balance row", a)
				seen[a] = true
			}
		}
	}
	// 2. Σ settlements = Σ total_paid.
	var total int64
	for _, v := range settled {
		total += v
	}
	if total != sumPaid {
		fail("invariant 2: settlements sum to %d, total_paid to %d", total, sumPaid)
	}
	// 3. A Paid order is settled for exactly its price; others have no settlements.
	var unsettled []struct {
		OrderID string `bun:"order_id"`
		Status  string `bun:"status"`
		Price   int64  `bun:"total_price"`
		Settled int64  `bun:"settled"`
	}
	if err := db.NewRaw(`SELECT o.order_id, o.status, o.total_price, COALESCE(s.v, 0) AS settled FROM orders o
LEFT JOIN (SELECT order_id, SUM(amount) AS v, COUNT(*) AS n FROM settlement_journal GROUP BY order_id) s ON s.order_id = o.order_id
WHERE (o.status = 'Paid' AND (s.n IS NULL OR s.v <> o.total_price)) OR (o.status <> 'Paid' AND s.n IS NOT NULL)`).Scan(ctx, &unsettled); err != nil && !errors.Is(err, store.ErrNoRows) {
		return nil, err
	}
	for _, b := range unsettled {
		fail("invariant 3: order %s (%s) price %d settled %d", b.OrderID, b.Status, b.Price, b.Settled)
	}
	var negative int
	if err := db.NewRaw("SELECT COUNT(*) FROM settlement_journal WHERE amount < 0").Scan(ctx, &negative); err != nil {
		return nil, err
	}
	if negative != 0 {
		fail("%d negative settlements", negative)
	}

	// D27: amounts are money. Order totals, on-chain payments and exchange
	// rates are more than zero and at most the supply (manual credit notes
	// may predate D27 and be negative, invariant 9), and every account total
	// is an integer within its bound: SQLite would have turned an overflowed
	// sum into a REAL that no reader can scan.
	amountChecks := []struct{ what, q string }{
		{"orders with a total that is not money", "SELECT COUNT(*) FROM orders WHERE total_price <= 0 OR total_price > ?"},
		{"on-chain payments with an amount that is not money", "SELECT COUNT(*) FROM payments WHERE payment_type = 'on_chain' AND (amount <= 0 OR amount > ?)"},
		{"exchange rates that are not money", "SELECT COUNT(*) FROM exchange_rates WHERE rate <= 0 OR rate > ?"},
		{"account totals out of bounds", "SELECT COUNT(*) FROM account_balances WHERE ABS(total_confirmed) > ?0 OR ABS(total_paid) > ?0 OR ABS(pending) > ?0"},
	}
	for _, c := range amountChecks {
		bound := int64(core.MaxSupply)
		if strings.Contains(c.q, "?0") {
			bound = int64(core.MaxAccountTotal)
		}
		var n int
		if err := db.NewRaw(c.q, bound).Scan(ctx, &n); err != nil {
			return nil, fmt.Errorf("D27 check: %w", err)
		}
		if n != 0 {
			fail("D27: %d %s", n, c.what)
		}
	}
	if db.Kind == store.SQLite {
		var n int
		if err := db.NewRaw("SELECT COUNT(*) FROM account_balances WHERE typeof(total_confirmed) <> 'integer' OR typeof(total_paid) <> 'integer' OR typeof(pending) <> 'integer'").Scan(ctx, &n); err != nil {
			return nil, err
		}
		if n != 0 {
			fail("D27: %d account rows hold a non-integer total", n)
		}
	}

	// D6: exactly one OrderPaid per Paid order, none for other orders.
	evs, err := AllEvents(ctx, db)
	if err != nil {
		return nil, err
	}
	paidEvents := map[string]int{}
	for _, ev := range evs {
		if ev.Type != core.EventOrderPaid {
			continue
		}
		var p core.OrderEvent
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			fail("event %s: undecodable OrderPaid payload: %v", ev.ID, err)
			continue
		}
		if p.Order.Status != core.OrderPaid {
			fail("D6: OrderPaid event %s for %s with status %s", ev.ID, p.Order.OrderID, p.Order.Status)
		}
		paidEvents[p.Order.OrderID]++
	}
	var paid []string
	if err := db.NewRaw("SELECT order_id FROM orders WHERE status = 'Paid'").Scan(ctx, &paid); err != nil && !errors.Is(err, store.ErrNoRows) {
		return nil, err
	}
	for _, id := range paid {
		if paidEvents[id] != 1 {
			fail("D6: order %s is Paid with %d OrderPaid events", id, paidEvents[id])
		}
		delete(paidEvents, id)
	}
	for id, n := range paidEvents {
		fail("D6: order %s is not Paid but has %d OrderPaid events", id, n)
	}

	// Every order and payment has audit history, and its history moves
	// only along legal edges (6, 7): payments received → confirmed or
	// cancelled, and a Paid order stays Paid.
	// (Checked in Go: audit_log has no index, so a NOT EXISTS per row
	// would be quadratic.)
	moves, logged, err := statusMoves(ctx, db)
	if err != nil {
		return nil, err
	}
	bad = append(bad, moves...)
	for _, q := range []struct{ entity, sql string }{
		{"order", "SELECT CAST(id AS TEXT) FROM orders"},
		{"payment", "SELECT txid FROM payments"},
	} {
		var keys []string
		if err := db.NewRaw(q.sql).Scan(ctx, &keys); err != nil && !errors.Is(err, store.ErrNoRows) {
			return nil, err
		}
		missing := 0
		for _, k := range keys {
			if !logged[q.entity+"/"+k] {
				missing++
			}
		}
		if missing != 0 {
			fail("%d %ss without audit history", missing, q.entity)
		}
	}
	sort.Strings(bad)
	return bad, nil
}

// legal lists the status moves an audit history may show.
var legal = map[string]map[string]bool{
	"payment": {"received>confirmed": true, "received>cancelled": true},
	"order": {
		"Unclaimed>New": true, "Unclaimed>Paid": true, "Unclaimed>Cancelled": true, "Unclaimed>Expired": true,
		"New>Paid": true, "New>Cancelled": true, "New>Expired": true,
		// A reset re-opens an Expired or Cancelled order (and may pay it at
		// once); a Paid order never moves again (invariant 7).
		"Expired>New": true, "Cancelled>New": true, "Expired>Paid": true, "Cancelled>Paid": true,
	},
}

// statusMoves walks the audit history once: illegal moves, and the set of
// "entity/key" that have history.
func statusMoves(ctx context.Context, db *store.DB) ([]string, map[string]bool, error) {
	var rows []struct {
		Entity   string `bun:"entity"`
		Key      string `bun:"entity_key"`
		Snapshot string `bun:"snapshot"`
	}
	if err := db.NewRaw("SELECT entity, entity_key, snapshot FROM audit_log ORDER BY id").Scan(ctx, &rows); err != nil && !errors.Is(err, store.ErrNoRows) {
		return nil, nil, err
	}
	var bad []string
	last := map[string]string{}
	for _, r := range rows {
		var s struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(r.Snapshot), &s); err != nil {
			bad = append(bad, fmt.Sprintf("audit %s %s: undecodable snapshot: %v", r.Entity, r.Key, err))
			continue
		}
		k := r.Entity + "/" + r.Key
		if prev, ok := last[k]; ok && prev != s.Status && !legal[r.Entity][prev+">"+s.Status] {
			bad = append(bad, fmt.Sprintf("invariant 6/7: %s %s moved %s → %s", r.Entity, r.Key, prev, s.Status))
		}
		last[k] = s.Status
	}
	logged := make(map[string]bool, len(last))
	for k := range last {
		logged[k] = true
	}
	return bad, logged, nil
}

// AllEvents returns every outbox event in seq order.
func AllEvents(ctx context.Context, db *store.DB) ([]core.Event, error) {
	var all []core.Event
	var after int64
	for {
		evs, err := store.EventsAfter(ctx, db, after, 5000)
		if err != nil {
			return nil, err
		}
		all = append(all, evs...)
		if len(evs) < 5000 {
			return all, nil
		}
		after = evs[len(evs)-1].Seq
	}
}

// Summary is a one-line count of what the database holds, for reports.
func Summary(ctx context.Context, db *store.DB) (string, error) {
	var parts []string
	for _, q := range []struct{ name, sql string }{
		{"orders", "SELECT COUNT(*) FROM orders"},
		{"paid", "SELECT COUNT(*) FROM orders WHERE status = 'Paid'"},
		{"cancelled", "SELECT COUNT(*) FROM orders WHERE status = 'Cancelled'"},
		{"expired", "SELECT COUNT(*) FROM orders WHERE status = 'Expired'"},
		{"payments", "SELECT COUNT(*) FROM payments"},
		{"events", "SELECT COUNT(*) FROM events"},
	} {
		var n int64
		if err := db.NewRaw(q.sql).Scan(ctx, &n); err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%s=%d", q.name, n))
	}
	return strings.Join(parts, " "), nil
}

// Delivered compares the outbox with what a receiver got (event id → type):
// every event after seq `after` must have been received at least once with
// its type, and every received id must be an outbox event (none invented).
func Delivered(events []core.Event, after int64, got map[string]string) []string {
	var bad []string
	inOutbox := make(map[string]bool, len(events))
	for _, ev := range events {
		inOutbox[ev.ID] = true
		if ev.Seq <= after {
			continue
		}
		typ, ok := got[ev.ID]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("event %d %s (%s) was never delivered", ev.Seq, ev.ID, ev.Type))
		case typ != string(ev.Type):
			bad = append(bad, fmt.Sprintf("event %s delivered as %s, committed as %s", ev.ID, typ, ev.Type))
		}
	}
	for id := range got {
		if !inOutbox[id] {
			bad = append(bad, fmt.Sprintf("received event %s is not in the outbox", id))
		}
	}
	sort.Strings(bad)
	return bad
}
