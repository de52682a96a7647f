package load

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/store/storetest"
)

// TestSmoke is the CI version of `taritools bench --spawn`: it builds and
// starts the real server on a fresh database (SQLite, and PostgreSQL when
// TPG_TEST_POSTGRES_URL is set), runs every phase for about a second at low
// concurrency, and asserts that flows completed, nothing failed and the
// sampled orders read back Paid.
func TestSmoke(t *testing.T) {
	root := FindRoot()
	if root == "" {
		t.Fatal("not in the checkout")
	}
	fx, err := os.ReadFile(FixturePath(root))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildServer(t, root)
	dbs := map[string]string{"sqlite": ""}
	if pg := os.Getenv(storetest.PostgresEnv); pg != "" {
		dbs["postgres"] = pg
	}
	for name, pg := range dbs {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			dir := t.TempDir()
			sp, err := Spawn(ctx, SpawnOptions{Root: root, ServerBin: bin, Postgres: pg, Dir: dir, NoPlugins: true})
			if err != nil {
				t.Fatal(err)
			}
			defer sp.Stop()
			rep, err := Bench(ctx, BenchConfig{Target: sp.Target, Fixture: fx, Clients: 2, Duration: time.Second, Dir: dir, Sample: 10, BaselinePostgres: pgBaseline(name, sp.DBURL)})
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			rep.Print(&out)
			t.Log("\n" + out.String())
			if rep.Errors() != 0 {
				t.Fatalf("%d errors (first: %s %s %s %s)", rep.Errors(), rep.Webhooks.FirstError, rep.FlowsMax.FirstError, rep.Paced.FirstError, rep.VerifyError)
			}
			if rep.Webhooks.Requests == 0 || rep.FlowsMax.Flows == 0 || rep.Paced.Flows == 0 || rep.Baseline.Requests == 0 {
				t.Fatal("a phase did no work")
			}
			if rep.BaselineDB != name {
				t.Fatalf("baseline on %s, want %s (the server's database family)", rep.BaselineDB, name)
			}
			if rep.Checked == 0 || rep.Verified != rep.Checked {
				t.Fatalf("verified %d of %d: %s", rep.Verified, rep.Checked, rep.VerifyError)
			}
			if _, err := json.Marshal(rep); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// buildServer builds the server binary, with the race detector when the
// test has it (the race-instrumented packages are then already in the build
// cache, so only the link is new).
func buildServer(t *testing.T, root string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "tari-payment-server")
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	cmd := exec.Command(goBin, append(args, "./cmd/tari-payment-server")...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the server: %v\n%s", err, b)
	}
	return out
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct{ q, want float64 }{{0.5, 500}, {0.99, 990}, {1, 1000}} {
		if got := h.quantile(c.q); got < c.want || got > c.want*1.04 {
			t.Errorf("q%.2f = %.1f ms, want ≈ %.0f", c.q, got, c.want)
		}
	}
	var small histogram
	small.add(30 * time.Microsecond)
	if got := small.quantile(0.99); got != 0.031 {
		t.Errorf("30 µs → %.3f ms", got)
	}
	// Buckets are contiguous and increasing.
	for i := 1; i < 2048; i++ {
		if bucketValue(i) <= bucketValue(i-1) || bucket(bucketValue(i)) != i {
			t.Fatalf("bucket %d: value %d maps to %d", i, bucketValue(i), bucket(bucketValue(i)))
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:8360": true, "http://localhost:1": true, "http://[::1]:80": true,
		"http://10.0.0.1:8360": false, "https://example.com": false, "127.0.0.1:80": false,
	} {
		if IsLoopback(u) != want {
			t.Errorf("%s: %v", u, !want)
		}
	}
	if _, err := NewClient([]string{"http://192.168.1.1"}, 1); err == nil {
		t.Error("non-loopback server accepted")
	}
}

func TestOrderBodyKeepsFixtureShape(t *testing.T) {
	fx, err := os.ReadFile(FixturePath(FindRoot()))
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{}
	if r.tmpl, err = template(fx); err != nil {
		t.Fatal(err)
	}
	var orig, got map[string]any
	_ = json.Unmarshal(fx, &orig)
	memo := `{"address":"x","order_id":"123","signature":"ab"}`
	if err := json.Unmarshal(r.orderBody("123", "456", memo), &got); err != nil {
		t.Fatal(err)
	}
	if got["id"] != float64(123) || got["name"] != "#123" || got["note"] != memo || got["customer"].(map[string]any)["id"] != float64(456) {
		t.Fatalf("id %v name %v note %v customer %v", got["id"], got["name"], got["note"], got["customer"])
	}
	if got["total_price"] != orig["total_price"] || len(got) != len(orig) || got["line_items"] == nil {
		t.Fatal("fixture fields lost")
	}
	_ = json.Unmarshal(r.orderBody("124", "456", ""), &got)
	if got["note"] != nil {
		t.Fatalf("note %v", got["note"])
	}
}

// pgBaseline is the baseline's PostgreSQL database: the server's, on PostgreSQL.
func pgBaseline(name, dbURL string) string {
	if name == "postgres" {
		return dbURL
	}
	return ""
}
