package plugins

import (
	"bytes"
	"errors"
	"fmt"
)

// Cheap deadline enforcement.
//
// wazero's WithCloseOnContextDone stops a runaway guest by calling out of
// the guest into Go at every loop header, which makes a warm Go plugin's
// event several times slower. Instead, the host rewrites the module once at
// load time (before CompileModule, so the compilation cache keys on the
// rewritten bytes): it appends two mutable i32 globals, a loop budget and the
// interrupt flag (exported as interruptExport), and inserts at the top of
// every loop body
//
//	global.get $budget ; i32.const 1 ; i32.sub ; global.set $budget
//	global.get $budget ; i32.eqz
//	if                                  ;; once every interruptBudget iterations:
//	  i32.const interruptBudget ; global.set $budget
//	  i32.const 0 ; memory.grow 0 ; drop ;; a call out to Go (see below)
//	  global.get $interrupt
//	  if
//	    unreachable
//	  end
//	end
//
// The host sets the flag to 1 when a call's deadline passes (or its context
// is cancelled) and the guest traps within interruptBudget loop iterations.
// Straight-line code always reaches a loop header or returns, so every call
// ends. wazevo loads globals from memory at each loop header (the header has
// a back edge, so the value is never taken from a previous block).
//
// Why the budget and the memory.grow: native guest code is not preemptible
// by the Go runtime, so a guest spinning without ever leaving native code
// would block the next stop-the-world (GC) of the whole server forever, and
// with it the timer goroutine that was to set the flag: a deadlock.
// memory.grow by 0 pages is a no-op that wazevo implements as an exit to Go,
// where the goroutine can be preempted; once every interruptBudget
// iterations is the price (a few ns per thousand iterations).
//
// A module the rewriter does not fully understand (SIMD, threads, exception
// handling, tail calls, a start function, code naming a global past its own,
// no memory, global or export section, anything
// malformed) is not rewritten: instrumentModule returns an error and the host
// falls back to wazero's guarded mode. A plugin never runs without a way to
// stop it.

// interruptBudget is how many loop iterations run between two checks of the
// interrupt flag (and two safe points for the Go runtime).
const interruptBudget = 1000

// interruptExport is the reserved export name of the interrupt global.
// Guests must not define it (ABI.md).
const interruptExport = "tari_interrupt"

// errReservedExport is a module that already exports interruptExport: an ABI
// violation, refused at load (not a reason to fall back).
var errReservedExport = errors.New("module exports " + interruptExport + ", a name reserved for the host")

// Section ids used by the rewriter.
const (
	secCustom = 0
	secImport = 2
	secMemory = 5
	secGlobal = 6
	secExport = 7
	secStart  = 8
	secCode   = 10
)

// instrumentModule returns a copy of the module with the interrupt global
// and a check at every loop header, or an error if it cannot do so safely.
func instrumentModule(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:8], []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, errors.New("not a WebAssembly 1.0 binary module")
	}
	type section struct {
		id   byte
		body []byte
	}
	var secs []section
	r := &reader{b: wasm, pos: 8}
	for !r.done() {
		id := r.byte()
		n := r.u32()
		body := r.bytes(int(n))
		if r.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, r.err)
		}
		secs = append(secs, section{id, body})
	}
	var importedGlobals, globals, memories uint32
	haveGlobal, haveExport, haveCode := false, false, false
	for _, s := range secs {
		switch s.id {
		case secImport:
			g, m, err := countImports(s.body)
			if err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
			importedGlobals, memories = g, memories+m
		case secMemory:
			mr := &reader{b: s.body}
			memories += mr.u32()
			if mr.err != nil {
				return nil, fmt.Errorf("memory section: %w", mr.err)
			}
		case secGlobal:
			haveGlobal = true
			gr := &reader{b: s.body}
			globals = gr.u32()
			if gr.err != nil {
				return nil, fmt.Errorf("global section: %w", gr.err)
			}
		case secExport:
			haveExport = true
			if err := checkExports(s.body); err != nil {
				return nil, err
			}
		case secStart:
			// It would run inside InstantiateModule, before the host can arm
			// the interrupt.
			return nil, errors.New("module has a start function")
		case secCode:
			haveCode = true
		case 13: // tag section: exception handling
			return nil, errors.New("module uses exception handling (tag section)")
		}
	}
	if !haveGlobal || !haveExport || !haveCode {
		return nil, errors.New("module has no global, export or code section")
	}
	if memories != 1 {
		return nil, fmt.Errorf("module has %d memories, want 1", memories)
	}
	budget, flag := uleb(uint64(importedGlobals+globals)), uleb(uint64(importedGlobals+globals+1))
	var check []byte
	op := func(b ...byte) { check = append(check, b...) }
	op(0x23)
	op(budget...)
	op(0x41, 0x01, 0x6B, 0x24) // i32.const 1, i32.sub, global.set
	op(budget...)
	op(0x23)
	op(budget...)
	op(0x45, 0x04, 0x40, 0x41) // i32.eqz, if, i32.const
	op(sleb(interruptBudget)...)
	op(0x24)
	op(budget...)
	op(0x41, 0x00, 0x40, 0x00, 0x1A, 0x23) // i32.const 0, memory.grow 0, drop, global.get
	op(flag...)
	op(0x04, 0x40, 0x00, 0x0B, 0x0B) // if, unreachable, end, end

	out := make([]byte, 0, len(wasm)+len(wasm)/8)
	out = append(out, wasm[:8]...)
	for _, s := range secs {
		body := s.body
		switch s.id {
		case secGlobal:
			gr := &reader{b: s.body}
			gr.u32()
			body = append(uleb(uint64(globals+2)), s.body[gr.pos:]...)
			body = append(body, 0x7F, 0x01, 0x41) // budget: (mut i32) (i32.const interruptBudget)
			body = append(body, sleb(interruptBudget)...)
			body = append(body, 0x0B)
			body = append(body, 0x7F, 0x01, 0x41, 0x00, 0x0B) // flag: (mut i32) (i32.const 0)
		case secExport:
			er := &reader{b: s.body}
			n := er.u32()
			body = append(uleb(uint64(n+1)), s.body[er.pos:]...)
			body = append(body, uleb(uint64(len(interruptExport)))...)
			body = append(body, interruptExport...)
			body = append(body, 0x03) // global
			body = append(body, flag...)
		case secCode:
			var err error
			if body, err = instrumentCode(s.body, check, importedGlobals+globals); err != nil {
				return nil, fmt.Errorf("code section: %w", err)
			}
		}
		out = append(out, s.id)
		out = append(out, uleb(uint64(len(body)))...)
		out = append(out, body...)
	}
	return out, nil
}

