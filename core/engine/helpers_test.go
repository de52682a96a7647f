package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
)

// env is one engine on a fresh database with a controllable clock. The
// invariants of engine.md §7.3 are checked when the test ends.
type env struct {
	t   *testing.T
	db  *store.DB
	e   *engine.Engine
	ctx context.Context

	mu  sync.Mutex
	now time.Time

	skipCheck bool
}

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// forEachDB runs fn on SQLite and (when configured) PostgreSQL with a default
// engine configuration adjusted by tweak.
func forEachDB(t *testing.T, fn func(t *testing.T, x *env), tweak ...func(*engine.Config)) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		fn(t, newEnv(t, db, tweak...))
	})
}

func newEnv(t *testing.T, db *store.DB, tweak ...func(*engine.Config)) *env {
	x := &env{t: t, db: db, ctx: context.Background(), now: t0}
	cfg := engine.DefaultConfig()
	cfg.Now = x.clock
	for _, f := range tweak {
		f(&cfg)
	}
	x.e = engine.New(db, cfg)
	t.Cleanup(func() {
		if !t.Failed() && !x.skipCheck {
			checkInvariants(t, db)
		}
	})
	return x
}

func (x *env) clock() time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.now
}

func (x *env) advance(d time.Duration) {
	x.mu.Lock()
	x.now = x.now.Add(d)
	x.mu.Unlock()
}

// wallet is a customer's key and address.
type wallet struct {
	key  tari.SecretKey
	view tari.PublicKey
	addr tari.Address
}

func newWallet() wallet {
	k := tari.GenerateSecretKey()
	return wallet{key: k, view: tari.GenerateSecretKey().PublicKey(), addr: tari.NewAddress(tari.Mainnet, k.PublicKey())}
}

// dual is the same wallet in its dual-key form (another address string, same account).
func (w wallet) dual() tari.Address {
	return tari.NewDualAddress(tari.Mainnet, w.view, w.key.PublicKey())
}

func (w wallet) sign(orderID string) tari.MemoSignature { return tari.SignMemo(w.key, w.addr, orderID) }

func ptr[T any](v T) *T { return &v }

func (x *env) order(id, cid string, price core.MicroTari) *core.Order {
	x.t.Helper()
	o, err := x.e.NewOrder(x.ctx, engine.NewOrder{OrderID: id, CustomerID: cid, TotalPrice: price, Currency: "XTR", CreatedAt: x.clock()})
	if err != nil {
		x.t.Fatalf("new order %s: %v", id, err)
	}
	return o
}

func (x *env) claim(w wallet, id string) core.Order {
	x.t.Helper()
	r, err := x.e.ClaimOrder(x.ctx, w.sign(id))
	if err != nil {
		x.t.Fatalf("claim %s: %v", id, err)
	}
	return r.Order
}

func (x *env) receive(from tari.Address, txid string, amount core.MicroTari, orderID *string) *core.Payment {
	x.t.Helper()
	p, err := x.e.ReceivePayment(x.ctx, engine.IncomingPayment{Sender: from, Amount: amount, TxID: txid, OrderID: orderID})
	if err != nil {
		x.t.Fatalf("receive %s: %v", txid, err)
	}
	return p
}

func (x *env) confirm(txid string) core.ConfirmResult {
	x.t.Helper()
	r, err := x.e.ConfirmPayment(x.ctx, txid)
	if err != nil {
		x.t.Fatalf("confirm %s: %v", txid, err)
	}
	return r
}

// pay receives and confirms a payment.
func (x *env) pay(from tari.Address, txid string, amount core.MicroTari) core.ConfirmResult {
	x.t.Helper()
	x.receive(from, txid, amount, nil)
	return x.confirm(txid)
}

func (x *env) get(id string) core.Order {
	x.t.Helper()
	o, err := x.e.OrderByID(x.ctx, id)
	if err != nil || o == nil {
		x.t.Fatalf("order %s: %v %v", id, o, err)
	}
	return *o
}

func (x *env) balance(a tari.Address) core.AddressBalance {
	x.t.Helper()
	b, err := x.e.AddressBalance(x.ctx, a)
	if err != nil {
		x.t.Fatal(err)
	}
	return b
}

func (x *env) wantStatus(id string, s core.OrderStatus) {
	x.t.Helper()
	if got := x.get(id).Status; got != s {
		x.t.Fatalf("order %s status = %s, want %s", id, got, s)
	}
}

