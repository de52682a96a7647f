package plugins

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// EngineActions implements Engine on the real payment engine, without the
// server's Shopify repricing (the server's own wiring, with it, is tested
// end to end in cmd/tari-payment-server).
type EngineActions struct{ Eng *engine.Engine }

func (a EngineActions) SetExchangeRate(ctx context.Context, currency string, rate core.MicroTari) (RateChange, error) {
	r, err := a.Eng.SetExchangeRate(ctx, currency, rate)
	return RateChange{Rate: r}, err
}

func (a EngineActions) ExchangeRate(ctx context.Context, currency string) (core.ExchangeRate, error) {
	return a.Eng.ExchangeRate(ctx, currency)
}

func (a EngineActions) Order(ctx context.Context, orderID string) (*core.Order, error) {
	o, err := a.Eng.OrderByIDStrict(ctx, orderID)
	if err == nil && o == nil {
		err = &core.OrderNotFoundError{OrderID: orderID}
	}
	return o, err
}

func (a EngineActions) Orders(ctx context.Context, q core.OrderQuery) ([]core.Order, error) {
	return a.Eng.SearchOrders(ctx, q)
}

func (a EngineActions) Payments(ctx context.Context, f PaymentFilter) ([]core.Payment, error) {
	ps, err := a.Eng.PaymentsForOrder(ctx, f.OrderID)
	if err != nil {
		return nil, err
	}
	ps = slices.DeleteFunc(ps, func(p core.Payment) bool { return len(f.Statuses) > 0 && !slices.Contains(f.Statuses, p.Status) })
	return ps[:min(len(ps), f.Limit)], nil
}

// scheduledModule is plugins/testdata/scheduled, built once per test binary.
func scheduledModule(t testing.TB) []byte { return moduleOnce(t, "plugins/testdata/scheduled") }

// actionPlugin loads the scheduled test plugin with the given grants.
func actionPlugin(t testing.TB, db *store.DB, id string, grants []string, cfg map[string]string) *plugin {
	t.Helper()
	m := &Manifest{ID: id, Version: "1", ABI: 1, Schedule: &Schedule{Every: "1h"}, Actions: grants}
	if err := m.validate(); err != nil {
		t.Fatal(err)
	}
	p := &plugin{m: m, log: slog.New(slog.NewTextHandler(io.Discard, nil)), timeout: 10 * time.Second, client: http.DefaultClient,
		config: func(k string) (string, bool) { v, ok := cfg[k]; return v, ok },
		state:  &stateStore{db: db, pluginID: id, quota: 1 << 20},
		act:    &actionHost{engine: EngineActions{engine.New(db, engine.DefaultConfig())}, db: db}}
	ctx := context.Background()
	cache := wazero.NewCompilationCache()
	t.Cleanup(func() { cache.Close(ctx) })
	if err := p.compile(ctx, scheduledModule(t), cache); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	return p
}

func tickEvent(n int) core.Event {
	payload, _ := json.Marshal(core.TickEvent{PeriodStart: time.Unix(int64(n)*3600, 0).UTC(), PeriodSeconds: 3600})
	return core.Event{Seq: int64(n), ID: "tick-" + string(rune('a'+n%26)), Type: core.EventTick, CreatedAt: time.Now().UTC(), Payload: payload}
}

// BenchmarkActionHostCalls measures one action through a warm guest: a Tick
// whose handler calls one action ("rates.get", "orders.get", "rates.set")
// against the same Tick calling none ("none"); the difference is the
// action's cost (host call, grant check, engine call, audit row).
func BenchmarkActionHostCalls(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var db *store.DB
			if kind == "sqlite" {
				db = storetest.SQLite(b)
			} else {
				db = storetest.Postgres(b)
			}
			ctx := outbox.WithLeaseEpoch(context.Background(), 1)
			eng := engine.New(db, engine.DefaultConfig())
			if _, err := eng.SetExchangeRate(ctx, "USD", 1_000_000); err != nil {
				b.Fatal(err)
			}
			if _, err := eng.NewOrder(ctx, engine.NewOrder{OrderID: "bench-1", CustomerID: "c", TotalPrice: 5_000_000, Currency: "XTR", CreatedAt: time.Now()}); err != nil {
				b.Fatal(err)
			}
			for _, c := range []struct{ name, actions string }{
				{"none", `[]`},
				{"rates.get", `[["rates.get",{"currency":"USD"}]]`},
				{"orders.get", `[["orders.get",{"order_id":"bench-1"}]]`},
				{"rates.set", `[["rates.set",{"currency":"EUR","rate":1200000}]]`},
			} {
				p := actionPlugin(b, db, "bench-"+strings.ReplaceAll(c.name, ".", "-"), []string{"rates:write", "orders:read"}, map[string]string{"ACTIONS": c.actions})
				b.Run(c.name, func(b *testing.B) {
					i := 0
					for b.Loop() {
						i++
						if _, err := p.DeliverAck(ctx, tickEvent(i)); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkActionHostSide is the host's share of one granted read action
// (grant check, request decoding, engine read, audit row, answer encoding)
// without the guest, and of a refused one.
func BenchmarkActionHostSide(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var db *store.DB
			if kind == "sqlite" {
				db = storetest.SQLite(b)
			} else {
				db = storetest.Postgres(b)
			}
			ctx := context.Background()
			eng := engine.New(db, engine.DefaultConfig())
			if _, err := eng.SetExchangeRate(ctx, "USD", 1_000_000); err != nil {
				b.Fatal(err)
			}
			p := &plugin{m: &Manifest{ID: "bench", Actions: []string{"rates:read"}}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
				act: &actionHost{engine: EngineActions{eng}, db: db}}
			b.Run("rates.get", func(b *testing.B) {
				for b.Loop() {
					if doc := p.runAction(ctx, "rates.get", []byte(`{"currency":"USD"}`)); doc[2] != 'r' {
						b.Fatalf("%s", doc)
					}
				}
			})
			b.Run("refused", func(b *testing.B) {
				for b.Loop() {
					if doc := p.runAction(ctx, "orders.get", []byte(`{"order_id":"x"}`)); doc[2] != 'c' {
						b.Fatalf("%s", doc)
					}
				}
			})
		})
	}
}
