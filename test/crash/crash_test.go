package crash

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

// TestCrashSafety runs the full flow under concurrent load against a server
// process, SIGKILLs it at random points TPG_CRASH_ROUNDS times (default 3,
// each round lasting up to TPG_CRASH_ROUND_MAX, default 3s), restarting it
// each time on the same database, then checks that every acknowledged order
// and payment exists (database and API), the engine.md §7.3 invariants hold and every
// committed event reached the webhook plugin at least once, none invented.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	rounds := envInt(t, "TPG_CRASH_ROUNDS", 3)
	roundMax := envDuration(t, "TPG_CRASH_ROUND_MAX", 3*time.Second)
	dbs := map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL}
	if os.Getenv(storetest.PostgresEnv) != "" {
		dbs["postgres"] = storetest.PostgresURL
	}
	for name, mk := range dbs {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // most of the run is waiting for a dead instance's lease to lapse
			// Short timeouts so expiry runs (and is killed) during the rounds too.
			r := newRig(t, mk(t), rigOptions{instances: 1, hotWallets: 4,
				env: map[string]string{"TPG_UNCLAIMED_ORDER_TIMEOUT": "2s", "TPG_EXPIRY_CHECK_INTERVAL": "300ms"}})
			p := r.procs[0]
			p.start(t)
			r.login()
			stop := r.load("paid", "unclaimed", "cancel", "paid", "credit")
			var kills []time.Duration
			for round := 1; round <= rounds; round++ {
				d := roundMax/4 + rand.N(roundMax*3/4)
				time.Sleep(d)
				p.kill()
				kills = append(kills, d.Round(time.Millisecond))
				// Down for a moment: clients see refused connections and retry.
				time.Sleep(rand.N(300 * time.Millisecond))
				p.start(t)
			}
			// Let the last instance serve a little, then stop the load.
			time.Sleep(roundMax / 2)
			stop()

			db, err := store.Connect(r.dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			summary := r.verify(db)
			p.stop()
			// Also after a graceful stop and one more restart nothing changes.
			bad, err := invariantsAfterRestart(r, db)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bad {
				t.Error(b)
			}
			if !t.Failed() {
				t.Logf("crash (%s): %d of %d SIGKILL rounds survived with zero loss (killed after %v); %s", name, rounds, rounds, kills, summary)
			} else {
				t.Logf("crash (%s): FAILED after %d rounds (killed after %v); %s", name, rounds, kills, summary)
			}
		})
	}
}

// invariantsAfterRestart starts the server once more (migrations and
// plugin registration on a crashed-and-recovered database) and rechecks.
func invariantsAfterRestart(r *rig, db *store.DB) ([]string, error) {
	p := r.procs[0]
	p.start(r.t)
	defer p.stop()
	st, _, err := r.call(context.Background(), p.base(), "GET", "/health", nil, nil)
	if err != nil || st != 200 {
		r.t.Errorf("health after restart: %d %v", st, err)
	}
	return dbcheckInvariants(db)
}
