package plugins

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/internal/wasmbuild"
)

var internalModules sync.Map // package dir → *internalModule

type internalModule struct {
	once sync.Once
	code []byte
	err  error
}

// moduleOnce builds a test plugin package (e.g. plugins/testdata/counter)
// once per test binary and returns its bytes (a Go wasm build takes seconds).
func moduleOnce(t testing.TB, pkg string) []byte {
	t.Helper()
	v, _ := internalModules.LoadOrStore(pkg, &internalModule{})
	m := v.(*internalModule)
	m.once.Do(func() {
		dir, err := os.MkdirTemp("", "tps-module-")
		if err != nil {
			m.err = err
			return
		}
		defer os.RemoveAll(dir)
		root := wasmbuild.RepoRoot()
		out := filepath.Join(dir, "module.wasm")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if m.err = wasmbuild.Build(ctx, root, filepath.Join(root, pkg), out); m.err == nil {
			m.code, m.err = os.ReadFile(out)
		}
	})
	if m.err != nil {
		t.Fatal(m.err)
	}
	return m.code
}

// counterModule is plugins/testdata/counter, built once per test binary.
func counterModule(t testing.TB) []byte { return moduleOnce(t, "plugins/testdata/counter") }

// statePlugin loads the counter plugin with its state in db.
func statePlugin(t testing.TB, db *store.DB, id string, quota int64, cfg map[string]string) *plugin {
	t.Helper()
	m := &Manifest{ID: id, Version: "1", ABI: 1, Events: []string{"*"}}
	if err := m.validate(); err != nil {
		t.Fatal(err)
	}
	p := &plugin{m: m, log: slog.New(slog.NewTextHandler(io.Discard, nil)), timeout: 10 * time.Second, client: http.DefaultClient,
		config: func(k string) (string, bool) { v, ok := cfg[k]; return v, ok },
		state:  &stateStore{db: db, pluginID: id, quota: quota}}
	ctx := context.Background()
	cache := wazero.NewCompilationCache()
	t.Cleanup(func() { cache.Close(ctx) })
	if err := p.compile(ctx, counterModule(t), cache); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	return p
}

func stateEvent(n int) core.Event {
	return core.Event{Seq: int64(n), ID: "ev-" + string(rune('a'+n)), Type: core.EventOrderPaid,
		CreatedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Payload: []byte(`{}`)}
}

// commit runs an ack as the outbox would, in a transaction of its own.
func commit(t testing.TB, db *store.DB, ack outbox.Ack) {
	t.Helper()
	if ack == nil {
		t.Fatal("handler wrote state but returned no ack")
	}
	if err := db.WriteTx(context.Background(), func(stx *store.Tx) error { ctx, tx := stx.Context(), stx.IDB(); return ack(ctx, tx) }, store.NoEvents); err != nil {
		t.Fatal(err)
	}
}

