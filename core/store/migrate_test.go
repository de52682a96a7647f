package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun/migrate"

	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/migrations"
)

// TestSQLiteUpgradeDropsAutoincrementKeepingRows: migration 0202 rebuilds
// events and settlement_journal without AUTOINCREMENT on a database that
// already holds rows: same rows and ids, new rows continue after the last
// id, deletes are refused, and sqlite_sequence no longer tracks either table.
func TestSQLiteUpgradeDropsAutoincrementKeepingRows(t *testing.T) {
	ctx := context.Background()
	db, err := store.Connect("sqlite://" + filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, err := migrations.For("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	before := migrate.NewMigrations()
	for _, m := range all.Sorted() {
		if m.Name < "0202" {
			before.Add(m)
		}
	}
	old := migrate.NewMigrator(store.Bun(db), before, migrate.WithMarkAppliedOnSuccess(true))
	if err := old.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := store.Bun(db).ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const ts = "2024-01-01 00:00:00+00:00"
	exec("INSERT INTO events (id, type, payload, created_at) VALUES ('a', 'NewOrder', '{}', ?), ('b', 'OrderPaid', '{}', ?), ('c', 'OrderPaid', '{}', ?)", ts, ts, ts)
	exec(`INSERT INTO orders (order_id, customer_id, total_price, currency, created_at, updated_at, status, status_changed_at)
VALUES ('o1', 'c1', 100, 'XTR', ?, ?, 'Paid', ?)`, ts, ts, ts)
	exec("INSERT INTO settlement_journal (id, created_at, order_id, payment_address, account, settlement_type, amount) VALUES (7, ?, 'o1', 'addr', 'acct', 'single', 100)", ts)

	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	if err := db.NewRaw("SELECT seq FROM events ORDER BY seq").Scan(ctx, &seqs); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 3 || seqs[0] != 1 || seqs[2] != 3 {
		t.Fatalf("events after the upgrade: seqs %v", seqs)
	}
	res, err := store.Bun(db).ExecContext(ctx, "INSERT INTO events (id, type, payload, created_at) VALUES ('d', 'NewOrder', '{}', ?)", ts)
	if err != nil {
		t.Fatal(err)
	}
	if seq, _ := res.LastInsertId(); seq != 4 {
		t.Fatalf("next event seq = %d, want 4", seq)
	}
	res, err = store.Bun(db).ExecContext(ctx, "INSERT INTO settlement_journal (created_at, order_id, payment_address, account, settlement_type, amount) VALUES (?, 'o1', 'addr', 'acct', 'single', 0)", ts)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := res.LastInsertId(); id != 8 {
		t.Fatalf("next settlement id = %d, want 8", id)
	}
	for _, q := range []string{"DELETE FROM events WHERE seq = 4", "DELETE FROM settlement_journal WHERE id = 8"} {
		if _, err := store.Bun(db).ExecContext(ctx, q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	var tracked int
	if err := db.NewRaw("SELECT COUNT(*) FROM sqlite_sequence WHERE name IN ('events', 'settlement_journal')").Scan(ctx, &tracked); err != nil || tracked != 0 {
		t.Fatalf("sqlite_sequence rows for events/settlement_journal: %d (%v)", tracked, err)
	}
	// The journal's foreign key to orders survived the rebuild.
	if _, err := store.Bun(db).ExecContext(ctx, "INSERT INTO settlement_journal (created_at, order_id, payment_address, account, settlement_type, amount) VALUES (?, 'nope', 'a', 'b', 'single', 1)", ts); err == nil {
		t.Error("settlement for an unknown order accepted")
	}
}