// countImports returns the number of imported globals and memories.
func countImports(b []byte) (globals, memories uint32, err error) {
	r := &reader{b: b}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.name()
		r.name()
		switch kind := r.byte(); kind {
		case 0x00: // func
			r.u32()
		case 0x01: // table
			r.reftype()
			r.limits()
		case 0x02: // memory
			r.limits()
			memories++
		case 0x03: // global
			r.valtype()
			if m := r.byte(); m > 1 {
				r.fail("bad global mutability %d", m)
			}
			globals++
		default:
			r.fail("unsupported import kind 0x%02x", kind)
		}
	}
	if r.err == nil && !r.done() {
		r.fail("trailing bytes")
	}
	return globals, memories, r.err
}

func checkExports(b []byte) error {
	r := &reader{b: b}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		name := r.name()
		r.byte()
		r.u32()
		if r.err == nil && string(name) == interruptExport {
			return errReservedExport
		}
	}
	if r.err == nil && !r.done() {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return fmt.Errorf("export section: %w", r.err)
	}
	return nil
}

// instrumentCode rewrites every function body of a code section.
func instrumentCode(b []byte, check []byte, nGlobals uint32) ([]byte, error) {
	r := &reader{b: b}
	n := r.u32()
	out := append(make([]byte, 0, len(b)+len(b)/8), uleb(uint64(n))...)
	var fn []byte
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		body := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("function %d: %w", i, r.err)
		}
		var err error
		if fn, err = instrumentBody(fn[:0], body, check, nGlobals); err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = append(out, uleb(uint64(len(fn)))...)
		out = append(out, fn...)
	}
	if !r.done() {
		return nil, errors.New("trailing bytes")
	}
	return out, nil
}