func stored(t testing.TB, db *store.DB, id string) map[string]string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT key, value FROM plugin_state WHERE plugin_id = ?`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[string(k)] = string(v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Writes are buffered during the call and handed back as the ack; an event
// handled again after its ack was lost (the process died before the
// acknowledging transaction) counts once, since its first writes never
// committed. Reads see the call's own writes.
func TestStateCommitsOnlyWithTheAck(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := statePlugin(t, db, "counter", 1<<20, map[string]string{"MODE": "check"})
		ack, err := p.DeliverAck(ctx, stateEvent(1))
		if err != nil {
			t.Fatal(err)
		}
		if got := stored(t, db, "counter"); len(got) != 0 {
			t.Fatalf("state written before the ack committed: %v", got)
		}
		commit(t, db, ack)
		// Delivered again, its first ack lost: the count moves once.
		if _, err := p.DeliverAck(ctx, stateEvent(2)); err != nil {
			t.Fatal(err)
		}
		ack, err = p.DeliverAck(ctx, stateEvent(2))
		if err != nil {
			t.Fatal(err)
		}
		commit(t, db, ack)
		want := map[string]string{"count": "2", "seen/" + stateEvent(1).ID: "OrderPaid", "seen/" + stateEvent(2).ID: "OrderPaid"}
		if got := stored(t, db, "counter"); !equalMaps(got, want) {
			t.Fatalf("state = %v, want %v", got, want)
		}
		// Another plugin's state is its own.
		other := statePlugin(t, db, "other", 1<<20, nil)
		ack, err = other.DeliverAck(ctx, stateEvent(3))
		if err != nil {
			t.Fatal(err)
		}
		commit(t, db, ack)
		if got := stored(t, db, "other"); got["count"] != "1" {
			t.Fatalf("other plugin's count = %v", got)
		}
	})
}

// A handler that writes and then fails, or crashes, leaves nothing.
func TestStateDroppedWhenTheHandlerFails(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, mode := range []string{"fail", "crash"} {
			p := statePlugin(t, db, "counter-"+mode, 1<<20, map[string]string{"MODE": mode})
			ack, err := p.DeliverAck(ctx, stateEvent(1))
			if err == nil || ack != nil {
				t.Fatalf("%s: err %v, ack %v", mode, err, ack != nil)
			}
			if mode == "crash" && !strings.Contains(err.Error(), "exited with code 3") {
				t.Fatalf("crash: %v", err)
			}
			if got := stored(t, db, "counter-"+mode); len(got) != 0 {
				t.Fatalf("%s left state %v", mode, got)
			}
		}
	})
}

// Size limits and the quota are refused with a message that says which;
// nothing of the refused call is stored.
func TestStateLimits(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, c := range []struct {
			cfg   map[string]string
			quota int64
			want  string
		}{
			{map[string]string{"MODE": "big", "SIZE": "65537"}, 1 << 20, "value of 65537 bytes is over the 65536-byte limit"},
			{map[string]string{"MODE": "longkey"}, 1 << 20, "key of 300 bytes is over the 256-byte limit"},
			{map[string]string{"MODE": "big", "SIZE": "2000"}, 1024, "state: quota exceeded: 2027 bytes would be stored, plugin q may keep 1024 (TPG_PLUGIN_STATE_QUOTA_KB)"},
		} {
			p := statePlugin(t, db, "q", c.quota, c.cfg)
			_, err := p.DeliverAck(ctx, stateEvent(1))
			if err == nil || !strings.Contains(err.Error(), c.want) || !outbox.IsPermanent(err) {
				t.Fatalf("%v: err = %v, want %q", c.cfg, err, c.want)
			}
			if got := stored(t, db, "q"); len(got) != 0 {
				t.Fatalf("%v left state %v", c.cfg, got)
			}
		}
		// Just under the quota is fine.
		p := statePlugin(t, db, "q", 2027, map[string]string{"MODE": "big", "SIZE": "2000"})
		ack, err := p.DeliverAck(ctx, stateEvent(1))
		if err != nil {
			t.Fatal(err)
		}
		commit(t, db, ack)
		if got := stored(t, db, "q"); len(got["big"]) != 2000 {
			t.Fatalf("big value not stored: %d bytes", len(got["big"]))
		}
	})
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// BenchmarkStateHostCalls measures a key-value read and write inside a warm
// handler: "rw" (StateAdd: state_get + state_set) against "noop" (the same
// event, no state calls); the difference is what the host calls cost. "commit"
// adds the ack's transaction, which the outbox runs anyway to acknowledge.
// Warm: the committed state is cached under the lease hold.
func BenchmarkStateHostCalls(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var db *store.DB
			if kind == "sqlite" {
				db = storetest.SQLite(b)
			} else {
				db = storetest.Postgres(b)
			}
			// Under a lease hold, as the dispatcher delivers.
			ctx := outbox.WithLeaseEpoch(context.Background(), 1)
			ev := stateEvent(1)
			for _, mode := range []string{"noop", "rw"} {
				p := statePlugin(b, db, "bench-"+mode, 1<<20, map[string]string{"MODE": mode})
				b.Run(mode, func(b *testing.B) {
					for b.Loop() {
						if _, err := p.DeliverAck(ctx, ev); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			p := statePlugin(b, db, "bench-commit", 1<<20, map[string]string{"MODE": "rw"})
			b.Run("rw+commit", func(b *testing.B) {
				for b.Loop() {
					ack, err := p.DeliverAck(ctx, ev)
					if err != nil {
						b.Fatal(err)
					}
					commit(b, db, ack)
				}
			})
		})
	}
}

// Under one lease hold the committed state is cached (warm reads skip the
// database); a new hold (another instance may have delivered meanwhile)
// reads the database again.
func TestStateCacheFollowsTheLeaseHold(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := statePlugin(t, db, "cached", 1<<20, map[string]string{"MODE": "rw"})
		deliver := func(epoch uint64) {
			t.Helper()
			ack, err := p.DeliverAck(outbox.WithLeaseEpoch(ctx, epoch), stateEvent(1))
			if err != nil {
				t.Fatal(err)
			}
			commit(t, db, ack)
		}
		deliver(1)
		deliver(1)
		// Another instance, holding the lease meanwhile, moved the count on.
		if _, err := db.ExecContext(ctx, `UPDATE plugin_state SET value = ? WHERE plugin_id = 'cached' AND key = ?`, []byte("10"), []byte("count")); err != nil {
			t.Fatal(err)
		}
		deliver(1) // same hold: the cache is trusted (the case above cannot happen under one hold)
		if got := stored(t, db, "cached")["count"]; got != "3" {
			t.Fatalf("count under one hold = %s, want 3 (cached)", got)
		}
		if _, err := db.ExecContext(ctx, `UPDATE plugin_state SET value = ? WHERE plugin_id = 'cached' AND key = ?`, []byte("10"), []byte("count")); err != nil {
			t.Fatal(err)
		}
		deliver(2) // a new hold reads the database
		if got := stored(t, db, "cached")["count"]; got != "11" {
			t.Fatalf("count after a new hold = %s, want 11", got)
		}
	})
}

// BenchmarkStateHostSide is the host's share of one warm read and write
// (begin, get, set, building the ack), without the guest: the per-event
// figure above is dominated by the noise of a shared machine.
func BenchmarkStateHostSide(b *testing.B) {
	db := storetest.SQLite(b)
	st := &stateStore{db: db, pluginID: "bench", quota: 1 << 20}
	ctx := outbox.WithLeaseEpoch(context.Background(), 1)
	for b.Loop() {
		c := st.begin(ctx)
		v, _, err := c.get("count")
		if err != nil {
			b.Fatal(err)
		}
		if err := c.set("count", append(v[:len(v):len(v)], '1')[:1]); err != nil {
			b.Fatal(err)
		}
		if c.ack() == nil {
			b.Fatal("no ack")
		}
	}
}
