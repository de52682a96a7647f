package engine_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
)

// stmtCounter is a bun query hook counting the statements sent to the
// server (BEGIN and COMMIT included): each is one round trip, parsed and
// planned by PostgreSQL.
type stmtCounter struct{ n atomic.Int64 }

func (c *stmtCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (c *stmtCounter) AfterQuery(context.Context, *bun.QueryEvent)                        { c.n.Add(1) }

// BenchmarkPostgres times the engine's hot operations on PostgreSQL against
// a baseline in the same run and schema: a bare single-row INSERT in its own
// transaction (BEGIN, INSERT, COMMIT) through the same pool. The two are
// interleaved iteration by iteration so the machine's other work weighs on
// both alike; each sub-benchmark reports engine-ns/op, bare-ns/op, their
// ratio x-bare and the engine's statements per operation (stmts/op, the
// baseline's being 3). Needs TPG_TEST_POSTGRES_URL.
//
//	go test -run '^$' -bench Postgres -benchtime 500x ./core/engine
func BenchmarkPostgres(b *testing.B) {
	ctx := context.Background()
	setup := func(b *testing.B) (*engine.Engine, func(), *stmtCounter) {
		db := storetest.Postgres(b)
		if _, err := db.ExecContext(context.Background(), "CREATE TABLE bench_rows (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
			b.Fatal(err)
		}
		bare := func() {
			if err := db.WriteTx(ctx, func(stx *store.Tx) error {
				ctx, tx := stx.Context(), stx.IDB()
				_, err := tx.ExecContext(ctx, "INSERT INTO bench_rows (v) VALUES (?)", "row")
				return err
			}, store.NoEvents); err != nil {
				b.Fatal(err)
			}
		}
		c := &stmtCounter{}
		db.AddQueryHook(c)
		return engine.New(db, engine.DefaultConfig()), bare, c
	}
	run := func(b *testing.B, bare func(), c *stmtCounter, op func(i int)) {
		var wall [2]time.Duration
		var stmts int64
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			bare()
			wall[0] += time.Since(t0)
			n0 := c.n.Load()
			t0 = time.Now()
			op(i)
			wall[1] += time.Since(t0)
			stmts += c.n.Load() - n0
		}
		n := float64(b.N)
		b.ReportMetric(float64(wall[1].Nanoseconds())/n, "engine-ns/op")
		b.ReportMetric(float64(wall[0].Nanoseconds())/n, "bare-ns/op")
		b.ReportMetric(float64(wall[1])/float64(wall[0]), "x-bare")
		b.ReportMetric(float64(stmts)/n, "stmts/op")
	}
	b.Run("new_order", func(b *testing.B) {
		e, bare, c := setup(b)
		run(b, bare, c, func(i int) {
			if _, err := e.NewOrder(ctx, engine.NewOrder{OrderID: fmt.Sprint(i), CustomerID: fmt.Sprint(i % 100), TotalPrice: 100, Currency: "XTR"}); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("payment_received", func(b *testing.B) {
		e, bare, c := setup(b)
		from := newWallet().addr
		run(b, bare, c, func(i int) {
			if _, err := e.ReceivePayment(ctx, engine.IncomingPayment{Sender: from, Amount: 100, TxID: fmt.Sprint("tx", i)}); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("payment_confirmed_paying_one_order", func(b *testing.B) {
		e, bare, c := setup(b)
		for i := 0; i < b.N; i++ {
			w := newWallet()
			id := fmt.Sprint("o", i)
			if _, err := e.NewOrder(ctx, engine.NewOrder{OrderID: id, CustomerID: id, TotalPrice: 100, Currency: "XTR"}); err != nil {
				b.Fatal(err)
			}
			if _, err := e.ClaimOrder(ctx, tari.SignMemo(w.key, w.addr, id)); err != nil {
				b.Fatal(err)
			}
			if _, err := e.ReceivePayment(ctx, engine.IncomingPayment{Sender: w.addr, Amount: 100, TxID: fmt.Sprint("tx", i)}); err != nil {
				b.Fatal(err)
			}
		}
		run(b, bare, c, func(i int) {
			r, err := e.ConfirmPayment(ctx, fmt.Sprint("tx", i))
			if err != nil || len(r.Paid.OrdersPaid) != 1 || r.Paid.OrdersPaid[0].Status != core.OrderPaid {
				b.Fatalf("%+v %v", r, err)
			}
		})
	})
}
