package plugins

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/tari-payment/tps/internal/wasmbuild"
)

// BenchmarkDispatchC is BenchmarkDispatch's "instrumented/plugin" case for a
// plugin written in C (plugins/testdata/hostile-c in mode decode: read the
// OrderPaid's order id and total with sdk/c's JSON helpers, acknowledge).
// It runs the committed module, which TestCModulesAreInstrumented and the
// other C tests check against its source.
func BenchmarkDispatchC(b *testing.B) {
	code, err := os.ReadFile(filepath.Join(wasmbuild.RepoRoot(), "plugins", "testdata", "hostile-c", "plugin.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	m := &Manifest{ID: "bench", Version: "1", ABI: 1, Events: []string{"*"}, Limits: Limits{MemoryPages: 16}}
	if err := m.validate(); err != nil {
		b.Fatal(err)
	}
	p := &plugin{m: m, log: slog.New(slog.NewTextHandler(io.Discard, nil)), timeout: 10 * time.Second, client: http.DefaultClient,
		config: func(k string) (string, bool) { return "decode", k == "MODE" }}
	ctx := context.Background()
	if err := p.compile(ctx, code, wazero.NewCompilationCache()); err != nil {
		b.Fatal(err)
	}
	defer p.close()
	if p.mode != terminateInstrumented {
		b.Fatalf("the C plugin runs in mode %d, not instrumented", p.mode)
	}
	ev := benchEvent()
	for b.Loop() {
		if err := p.Deliver(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
