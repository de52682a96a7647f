package engine_test

import (
	"context"
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
	"github.com/tari-payment/tps/test/dbcheck"
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

// checkInvariants asserts engine.md §7.3 (and D6, audit history, legal
// status moves) on the whole database, with the checks the crash and
// multi-instance tests use.
func checkInvariants(t testing.TB, db *store.DB) {
	t.Helper()
	bad, err := dbcheck.Invariants(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("%s", b)
	}
}
