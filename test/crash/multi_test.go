package crash

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// expiryLockKey is core/engine's PostgreSQL advisory lock for expiry
// (pg_try_advisory_xact_lock(7302, store.LockScope)); the probe below asserts that every
// expiring transaction holds it.
const expiryLockKey = 7302

// The probe is test instrumentation on the test's own schema: every order
// moved to Expired records which instance's connection did it
// (application_name), in which transaction, when, and whether that
// transaction held the expiry lock. It is the database-side record of who
// ran expiry.
var probeSQL = []string{
	`CREATE TABLE crash_expiry_probe (app TEXT, pid INT, xid BIGINT, at TIMESTAMPTZ, held BOOLEAN, order_id TEXT)`,
	fmt.Sprintf(`CREATE FUNCTION crash_expiry_probe_fn() RETURNS trigger AS $$ BEGIN
  INSERT INTO crash_expiry_probe VALUES (current_setting('application_name'), pg_backend_pid(), txid_current(), clock_timestamp(),
    EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND classid = %d AND objid = %s::oid AND objsubid = 2),
    NEW.order_id);
  RETURN NEW;
END $$ LANGUAGE plpgsql`, expiryLockKey, store.LockScope),
	`CREATE TRIGGER crash_expiry_probe AFTER UPDATE ON orders FOR EACH ROW
  WHEN (NEW.status = 'Expired' AND OLD.status <> 'Expired') EXECUTE FUNCTION crash_expiry_probe_fn()`,
}

