package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
)

// BenchmarkSQLite times the engine's hot operations against a baseline in
// the same run: a bare single-row INSERT in its own transaction on the same
// database (same store.Open configuration, same file). The two are
// interleaved iteration by iteration so machine noise hits both alike; each
// sub-benchmark reports engine-ns/op, the baselines' ns/op and the ratios
// x-bare and x-bare-rowid (target ≤ 4). ns/op covers all three calls.
//
//	go test -run '^$' -bench SQLite -benchtime 2000x ./core/engine
func BenchmarkSQLite(b *testing.B) {
	ctx := context.Background()
	setup := func(b *testing.B) (*engine.Engine, [2]func()) {
		db, err := store.Open(ctx, storetest.SQLiteURL(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		// Two baselines: a table shaped like the engine's and the outbox
		// (AUTOINCREMENT id), and the cheapest possible one (rowid only: one
		// page per commit instead of two).
		if _, err := db.Exec("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL)"); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Exec("CREATE TABLE bench_rowid (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
			b.Fatal(err)
		}
		insert := func(table string) func() {
			return func() {
				if err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
					_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (v) VALUES (?)", "row")
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		}
		return engine.New(db, engine.DefaultConfig()), [2]func(){insert("bench_rows"), insert("bench_rowid")}
	}
	run := func(b *testing.B, bare [2]func(), op func(i int)) {
		var tBare, tRowid, tOp time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			s := time.Now()
			bare[0]()
			m1 := time.Now()
			bare[1]()
			m2 := time.Now()
			op(i)
			tOp += time.Since(m2)
			tRowid += m2.Sub(m1)
			tBare += m1.Sub(s)
		}
		b.ReportMetric(float64(tOp.Nanoseconds())/float64(b.N), "engine-ns/op")
		b.ReportMetric(float64(tBare.Nanoseconds())/float64(b.N), "bare-ns/op")
		b.ReportMetric(float64(tRowid.Nanoseconds())/float64(b.N), "bare-rowid-ns/op")
		b.ReportMetric(float64(tOp)/float64(tBare), "x-bare")
		b.ReportMetric(float64(tOp)/float64(tRowid), "x-bare-rowid")
	}
	b.Run("new_order", func(b *testing.B) {
		e, bare := setup(b)
		run(b, bare, func(i int) {
			if _, err := e.NewOrder(ctx, engine.NewOrder{OrderID: fmt.Sprint(i), CustomerID: fmt.Sprint(i % 100), TotalPrice: 100, Currency: "XTR"}); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("payment_received", func(b *testing.B) {
		e, bare := setup(b)
		from := newWallet().addr
		run(b, bare, func(i int) {
			if _, err := e.ReceivePayment(ctx, engine.IncomingPayment{Sender: from, Amount: 100, TxID: fmt.Sprint("tx", i)}); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("payment_confirmed_paying_one_order", func(b *testing.B) {
		e, bare := setup(b)
		// Each iteration's sender has one claimed order of exactly the payment's amount.
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
		run(b, bare, func(i int) {
			r, err := e.ConfirmPayment(ctx, fmt.Sprint("tx", i))
			if err != nil || len(r.Paid.OrdersPaid) != 1 || r.Paid.OrdersPaid[0].Status != core.OrderPaid {
				b.Fatalf("%+v %v", r, err)
			}
		})
	})
}