func (x *env) wantBalance(a tari.Address, want core.MicroTari) {
	x.t.Helper()
	if got := x.balance(a).CurrentBalance; got != want {
		x.t.Fatalf("balance of %s = %d, want %d", a.Base58()[:10], got, want)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

// events returns the outbox as (type, payload) pairs, oldest first.
func (x *env) events() []core.Event {
	x.t.Helper()
	evs, err := store.EventsAfter(x.ctx, x.db, 0, 1_000_000)
	if err != nil {
		x.t.Fatal(err)
	}
	return evs
}

// eventTypes lists the types of events after seq.
func (x *env) eventTypesAfter(seq int64) []core.EventType {
	var out []core.EventType
	for _, ev := range x.events() {
		if ev.Seq > seq {
			out = append(out, ev.Type)
		}
	}
	return out
}

func (x *env) lastSeq() int64 {
	s, err := store.LastEventSeq(x.ctx, x.db)
	if err != nil {
		x.t.Fatal(err)
	}
	return s
}

func wantTypes(t *testing.T, got []core.EventType, want ...core.EventType) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
}

// checkInvariants asserts engine.md §7.3 on the whole database.
func checkInvariants(t testing.TB, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	sums := func(q string) map[string]int64 {
		var rows []struct {
			Account string `bun:"account"`
			V       int64  `bun:"v"`
		}
		if err := db.NewRaw(q).Scan(ctx, &rows); err != nil && !errors.Is(err, store.ErrNoRows) {
			t.Fatalf("%s: %v", q, err)
		}
		m := map[string]int64{}
		for _, r := range rows {
			m[r.Account] = r.V
		}
		return m
	}
	confirmed := sums("SELECT sender_account AS account, SUM(amount) AS v FROM payments WHERE status = 'confirmed' GROUP BY sender_account")
	pending := sums("SELECT sender_account AS account, SUM(amount) AS v FROM payments WHERE status = 'received' GROUP BY sender_account")
	settled := sums("SELECT account, SUM(amount) AS v FROM settlement_journal GROUP BY account")
	negNotes := sums("SELECT sender_account AS account, COUNT(*) AS v FROM payments WHERE amount < 0 GROUP BY sender_account")
	var bals []struct {
		Account        string `bun:"account"`
		TotalConfirmed int64  `bun:"total_confirmed"`
		TotalPaid      int64  `bun:"total_paid"`
		Pending        int64  `bun:"pending"`
	}
	if err := db.NewRaw("SELECT account, total_confirmed, total_paid, pending FROM account_balances").Scan(ctx, &bals); err != nil && !errors.Is(err, store.ErrNoRows) {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var sumPaid int64
	for _, b := range bals {
		seen[b.Account] = true
		sumPaid += b.TotalPaid
		// 1. balance = confirmed − settled; pending = received.
		if b.TotalConfirmed != confirmed[b.Account] || b.TotalPaid != settled[b.Account] || b.Pending != pending[b.Account] {
			t.Errorf("invariant 1: account %s totals %d/%d/%d, recomputed %d/%d/%d", b.Account, b.TotalConfirmed, b.TotalPaid, b.Pending,
				confirmed[b.Account], settled[b.Account], pending[b.Account])
		}
		// 9. only negative credit notes make a balance negative.
		if b.TotalConfirmed-b.TotalPaid < 0 && negNotes[b.Account] == 0 {
			t.Errorf("invariant 9: account %s balance %d < 0 without a negative credit note", b.Account, b.TotalConfirmed-b.TotalPaid)
		}
	}
	for a := range settled {
		if !seen[a] {
			t.Errorf("invariant 1: settled account %s has no balance row", a)
		}
	}
	// 2. Σ settlements = Σ total_paid.
	var total int64
	for _, v := range settled {
		total += v
	}
	if total != sumPaid {
		t.Errorf("invariant 2: settlements %d, total_paid %d", total, sumPaid)
	}
	// 3. Paid orders are settled for exactly their price; others have no settlements.
	var bad []struct {
		OrderID string `bun:"order_id"`
		Status  string `bun:"status"`
		Price   int64  `bun:"total_price"`
		Settled int64  `bun:"settled"`
	}
	if err := db.NewRaw(`SELECT o.order_id, o.status, o.total_price, COALESCE(s.v, 0) AS settled FROM orders o
LEFT JOIN (SELECT order_id, SUM(amount) AS v, COUNT(*) AS n FROM settlement_journal GROUP BY order_id) s ON s.order_id = o.order_id
WHERE (o.status = 'Paid' AND (s.n IS NULL OR s.v <> o.total_price)) OR (o.status <> 'Paid' AND s.n IS NOT NULL)`).Scan(ctx, &bad); err != nil && !errors.Is(err, store.ErrNoRows) {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("invariant 3: order %s (%s) price %d settled %d", b.OrderID, b.Status, b.Price, b.Settled)
	}
	var negative int
	if err := db.NewRaw("SELECT COUNT(*) FROM settlement_journal WHERE amount < 0").Scan(ctx, &negative); err != nil || negative != 0 {
		t.Errorf("negative settlements: %d %v", negative, err)
	}
	// D6: exactly one OrderPaid per Paid order, none for others.
	evs, err := store.EventsAfter(ctx, db, 0, 10_000_000)
	if err != nil {
		t.Fatal(err)
	}
	paidEvents := map[string]int{}
	for _, ev := range evs {
		if ev.Type == core.EventOrderPaid {
			var p core.OrderEvent
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatal(err)
			}
			if p.Order.Status != core.OrderPaid {
				t.Errorf("OrderPaid event for %s with status %s", p.Order.OrderID, p.Order.Status)
			}
			paidEvents[p.Order.OrderID]++
		}
	}
	var paid []string
	if err := db.NewRaw("SELECT order_id FROM orders WHERE status = 'Paid'").Scan(ctx, &paid); err != nil && !errors.Is(err, store.ErrNoRows) {
		t.Fatal(err)
	}
	for _, id := range paid {
		if paidEvents[id] != 1 {
			t.Errorf("D6: order %s is Paid with %d OrderPaid events", id, paidEvents[id])
		}
		delete(paidEvents, id)
	}
	for id, n := range paidEvents {
		t.Errorf("D6: order %s is not Paid but has %d OrderPaid events", id, n)
	}
	// Audit: every order and payment has history.
	var missing int
	if err := db.NewRaw("SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.entity = 'order' AND l.entity_key = CAST(o.id AS TEXT))").Scan(ctx, &missing); err != nil || missing != 0 {
		t.Errorf("orders without audit history: %d %v", missing, err)
	}
	if err := db.NewRaw("SELECT COUNT(*) FROM payments p WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.entity = 'payment' AND l.entity_key = p.txid)").Scan(ctx, &missing); err != nil || missing != 0 {
		t.Errorf("payments without audit history: %d %v", missing, err)
	}
}
