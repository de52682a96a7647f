package plugins

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// wasmModule assembles a binary module from (id, body) sections.
func wasmModule(sections ...[]byte) []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range sections {
		out = append(out, s[0])
		out = append(out, uleb(uint64(len(s)-1))...)
		out = append(out, s[1:]...)
	}
	return out
}

func sec(id byte, parts ...[]byte) []byte {
	b := []byte{id}
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func vec(items ...[]byte) []byte {
	b := uleb(uint64(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func str(s string) []byte { return append(uleb(uint64(len(s))), s...) }

// body is one code-section entry: size, then locals and instructions.
func body(code ...[]byte) []byte {
	b := bytes.Join(code, nil)
	return append(uleb(uint64(len(b))), b...)
}

func f32(v float32) []byte {
	return binary.LittleEndian.AppendUint32([]byte{0x43}, math.Float32bits(v))
}

const bigConst = -1234567890123 // a 6-byte signed LEB

// testModule exercises every kind of immediate the rewriter must skip:
//
//	spin(): nested loops, no calls, never returns
//	sum(n): a loop with br_table, call_indirect, memory.fill/copy,
//	        i32.trunc_sat_f32_s, a load; returns Σ even i + Σ (odd i + 7) + 2 + 171
//	seven(x): x + 7 (called through the table)
//	big(): i64.const with a multi-byte LEB, select t*, sign extension, refs
func testModule(extra ...[]byte) []byte {
	code := [][]byte{
		// spin
		body([]byte{0x00, 0x03, 0x40, 0x03, 0x40, 0x0C, 0x00, 0x0B, 0x0C, 0x00, 0x0B, 0x0B}),
		// sum(n): n is local 0; locals acc (1), i (2)
		body([]byte{0x01, 0x02, 0x7F},
			[]byte{0x02, 0x40, 0x03, 0x40},                               // block $done, loop $top
			[]byte{0x20, 0x02, 0x20, 0x00, 0x4E, 0x0D, 0x01},             // i >= n → br_if $done
			[]byte{0x02, 0x40, 0x02, 0x40, 0x02, 0x40},                   // block $next, block $odd, block $even
			[]byte{0x20, 0x02, 0x41, 0x01, 0x71, 0x0E, 0x01, 0x00, 0x01}, // br_table [$even] $odd
			[]byte{0x0B}, // end $even
			[]byte{0x20, 0x01, 0x20, 0x02, 0x6A, 0x21, 0x01}, // acc += i
			[]byte{0x0C, 0x01}, // br $next
			[]byte{0x0B},       // end $odd
			[]byte{0x20, 0x01, 0x20, 0x02, 0x41, 0x00, 0x11, 0x01, 0x00, 0x6A, 0x21, 0x01}, // acc += seven(i) via the table
			[]byte{0x0B}, // end $next
			[]byte{0x20, 0x02, 0x41, 0x01, 0x6A, 0x21, 0x02, 0x0C, 0x00}, // i++, br $top
			[]byte{0x0B, 0x0B}, // end loop, end block
			[]byte{0x41, 0x00, 0x41, 0xAB, 0x01, 0x41, 0x10, 0xFC, 0x0B, 0x00}, // memory.fill 0 0xAB 16
			[]byte{0x41, 0x20, 0x41, 0x00, 0x41, 0x10, 0xFC, 0x0A, 0x00, 0x00}, // memory.copy 32 0 16
			[]byte{0x20, 0x01}, f32(2.9), []byte{0xFC, 0x00, 0x6A}, // acc + trunc_sat(2.9)
			[]byte{0x41, 0x20, 0x2D, 0x00, 0x00, 0x6A}, // + load8_u(32)
			[]byte{0x0B}),
		// seven(x)
		body([]byte{0x00, 0x20, 0x00, 0x41, 0x07, 0x6A, 0x0B}),
		// big()
		body([]byte{0x00},
			[]byte{0x41, 0x80, 0x01, 0xC0, 0x1A},             // i32.extend8_s, drop
			[]byte{0xD0, 0x70, 0xD1, 0x1A},                   // ref.null func, ref.is_null, drop
			[]byte{0xD2, 0x02, 0x1A},                         // ref.func 2, drop
			[]byte{0x42}, sleb(bigConst), []byte{0x42, 0x05}, // two i64.const
			[]byte{0x41, 0x01, 0x1C, 0x01, 0x7E}, // select (result i64)
			[]byte{0x0B}),
	}
	code = append(code, extra...)
	types := vec([]byte{0x60, 0x00, 0x00}, []byte{0x60, 0x01, 0x7F, 0x01, 0x7F}, []byte{0x60, 0x00, 0x01, 0x7E})
	funcs := [][]byte{{0x00}, {0x01}, {0x01}, {0x02}}
	for range extra {
		funcs = append(funcs, []byte{0x00})
	}
	return wasmModule(
		sec(1, types),
		sec(3, vec(funcs...)),
		sec(4, vec([]byte{0x70, 0x00, 0x01})),             // table: funcref, min 1
		sec(5, vec([]byte{0x00, 0x01})),                   // memory: min 1 page
		sec(6, vec([]byte{0x7F, 0x01, 0x41, 0x00, 0x0B})), // one global already: the new one is index 1
		sec(7, vec(append(str("spin"), 0x00, 0x00), append(str("sum"), 0x00, 0x01), append(str("big"), 0x00, 0x03),
			append(str("g0"), 0x03, 0x00))),
		sec(9, vec([]byte{0x00, 0x41, 0x00, 0x0B, 0x01, 0x02})), // table[0] = seven
		sec(10, vec(code...)),
		sec(0, str("name-ish"), []byte("custom section bytes")),
	)
}

func TestInstrumentHandBuiltModule(t *testing.T) {
	ctx := context.Background()
	orig := testModule()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if _, err := rt.CompileModule(ctx, orig); err != nil {
		t.Fatalf("the hand-built module itself is invalid: %v", err)
	}
	wasm, err := instrumentModule(orig)
	if err != nil {
		t.Fatal(err)
	}
	// Three loops (two in spin, one in sum): each gets the budget countdown
	// (global 1: the module's own global is index 0) and the flag check
	// (global 2).
	if n := bytes.Count(wasm, []byte{0x23, 0x01, 0x41, 0x01, 0x6B, 0x24, 0x01}); n != 3 {
		t.Fatalf("%d budget countdowns inserted, want 3 (two loops in spin, one in sum)", n)
	}
	if n := bytes.Count(wasm, []byte{0x23, 0x02, 0x04, 0x40, 0x00, 0x0B}); n != 3 {
		t.Fatalf("%d checks inserted, want 3 (two loops in spin, one in sum)", n)
	}
	if !bytes.Contains(wasm, []byte("custom section bytes")) {
		t.Fatal("custom section lost")
	}
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatalf("rewritten module does not validate: %v", err)
	}
	if res, err := mod.ExportedFunction("sum").Call(ctx, 10); err != nil || res[0] != 20+60+2+171 {
		t.Fatalf("sum(10) = %v, %v; want 253", res, err)
	}
	// Enough iterations to pass the slow path (budget reset, memory.grow 0)
	// several times.
	want := uint64(2 + 171)
	for i := uint64(0); i < 5*interruptBudget+7; i++ {
		want += i + 7*(i%2)
	}
	if res, err := mod.ExportedFunction("sum").Call(ctx, 5*interruptBudget+7); err != nil || res[0] != want {
		t.Fatalf("sum(%d) = %v, %v; want %d", 5*interruptBudget+7, res, err, want)
	}
	if res, err := mod.ExportedFunction("big").Call(ctx); err != nil || int64(res[0]) != bigConst {
		t.Fatalf("big() = %v, %v", res, err)
	}
	g, ok := mod.ExportedGlobal(interruptExport).(api.MutableGlobal)
	if !ok {
		t.Fatal("no mutable interrupt global exported")
	}
	if _, ok := mod.ExportedGlobal("g0").(api.MutableGlobal); !ok {
		t.Fatal("the module's own global moved")
	}
	done := make(chan error, 1)
	go func() {
		_, err := mod.ExportedFunction("spin").Call(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("spin returned early: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	// The spinning guest leaves native code now and then, so the Go runtime
	// can still stop the world (a GC) while it runs: no deadlock with the
	// goroutine that would set the flag.
	gc := make(chan struct{})
	go func() { runtime.GC(); close(gc) }()
	select {
	case <-gc:
	case <-time.After(10 * time.Second):
		t.Fatal("a GC could not stop the world while the guest spins")
	}
	g.Set(1)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("spin stopped with %v, want an unreachable trap", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("setting the interrupt global did not stop the loop")
	}
}

func TestInstrumentRefusesWhatItDoesNotKnow(t *testing.T) {
	simd := body([]byte{0x00, 0xFD, 0x0C}, make([]byte, 16), []byte{0x1A, 0x0B}) // v128.const, drop
	if _, err := instrumentModule(testModule(simd)); err == nil || !strings.Contains(err.Error(), "0xFD") {
		t.Fatalf("SIMD: err = %v", err)
	}
	atomics := body([]byte{0x00, 0xFE, 0x03, 0x00, 0x0B}) // atomic.fence
	if _, err := instrumentModule(testModule(atomics)); err == nil {
		t.Fatal("threads opcode accepted")
	}
	// The module has one global; indices 1 and 2 become the host's budget
	// and interrupt flag. Code naming them (invalid before the rewrite,
	// valid after) could reset the interrupt and run forever.
	resetFlag := body([]byte{0x00, 0x41, 0x00, 0x24, 0x02, 0x0B}) // i32.const 0, global.set 2
	if _, err := instrumentModule(testModule(resetFlag)); err == nil || !strings.Contains(err.Error(), "global index 2") {
		t.Fatalf("code writing the host's interrupt global: err = %v", err)
	}
	readBudget := body([]byte{0x00, 0x23, 0x01, 0x1A, 0x0B}) // global.get 1, drop
	if _, err := instrumentModule(testModule(readBudget)); err == nil {
		t.Fatal("code reading the host's budget global accepted")
	}
	tailLoop := body([]byte{0x00, 0x12, 0x04, 0x0B}) // return_call to itself: a loop without a loop header
	if _, err := instrumentModule(testModule(tailLoop)); err == nil || !strings.Contains(err.Error(), "tail call") {
		t.Fatalf("tail call: err = %v", err)
	}
	orig := testModule()
	if _, err := instrumentModule(orig[:len(orig)-3]); err == nil {
		t.Fatal("truncated module accepted")
	}
	if _, err := instrumentModule([]byte("\x00asm\x01\x00\x00\x00")); err == nil {
		t.Fatal("module without globals, exports or code accepted")
	}
	if _, err := instrumentModule(reservedExportModule()); !errors.Is(err, errReservedExport) {
		t.Fatalf("reserved export: err = %v", err)
	}
}

// reservedExportModule exports a global under the host's reserved name.
func reservedExportModule() []byte {
	return wasmModule(
		sec(1, vec([]byte{0x60, 0x00, 0x00})),
		sec(3, vec([]byte{0x00})),
		sec(6, vec([]byte{0x7F, 0x01, 0x41, 0x00, 0x0B})),
		sec(7, vec(append(str(interruptExport), 0x03, 0x00))),
		sec(10, vec(body([]byte{0x00, 0x0B}))),
	)
}

// minimalPlugin is a hand-written plugin module: tari_handle and
// _initialize either return at once or loop forever without any call.
func minimalPlugin(loopInHandle, loopInInit bool) []byte {
	ret := body([]byte{0x00, 0x41, 0x00, 0x0B})
	spinI32 := body([]byte{0x00, 0x03, 0x40, 0x0C, 0x00, 0x0B, 0x41, 0x00, 0x0B})
	empty := body([]byte{0x00, 0x0B})
	spin := body([]byte{0x00, 0x03, 0x40, 0x0C, 0x00, 0x0B, 0x0B})
	handle, init := ret, empty
	if loopInHandle {
		handle = spinI32
	}
	if loopInInit {
		init = spin
	}
	return pluginModule(handle, init)
}

// pluginModule assembles a plugin module from the bodies of tari_handle and
// _initialize; between sits any section that goes between exports and code.
func pluginModule(handle, init []byte, between ...[]byte) []byte {
	secs := [][]byte{
		sec(1, vec([]byte{0x60, 0x00, 0x00}, []byte{0x60, 0x01, 0x7F, 0x01, 0x7F})),
		sec(3, vec([]byte{0x00}, []byte{0x01}, []byte{0x00})),
		sec(5, vec([]byte{0x00, 0x01})),
		sec(6, vec()),
		sec(7, vec(append(str("tari_abi_v1"), 0x00, 0x00), append(str("tari_handle"), 0x00, 0x01),
			append(str("_initialize"), 0x00, 0x02), append(str("memory"), 0x02, 0x00))),
	}
	secs = append(secs, between...)
	return wasmModule(append(secs, sec(10, vec(body([]byte{0x00, 0x0B}), handle, init)))...)
}

func testPlugin(t *testing.T, timeout time.Duration) *plugin {
	t.Helper()
	m := &Manifest{ID: "spin", Version: "1", ABI: 1, Events: []string{"*"}}
	if err := m.validate(); err != nil {
		t.Fatal(err)
	}
	return &plugin{m: m, log: slog.New(slog.NewTextHandler(io.Discard, nil)), timeout: timeout, client: http.DefaultClient,
		config: func(string) (string, bool) { return "", false }}
}

// A tight loop with no calls at all, in tari_handle and in _initialize, is
// stopped at the deadline by the instrumented module; a healthy call right
// after a stopped one is not hit by a stale interrupt.
func TestInstrumentedPluginStopsAtDeadline(t *testing.T) {
	ctx := context.Background()
	cache := wazero.NewCompilationCache()
	defer cache.Close(ctx)

	p := testPlugin(t, 200*time.Millisecond)
	if err := p.compile(ctx, minimalPlugin(true, false), cache); err != nil {
		t.Fatal(err)
	}
	defer p.close()
	if p.mode != terminateInstrumented {
		t.Fatalf("mode = %d, want instrumented", p.mode)
	}
	t0 := time.Now()
	err := p.call(ctx, []byte(`{}`))
	if err == nil || !strings.Contains(err.Error(), "stopped after the 200ms time limit") {
		t.Fatalf("looping handle: %v", err)
	}
	if took := time.Since(t0); took > 5*time.Second {
		t.Fatalf("stopped only after %s", took)
	}
	// A cancelled context (shutdown) stops it too, with its own message.
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	if err := p.call(cctx, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("cancelled call: %v", err)
	}

	ok := testPlugin(t, time.Second)
	if err := ok.compile(ctx, minimalPlugin(false, false), cache); err != nil {
		t.Fatal(err)
	}
	defer ok.close()
	for i := 0; i < 200; i++ {
		// Contexts that end right as the call returns: a late AfterFunc must
		// not leave the interrupt set for the next call.
		c, cancel := context.WithCancel(ctx)
		go cancel()
		ok.call(c, []byte(`{}`))
		if err := ok.call(ctx, []byte(`{}`)); err != nil {
			t.Fatalf("call %d after a cancelled one: %v", i, err)
		}
	}

	initLoop := testPlugin(t, 200*time.Millisecond)
	if err := initLoop.compile(ctx, minimalPlugin(false, true), cache); err != nil {
		t.Fatal(err)
	}
	defer initLoop.close()
	t0 = time.Now()
	initLoop.mu.Lock()
	err = initLoop.instantiate(ctx)
	initLoop.mu.Unlock()
	if err == nil || !strings.Contains(err.Error(), "time limit") {
		t.Fatalf("looping _initialize: %v", err)
	}
	if took := time.Since(t0); took > 5*time.Second {
		t.Fatalf("init stopped only after %s", took)
	}
}

// A module the rewriter refuses still loads, in wazero's guarded mode, and
// its loops are still stopped at the deadline.
func TestUninstrumentableModuleFallsBackToGuarded(t *testing.T) {
	ctx := context.Background()
	cache := wazero.NewCompilationCache()
	defer cache.Close(ctx)
	// A start section (function 0, the no-op marker) would run inside
	// InstantiateModule, before the interrupt can be armed: not rewritten.
	wasm := pluginModule(body([]byte{0x00, 0x03, 0x40, 0x0C, 0x00, 0x0B, 0x41, 0x00, 0x0B}), body([]byte{0x00, 0x0B}),
		sec(8, []byte{0x00}))
	var logs bytes.Buffer
	p := testPlugin(t, 200*time.Millisecond)
	p.log = slog.New(slog.NewTextHandler(&logs, nil))
	if err := p.compile(ctx, wasm, cache); err != nil {
		t.Fatal(err)
	}
	defer p.close()
	if p.mode != terminateGuarded || !strings.Contains(logs.String(), "level=INFO") || !strings.Contains(logs.String(), "start function") {
		t.Fatalf("mode %d, log %q", p.mode, logs.String())
	}
	if err := p.call(ctx, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "time limit") {
		t.Fatalf("guarded loop: %v", err)
	}
}
