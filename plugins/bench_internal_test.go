package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/tari-payment/tps/internal/wasmbuild"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/sdk"
)

func benchEvent() core.Event {
	s := func(v string) *string { return &v }
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	payload, _ := json.Marshal(core.OrderEvent{Order: core.Order{ID: 7, OrderID: "5621189509332", AltID: s("#1001"), CustomerID: "42",
		TotalPrice: 15_900_000, OriginalPrice: s("15.90"), Currency: "USD", CreatedAt: now, UpdatedAt: now, Status: core.OrderPaid,
		AmountOutstanding: s("15.90")}})
	return core.Event{Seq: 1, ID: "2b8a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", Type: core.EventOrderPaid, CreatedAt: now, Payload: payload}
}

// BenchmarkDispatch compares one event delivered to a warm plugin (host →
// guest → typed decode in the guest → result) with a direct Go function doing
// the same JSON decoding natively, in the same run. The plugin runs under each
// way of enforcing the deadline: "instrumented" (the rewritten module, what
// the server runs), "guarded" (wazero's WithCloseOnContextDone, the fallback)
// and "unguarded" (no enforcement at all: for comparison only).
func BenchmarkDispatch(b *testing.B) {
	for _, mode := range []struct {
		name string
		t    termination
	}{{"instrumented", terminateInstrumented}, {"guarded", terminateGuarded}, {"unguarded", terminateNone}} {
		b.Run(mode.name, func(b *testing.B) { benchDispatch(b, mode.t) })
	}
	b.Run("go-direct", func(b *testing.B) {
		doc := eventDoc(benchEvent())
		for b.Loop() {
			if err := directDecode(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

var benchWasm struct {
	path string
	err  error
}

func benchDispatch(b *testing.B, mode termination) {
	ensureTermination = mode
	defer func() { ensureTermination = terminateInstrumented }()
	if benchWasm.path == "" && benchWasm.err == nil {
		root := wasmbuild.RepoRoot()
		benchWasm.path = filepath.Join(os.TempDir(), "tps-bench-hostile.wasm")
		benchWasm.err = wasmbuild.Build(context.Background(), root, filepath.Join(root, "plugins/testdata/hostile"), benchWasm.path)
	}
	if benchWasm.err != nil {
		b.Fatal(benchWasm.err)
	}
	code, err := os.ReadFile(benchWasm.path)
	if err != nil {
		b.Fatal(err)
	}
	m := &Manifest{ID: "bench", Version: "1", ABI: 1, Events: []string{"*"}}
	if err := m.validate(); err != nil {
		b.Fatal(err)
	}
	p := &plugin{m: m, log: slog.New(slog.NewTextHandler(io.Discard, nil)), timeout: 10 * time.Second, client: http.DefaultClient,
		config: func(k string) (string, bool) { return "decode", k == "MODE" }}
	ctx := context.Background()
	cache := wazero.NewCompilationCache()
	if err := p.compile(ctx, code, cache); err != nil {
		b.Fatal(err)
	}
	defer p.close()
	if p.mode != mode {
		b.Fatalf("plugin runs in mode %d, want %d (module not instrumented?)", p.mode, mode)
	}
	ev := benchEvent()
	b.Run("plugin", func(b *testing.B) {
		for b.Loop() {
			if err := p.Deliver(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	small := core.Event{ID: "1", Type: core.EventOrderPaid, CreatedAt: ev.CreatedAt, Payload: []byte(`{"order":{"order_id":"1"}}`)}
	b.Run("plugin-small-event", func(b *testing.B) {
		for b.Loop() {
			if err := p.Deliver(ctx, small); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// directDecode is what the SDK does inside the guest, run natively.
func directDecode(doc []byte) error {
	var ev struct {
		ID        string         `json:"id"`
		Type      string         `json:"type"`
		CreatedAt time.Time      `json:"created_at"`
		Data      sdk.OrderEvent `json:"data"`
	}
	if err := json.Unmarshal(doc, &ev); err != nil {
		return err
	}
	if ev.Data.Order.OrderID == "" {
		return errors.New("no order id")
	}
	return nil
}