// instrumentBody decodes one function body instruction by instruction and
// appends it to out with check inserted after each loop's block type.
// nGlobals is the module's own global count: an index at or past it would
// name the host's globals once they are appended (a guest could reset the
// interrupt), so it is refused.
func instrumentBody(out, body, check []byte, nGlobals uint32) ([]byte, error) {
	r := &reader{b: body}
	groups := r.u32()
	for i := uint32(0); i < groups && r.err == nil; i++ {
		r.u32()
		r.valtype()
	}
	if r.err != nil {
		return nil, fmt.Errorf("locals: %w", r.err)
	}
	depth := 0 // open blocks; the body's own end closes depth 0
	copied := 0
	for r.err == nil {
		if r.done() {
			return nil, errors.New("body ends before its end opcode")
		}
		start := r.pos
		op := r.byte()
		switch op {
		case 0x00, 0x01, 0x05, 0x0F, 0x1A, 0x1B, 0xD1:
			// unreachable, nop, else, return, drop, select, ref.is_null
		case 0x02, 0x04: // block, if
			r.blocktype()
			depth++
		case 0x03: // loop
			r.blocktype()
			depth++
			if r.err == nil {
				out = append(out, body[copied:r.pos]...)
				out = append(out, check...)
				copied = r.pos
			}
		case 0x0B: // end
			if depth == 0 {
				if !r.done() {
					return nil, fmt.Errorf("code after the function's end at offset %d", r.pos)
				}
				return append(out, body[copied:]...), nil
			}
			depth--
		case 0x23, 0x24: // global.get, global.set
			if idx := r.u32(); r.err == nil && idx >= nGlobals {
				r.fail("global index %d out of range (the module has %d) at offset %d", idx, nGlobals, start)
			}
		case 0x12, 0x13: // return_call, return_call_indirect
			// A tail call can loop forever without a loop header (and
			// wazero does not enable the proposal anyway).
			r.fail("tail call at offset %d", start)
		case 0x0C, 0x0D, // br, br_if
			0x10,                         // call
			0x20, 0x21, 0x22, 0x25, 0x26, // local.*, table.get/set
			0x3F, 0x40, // memory.size, memory.grow
			0xD2: // ref.func
			r.u32()
		case 0x0E: // br_table
			n := r.u32()
			for i := uint32(0); i <= n && r.err == nil; i++ {
				r.u32()
			}
		case 0x11: // call_indirect: type, table
			r.u32()
			r.u32()
		case 0x1C: // select t*
			n := r.u32()
			for i := uint32(0); i < n && r.err == nil; i++ {
				r.valtype()
			}
		case 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
			0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E: // loads and stores: memarg
			if align := r.u32(); align >= 64 {
				r.fail("multi-memory memarg at offset %d", start)
			}
			r.u32()
		case 0x41:
			r.sleb(32)
		case 0x42:
			r.sleb(64)
		case 0x43:
			r.bytes(4)
		case 0x44:
			r.bytes(8)
		case 0xD0: // ref.null
			r.reftype()
		case 0xFC:
			switch sub := r.u32(); {
			case sub <= 7: // saturating truncation
			case sub == 8: // memory.init data mem
				r.u32()
				r.u32()
			case sub == 9: // data.drop
				r.u32()
			case sub == 10: // memory.copy mem mem
				r.u32()
				r.u32()
			case sub == 11: // memory.fill mem
				r.u32()
			case sub == 12 || sub == 14: // table.init elem table, table.copy table table
				r.u32()
				r.u32()
			case sub == 13 || sub == 15 || sub == 16 || sub == 17: // elem.drop, table.grow/size/fill
				r.u32()
			default:
				r.fail("unsupported opcode 0xFC %d at offset %d", sub, start)
			}
		default:
			if op < 0x45 || op > 0xC4 { // numeric and sign extension take no immediates
				r.fail("unsupported opcode 0x%02X at offset %d", op, start)
			}
		}
	}
	return nil, r.err
}

// reader decodes the binary format; the first error sticks and every later
// read returns zero.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) done() bool { return r.pos >= len(r.b) }

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b) {
		r.fail("unexpected end at offset %d", r.pos)
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.pos {
		r.fail("length %d past the end at offset %d", n, r.pos)
		return nil
	}
	b := r.b[r.pos : r.pos+n]
	r.pos += n
	return b
}

// leb reads an LEB128 of at most bits bits and returns its raw value and
// the last byte (for the sign).
func (r *reader) leb(bits uint) (v uint64, last byte, shift uint) {
	maxBytes := int((bits + 6) / 7)
	for i := 0; ; i++ {
		if i == maxBytes {
			r.fail("LEB128 longer than %d bytes at offset %d", maxBytes, r.pos)
			return 0, 0, 0
		}
		c := r.byte()
		if r.err != nil {
			return 0, 0, 0
		}
		if shift < 64 {
			v |= uint64(c&0x7F) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			return v, c, shift
		}
	}
}

func (r *reader) u32() uint32 {
	if r.err == nil && r.pos < len(r.b) && r.b[r.pos] < 0x80 { // one byte: most immediates
		r.pos++
		return uint32(r.b[r.pos-1])
	}
	v, _, _ := r.leb(32)
	if v > 0xFFFFFFFF {
		r.fail("u32 out of range")
	}
	return uint32(v)
}

func (r *reader) sleb(bits uint) int64 {
	v, last, shift := r.leb(bits)
	if shift < 64 && last&0x40 != 0 {
		v |= ^uint64(0) << shift
	}
	return int64(v)
}

func (r *reader) name() []byte { return r.bytes(int(r.u32())) }

// valtype accepts the number, vector-free value types and the two MVP
// reference types; typed references (function references, GC) are refused.
func (r *reader) valtype() {
	switch t := r.byte(); t {
	case 0x7F, 0x7E, 0x7D, 0x7C, 0x70, 0x6F:
	default:
		r.fail("unsupported value type 0x%02X at offset %d", t, r.pos-1)
	}
}

func (r *reader) reftype() {
	switch t := r.byte(); t {
	case 0x70, 0x6F:
	default:
		r.fail("unsupported reference type 0x%02X at offset %d", t, r.pos-1)
	}
}

func (r *reader) limits() {
	switch f := r.byte(); f {
	case 0x00:
		r.u32()
	case 0x01:
		r.u32()
		r.u32()
	default:
		r.fail("unsupported limits flags 0x%02X (shared or 64-bit memory)", f)
	}
}

// blocktype reads the empty type, one value type, or a type index (s33).
func (r *reader) blocktype() {
	if r.err != nil || r.done() {
		r.byte()
		return
	}
	switch c := r.b[r.pos]; c {
	case 0x40, 0x7F, 0x7E, 0x7D, 0x7C, 0x70, 0x6F:
		r.pos++
		return
	}
	if idx := r.sleb(33); r.err == nil && idx < 0 {
		r.fail("unsupported block type at offset %d", r.pos)
	}
}

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
