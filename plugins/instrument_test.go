package plugins_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/tari-payment/tps/plugins"
)

// Every module this repository ships or builds (the default plugins, the
// examples, the hostile test plugin) is rewritten with the cheap interrupt,
// so none of them falls back to wazero's slower guarded mode, and the result
// still compiles.
func TestShippedModulesAreInstrumented(t *testing.T) {
	pkgs := []string{"plugins/defaults/shopify", "plugins/defaults/webhook", "plugins/testdata/hostile", "examples/email", "examples/dashboard"}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	for _, pkg := range pkgs {
		wasm, err := os.ReadFile(buildOnce(t, pkg))
		if err != nil {
			t.Fatal(err)
		}
		out, err := plugins.InstrumentModule(wasm)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		if !bytes.Contains(out, []byte("tari_interrupt")) || len(out) <= len(wasm) {
			t.Fatalf("%s: not instrumented (%d → %d bytes)", pkg, len(wasm), len(out))
		}
		if _, err := rt.CompileModule(ctx, out); err != nil {
			t.Fatalf("%s: the rewritten module does not compile: %v", pkg, err)
		}
		t.Logf("%s: %d → %d bytes (+%.1f%%)", pkg, len(wasm), len(out), 100*float64(len(out)-len(wasm))/float64(len(wasm)))
	}
}

// BenchmarkInstrument is the load-time cost of the rewrite for a shipped
// plugin (paid at every start, warm compilation cache or not: the cache is
// keyed on the rewritten bytes).
func BenchmarkInstrument(b *testing.B) {
	wasm, err := os.ReadFile(buildOnce(b, "plugins/defaults/webhook"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(wasm)))
	for b.Loop() {
		if _, err := plugins.InstrumentModule(wasm); err != nil {
			b.Fatal(err)
		}
	}
}