// TestSeveralInstances runs three server processes on one PostgreSQL
// database with the load spread over them (one of them SIGKILLed and
// restarted halfway), then makes the crash test's checks, plus: expiry ran
// only inside the expiry lock and never in two instances at once, every
// expired order was annulled once, and the webhook never had two deliveries
// in flight at the same time (one lease holder delivers the stream).
func TestSeveralInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dur := envDuration(t, "TPG_MULTI_DURATION", 8*time.Second)
	url := storetest.PostgresURL(t) // skips without TPG_TEST_POSTGRES_URL
	t.Parallel()
	r := newRig(t, url, rigOptions{
		instances: 3, hotWallets: 4, appNames: true,
		env: map[string]string{"TPG_UNCLAIMED_ORDER_TIMEOUT": "2s", "TPG_EXPIRY_CHECK_INTERVAL": "200ms"},
		setupDB: func(db *store.DB) {
			for _, q := range probeSQL {
				if _, err := db.ExecContext(context.Background(), q); err != nil {
					t.Fatal(err)
				}
			}
		},
	})
	for _, p := range r.procs {
		p.start(t)
	}
	r.login()
	stop := r.load("paid", "unclaimed", "cancel", "paid", "credit", "unclaimed")
	time.Sleep(dur / 2)
	victim := r.procs[rand.IntN(len(r.procs))]
	victim.kill()
	time.Sleep(300 * time.Millisecond)
	victim.start(t)
	time.Sleep(dur / 2)
	stop()

	db, err := store.Connect(r.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	// The last unclaimed orders reach their timeout and the expiry check
	// annuls them: wait until none is left unclaimed.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var unclaimed int
		if err := db.NewRaw("SELECT COUNT(*) FROM orders WHERE status = ?", string(core.OrderUnclaimed)).Scan(ctx, &unclaimed); err != nil {
			t.Fatal(err)
		}
		if unclaimed == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d orders still unclaimed 30 s after the load stopped (timeout 2s)", unclaimed)
		}
		time.Sleep(100 * time.Millisecond)
	}
	summary := r.verify(db)

	// Expiry: inside the lock, one transaction at a time.
	var rows []struct {
		App     string    `bun:"app"`
		Xid     int64     `bun:"xid"`
		At      time.Time `bun:"at"`
		Held    bool      `bun:"held"`
		OrderID string    `bun:"order_id"`
	}
	if err := db.NewRaw("SELECT app, xid, at, held, order_id FROM crash_expiry_probe ORDER BY at").Scan(ctx, &rows); err != nil && !errors.Is(err, store.ErrNoRows) {
		t.Fatal(err)
	}
	type run struct {
		app         string
		first, last time.Time
		n           int
	}
	runs := map[int64]*run{}
	apps := map[string]int{}
	for _, x := range rows {
		if !x.Held {
			t.Errorf("order %s expired by %s in transaction %d without the expiry lock", x.OrderID, x.App, x.Xid)
		}
		rn := runs[x.Xid]
		if rn == nil {
			rn = &run{app: x.App, first: x.At}
			runs[x.Xid] = rn
			apps[x.App]++
		}
		rn.last, rn.n = x.At, rn.n+1
	}
	list := make([]*run, 0, len(runs))
	for _, rn := range runs {
		list = append(list, rn)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].first.Before(list[j].first) })
	for i := 1; i < len(list); i++ {
		if !list[i].first.After(list[i-1].last) {
			t.Errorf("expiry runs overlap: %s [%v, %v] and %s [%v, %v]", list[i-1].app, list[i-1].first, list[i-1].last, list[i].app, list[i].first, list[i].last)
		}
	}
	if len(rows) == 0 {
		t.Error("no order expired: the expiry check saw nothing")
	}
	var expired []string
	if err := db.NewRaw("SELECT order_id FROM orders WHERE status = 'Expired'").Scan(ctx, &expired); err != nil && !errors.Is(err, store.ErrNoRows) {
		t.Fatal(err)
	}
	if len(expired) != len(rows) {
		t.Errorf("%d expired orders, %d expiry records", len(expired), len(rows))
	}

	// Deliveries: one lease holder at a time, so never two in flight.
	r.rcv.mu.Lock()
	maxActive := r.rcv.maxActive
	r.rcv.mu.Unlock()
	if maxActive > 1 {
		t.Errorf("%d webhook deliveries were in flight at once: two instances delivered concurrently", maxActive)
	}

	// What the instances' own metrics say about expiry (engineer B's
	// tps_expiry_runs_total), when the server exposes them.
	var metrics []string
	for _, p := range r.procs {
		st, b, err := r.call(ctx, p.base(), "GET", "/metrics", nil, nil)
		if err != nil || st != 200 {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		var vals []string
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "tps_expiry_runs_total{") {
				vals = append(vals, strings.TrimPrefix(l, "tps_expiry_runs_total"))
			}
		}
		metrics = append(metrics, p.name+" "+strings.Join(vals, " "))
	}
	for _, p := range r.procs {
		p.stop()
	}
	t.Logf("3 instances on PostgreSQL (%s killed and restarted halfway): %s; expiry: %d orders in %d transactions by %d instances %v, none overlapping, all under the lock; max concurrent webhook deliveries %d; metrics since last start: %v",
		victim.name, summary, len(rows), len(runs), len(apps), apps, maxActive, metrics)
}

// The probe itself tells an expiry inside the lock from one outside it, so
// TestSeveralInstances would notice an instance expiring without the lock.
func TestExpiryProbe(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range probeSQL {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	for _, id := range []string{"a", "b"} {
		if _, err := db.ExecContext(context.Background(), `INSERT INTO orders (order_id, customer_id, total_price, currency, created_at, updated_at, status, status_changed_at)
			VALUES (?, 'c', 1, 'XTR', ?, ?, 'Unclaimed', ?)`, id, now, now, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(context.Background(), "UPDATE orders SET status = 'Expired' WHERE order_id = 'a'"); err != nil {
		t.Fatal(err)
	}
	if err := db.WriteTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.IDB().ExecContext(tx.Context(), "SELECT pg_advisory_xact_lock(?, "+store.LockScope+")", expiryLockKey); err != nil {
			return err
		}
		_, err := tx.IDB().ExecContext(tx.Context(), "UPDATE orders SET status = 'Expired' WHERE order_id = 'b'")
		return err
	}, store.NoEvents); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		OrderID string `bun:"order_id"`
		Held    bool   `bun:"held"`
	}
	if err := db.NewRaw("SELECT order_id, held FROM crash_expiry_probe ORDER BY order_id").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Held || !rows[1].Held {
		t.Fatalf("probe rows %+v, want a without the lock and b with it", rows)
	}
}
