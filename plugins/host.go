package plugins

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/outbox"
)

// Per-call caps that protect the server from a chatty or hostile guest.
const (
	maxResultBytes  = 64 << 10 // result_write
	maxLogLine      = 4 << 10  // one log line
	maxLogPerCall   = 64 << 10 // all log output of one call
	maxRequestBytes = 1 << 20  // http_send request document
	maxConfigKey    = 256
)

// termination is how a runaway guest is stopped at its deadline.
type termination int

const (
	// terminateInstrumented rewrites the module at load (interrupt.go): an
	// inline countdown at every loop header and, every interruptBudget
	// iterations, a check of the interrupt global, which the host sets when
	// the call's context is done. What the server runs; a warm event costs
	// ~1.3x the unguarded call instead of ~5x (BenchmarkDispatch).
	terminateInstrumented termination = iota
	// terminateGuarded is wazero's WithCloseOnContextDone: a call out to Go
	// at every loop header. Correct but several times slower; the fallback
	// for a module the rewriter does not understand.
	terminateGuarded
	// terminateNone stops nothing: only the benchmark uses it, to measure
	// what the other two cost.
	terminateNone
)

// ensureTermination picks how deadlines are enforced. It is never
// terminateNone in the server; the benchmark flips it to compare the modes.
var ensureTermination = terminateInstrumented

// Host function names of ABI tari_v1.
var hostFuncs = []string{"log", "config_get", "event_read", "result_write", "http_send", "http_read",
	"state_get", "state_set", "state_delete", "state_list", "state_read"}

// plugin is one loaded module: its own wazero Runtime (so its memory cap is
// its own), one warm instance used by one call at a time, and the per-call
// state the host functions read and write.
type plugin struct {
	m        *Manifest
	source   string // "default" or "directory"
	path     string
	hash     string // hex sha256 of the module
	log      *slog.Logger
	config   func(key string) (string, bool)
	grants   []string
	client   *http.Client
	timeout  time.Duration
	crashCap int
	onCrash  func(p *plugin, crashes int, err error)
	state    *stateStore // nil: state host functions answer "not available"
	act      *actionHost // engine actions (actions.go); nil: none offered

	rt       wazero.Runtime
	compiled wazero.CompiledModule
	mode     termination // how this plugin's calls are stopped at the deadline

	// The interrupt global of the current instance (terminateInstrumented).
	// intMu orders the host's writes: a call arms it (generation intGen) and
	// disarms it on return; a late AfterFunc of an old call sees another
	// generation and leaves the global alone.
	interrupt api.MutableGlobal
	intMu     sync.Mutex
	intGen    uint64
	intArmed  bool

	mu      sync.Mutex // serialises calls: an instance is single-threaded
	inst    api.Module
	handle  api.Function
	crashes atomic.Int32 // in a row; read by the admin API without waiting for a call

	// per-call state, guarded by mu
	event     []byte
	result    []byte
	resultErr error
	httpResp  []byte
	stateCall *stateCall // the event's buffered state writes
	stateResp []byte     // last state_list document or state error message
	logBudget int
	lastErr   lineRing
	routeCall bool      // the current call serves a route (routes.go)
	routes    routeGate // route calls waiting for the instance
}

// compile builds the plugin's runtime and compiles (or loads from the disk
// cache) its module, then checks the ABI before anything runs.
func (p *plugin) compile(ctx context.Context, wasm []byte, cache wazero.CompilationCache) error {
	p.mode = ensureTermination
	if p.mode == terminateInstrumented {
		rewritten, err := instrumentModule(wasm)
		switch {
		case errors.Is(err, errReservedExport):
			return err
		case err != nil:
			p.log.Info("plugin module cannot be instrumented for deadlines; using wazero's slower guarded mode", "err", err)
			p.mode = terminateGuarded
		default:
			wasm = rewritten
		}
	}
	rc := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(p.m.Limits.MemoryPages).
		// The instance's whole allowance up front: growing a wazero memory
		// reallocates and copies it, and a guest allocating up to its cap
		// (then trapping, again and again) made the host copy hundreds of MB
		// per crash, which the GC made everyone pay for (/health p99 55-116 ms
		// against 7-21 ms with this, TestMemoryBombContained). It also makes
		// the memory budget (TPG_PLUGINS_MEMORY_BUDGET_MB) what is reserved.
		WithMemoryCapacityFromMax(true).
		WithCloseOnContextDone(p.mode == terminateGuarded).
		WithCompilationCache(cache)
	p.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, p.rt); err != nil {
		return err
	}
	if err := p.hostModule(ctx); err != nil {
		return err
	}
	compiled, err := p.rt.CompileModule(ctx, wasm)
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	p.compiled = compiled
	return checkABI(compiled)
}

// checkABI makes an ABI mismatch a clear load error instead of a link error
// or a trap on the first event.
func checkABI(c wazero.CompiledModule) error {
	exports := c.ExportedFunctions()
	if _, ok := exports["tari_abi_v1"]; !ok {
		for name := range exports {
			if strings.HasPrefix(name, "tari_abi_v") {
				return fmt.Errorf("module is built for plugin ABI %s, this server supports tari_abi_v%d", strings.TrimPrefix(name, "tari_abi_"), ABIVersion)
			}
		}
		return fmt.Errorf("module does not export tari_abi_v%d: not a plugin for this server (build it with the sdk package)", ABIVersion)
	}
	h, ok := exports["tari_handle"]
	if !ok {
		return errors.New("module does not export tari_handle")
	}
	if p, r := h.ParamTypes(), h.ResultTypes(); len(p) != 1 || p[0] != api.ValueTypeI32 || len(r) != 1 || r[0] != api.ValueTypeI32 {
		return errors.New("tari_handle must have the signature (i32) -> i32")
	}
	if _, ok := exports["_initialize"]; !ok {
		return errors.New("module does not export _initialize: build it as a WASI reactor (Go: -buildmode=c-shared; clang: -mexec-model=reactor)")
	}
	for _, f := range c.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch mod {
		case "wasi_snapshot_preview1":
		case "tari_v1":
			if !contains(hostFuncs, name) {
				return fmt.Errorf("module imports tari_v1.%s, which this server does not provide (newer SDK?)", name)
			}
		default:
			return fmt.Errorf("module imports %s.%s: only tari_v1 and wasi_snapshot_preview1 are available", mod, name)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// instantiate starts a fresh instance with no filesystem, no environment and
// no arguments (stdout and stderr go to the server log), then runs its
// _initialize under the per-call deadline. No guest code runs inside
// InstantiateModule (no start functions; the rewriter refuses a module with
// a start section), so an init that never returns is stopped like a call.
func (p *plugin) instantiate(ctx context.Context) error {
	ictx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	p.lastErr.reset()
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithStdout(&logWriter{p: p, level: slog.LevelInfo}).
		WithStderr(&logWriter{p: p, level: slog.LevelWarn, ring: true}).
		WithSysWalltime().WithSysNanotime().
		WithRandSource(rand.Reader)
	mod, err := p.rt.InstantiateModule(ictx, p.compiled, cfg)
	if err != nil {
		return p.describe(ictx, fmt.Errorf("instantiate: %w", err))
	}
	p.inst = mod
	p.interrupt = nil
	if p.mode == terminateInstrumented {
		g, ok := mod.ExportedGlobal(interruptExport).(api.MutableGlobal)
		if !ok {
			p.discard()
			return fmt.Errorf("plugin %s: instrumented module lacks its %s global", p.m.ID, interruptExport)
		}
		p.interrupt = g
	}
	if _, err := p.callGuest(ictx, mod.ExportedFunction("_initialize")); err != nil {
		p.discard()
		return fmt.Errorf("%w (in _initialize)", p.describe(ictx, err))
	}
	p.handle = mod.ExportedFunction("tari_handle")
	return nil
}

// callGuest calls an export of the current instance; when the context is
// done (deadline or cancellation) the instrumented module traps within
// interruptBudget loop iterations. Callers hold p.mu.
func (p *plugin) callGuest(ctx context.Context, f api.Function, params ...uint64) ([]uint64, error) {
	g := p.interrupt
	if g == nil { // guarded (wazero watches ctx) or the benchmark's unguarded mode
		return f.Call(ctx, params...)
	}
	p.intMu.Lock()
	p.intGen++
	gen := p.intGen
	p.intArmed = true
	g.Set(0)
	p.intMu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		p.intMu.Lock()
		if p.intArmed && p.intGen == gen {
			g.Set(1)
		}
		p.intMu.Unlock()
	})
	res, err := f.Call(ctx, params...)
	stop()
	p.intMu.Lock()
	p.intArmed = false
	p.intMu.Unlock()
	return res, err
}

// discard throws the instance away; a trapped Go runtime cannot be reused.
func (p *plugin) discard() {
	if p.inst != nil {
		_ = p.inst.Close(context.Background())
	}
	p.inst, p.handle, p.interrupt = nil, nil, nil
}

func (p *plugin) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.discard()
	if p.rt != nil {
		_ = p.rt.Close(context.Background())
	}
}

// ID implements outbox.Subscriber.
func (p *plugin) ID() string { return p.m.ID }

// EventTypes implements outbox.Subscriber.
func (p *plugin) EventTypes() []core.EventType { return p.m.eventTypes() }

// Deliver implements outbox.Subscriber: one call of tari_handle. The
// dispatcher calls DeliverAck instead; state written here is dropped.
func (p *plugin) Deliver(ctx context.Context, ev core.Event) error {
	_, err := p.DeliverAck(ctx, ev)
	return err
}

// DeliverAck implements outbox.AckSubscriber: the state the handler wrote
// commits with the event's acknowledgement.
func (p *plugin) DeliverAck(ctx context.Context, ev core.Event) (outbox.Ack, error) {
	return p.callAck(ctx, eventDoc(ev))
}

// eventDoc is the event as plugins (and webhook receivers) see it.
func eventDoc(ev core.Event) []byte {
	var b bytes.Buffer
	b.Grow(len(ev.Payload) + 128)
	id, _ := json.Marshal(ev.ID)
	typ, _ := json.Marshal(string(ev.Type))
	b.WriteString(`{"id":`)
	b.Write(id)
	b.WriteString(`,"type":`)
	b.Write(typ)
	b.WriteString(`,"created_at":"`)
	b.WriteString(ev.CreatedAt.UTC().Format(time.RFC3339Nano))
	b.WriteString(`","data":`)
	if len(ev.Payload) == 0 {
		b.WriteString("null")
	} else {
		b.Write(ev.Payload)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// crashError is a call that killed the instance (trap, timeout, exit).
type crashError struct{ err error }

func (c crashError) Error() string { return c.err.Error() }
func (c crashError) Unwrap() error { return c.err }

func (p *plugin) call(ctx context.Context, doc []byte) error {
	_, err := p.callAck(ctx, doc)
	return err
}

// callAck runs one call; on success it returns the call's buffered state
// writes as an outbox.Ack (nil if none). On any failure they are dropped.
func (p *plugin) callAck(ctx context.Context, doc []byte) (outbox.Ack, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ack outbox.Ack
	err := p.callLocked(ctx, doc, &ack)
	var crash crashError
	if errors.As(err, &crash) {
		p.discard()
		n := int(p.crashes.Add(1))
		p.log.Error("plugin crashed; instance replaced, event will be retried", "crashes_in_a_row", n, "err", err)
		if p.onCrash != nil {
			p.onCrash(p, n, err)
		}
	} else {
		p.crashes.Store(0)
	}
	if err != nil {
		return nil, err
	}
	return ack, nil
}

func (p *plugin) callLocked(ctx context.Context, doc []byte, ack *outbox.Ack) error {
	if p.inst == nil {
		if err := p.instantiate(ctx); err != nil {
			return crashError{err}
		}
	}
	cctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	p.event, p.result, p.resultErr, p.httpResp = doc, nil, nil, nil
	p.logBudget = maxLogPerCall
	p.lastErr.reset()
	if p.state != nil {
		p.stateCall = p.state.begin(cctx)
	}
	defer func() { p.event, p.httpResp, p.stateCall, p.stateResp = nil, nil, nil, nil }()
	res, err := p.callGuest(cctx, p.handle, uint64(len(doc)))
	if err != nil {
		return crashError{p.describe(cctx, err)}
	}
	if p.resultErr != nil {
		return p.resultErr
	}
	switch uint32(res[0]) {
	case 0, 2:
		if p.stateCall != nil {
			*ack = p.stateCall.ack()
		}
		return nil
	case 1:
		var r struct {
			Error     string `json:"error"`
			Permanent bool   `json:"permanent"`
		}
		if json.Unmarshal(p.result, &r) != nil || r.Error == "" {
			r.Error = "plugin reported an error without a message"
		}
		err := fmt.Errorf("plugin %s: %s", p.m.ID, r.Error)
		if r.Permanent {
			return outbox.Permanent(err)
		}
		return err
	default:
		return fmt.Errorf("plugin %s: tari_handle returned unknown code %d", p.m.ID, uint32(res[0]))
	}
}

// describe turns a wazero call error into a message an admin can act on.
func (p *plugin) describe(ctx context.Context, err error) error {
	var exit *sys.ExitError
	tail := p.lastErr.String()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeDeadlineExceeded):
		return fmt.Errorf("plugin %s: stopped after the %s time limit", p.m.ID, p.timeout)
	case errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeContextCanceled,
		errors.Is(ctx.Err(), context.Canceled): // the instrumented module traps when ctx is cancelled
		return fmt.Errorf("plugin %s: stopped (server shutting down)", p.m.ID)
	case errors.As(err, &exit):
		msg := fmt.Sprintf("plugin %s: exited with code %d", p.m.ID, exit.ExitCode())
		if tail != "" {
			msg += ": " + tail
		}
		return errors.New(msg)
	}
	msg := err.Error()
	if i := strings.Index(msg, "\nwasm stack trace"); i > 0 {
		msg = msg[:i]
	}
	if tail != "" {
		msg += " (" + tail + ")"
	}
	return fmt.Errorf("plugin %s: trapped: %s", p.m.ID, msg)
}

// hostModule defines the tari_v1 imports for this plugin's runtime.
func (p *plugin) hostModule(ctx context.Context) error {
	i32 := api.ValueTypeI32
	b := p.rt.NewHostModuleBuilder("tari_v1")
	fn := func(name string, f api.GoModuleFunc, params, results []api.ValueType) {
		b.NewFunctionBuilder().WithGoModuleFunction(f, params, results).Export(name)
	}
	fn("log", p.hostLog, []api.ValueType{i32, i32, i32}, nil)
	fn("config_get", p.hostConfigGet, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	fn("event_read", p.hostEventRead, []api.ValueType{i32, i32}, []api.ValueType{i32})
	fn("result_write", p.hostResultWrite, []api.ValueType{i32, i32}, nil)
	fn("http_send", p.hostHTTPSend, []api.ValueType{i32, i32}, []api.ValueType{i32})
	fn("http_read", p.hostHTTPRead, []api.ValueType{i32, i32}, []api.ValueType{i32})
	fn("state_get", p.hostStateGet, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	fn("state_set", p.hostStateSet, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	fn("state_delete", p.hostStateDelete, []api.ValueType{i32, i32}, []api.ValueType{i32})
	fn("state_list", p.hostStateList, []api.ValueType{i32, i32}, []api.ValueType{i32})
	fn("state_read", p.hostStateRead, []api.ValueType{i32, i32}, []api.ValueType{i32})
	p.defineActionFuncs(fn)
	_, err := b.Instantiate(ctx)
	return err
}

// read copies guest memory; an out-of-range pointer traps the call.
func read(m api.Module, ptr, n uint32) []byte {
	b, ok := m.Memory().Read(ptr, n)
	if !ok {
		panic(fmt.Errorf("guest pointer out of range: %d+%d", ptr, n))
	}
	return bytes.Clone(b)
}

// writeIfFits copies data into the guest's buffer when it fits and returns
// the full length either way (the guest retries with a bigger buffer).
func writeIfFits(m api.Module, buf, limit uint32, data []byte) uint64 {
	if uint32(len(data)) <= limit && len(data) > 0 {
		if !m.Memory().Write(buf, data) {
			panic(fmt.Errorf("guest buffer out of range: %d+%d", buf, len(data)))
		}
	}
	return api.EncodeI32(int32(len(data)))
}

func (p *plugin) hostLog(_ context.Context, m api.Module, stack []uint64) {
	level, ptr, n := api.DecodeI32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	if p.logBudget <= 0 {
		return
	}
	n = min(n, maxLogLine, uint32(p.logBudget))
	p.logBudget -= int(n)
	msg := string(read(m, ptr, n))
	lvl := slog.LevelInfo
	switch level {
	case 0:
		lvl = slog.LevelDebug
	case 2:
		lvl = slog.LevelWarn
	case 3:
		lvl = slog.LevelError
	}
	p.log.Log(context.Background(), lvl, msg)
	if p.logBudget <= 0 {
		p.log.Warn("plugin log output over the per-event limit; dropping the rest")
	}
}

func (p *plugin) hostConfigGet(_ context.Context, m api.Module, stack []uint64) {
	kptr, klen, buf, limit := api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	if klen > maxConfigKey {
		stack[0] = api.EncodeI32(-1)
		return
	}
	v, ok := p.config(string(read(m, kptr, klen)))
	if !ok {
		stack[0] = api.EncodeI32(-1)
		return
	}
	stack[0] = writeIfFits(m, buf, limit, []byte(v))
}

func (p *plugin) hostEventRead(_ context.Context, m api.Module, stack []uint64) {
	stack[0] = writeIfFits(m, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), p.event)
}

func (p *plugin) hostResultWrite(_ context.Context, m api.Module, stack []uint64) {
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	if limit := p.routeResultLimit(); n > limit {
		p.resultErr = fmt.Errorf("plugin %s: result of %d bytes is over the %d-byte limit", p.m.ID, n, limit)
		return
	}
	p.result = read(m, ptr, n)
}

func (p *plugin) hostHTTPRead(_ context.Context, m api.Module, stack []uint64) {
	stack[0] = writeIfFits(m, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), p.httpResp)
}

func (p *plugin) hostHTTPSend(ctx context.Context, m api.Module, stack []uint64) {
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	var doc []byte
	if n > maxRequestBytes {
		doc = errDoc(fmt.Sprintf("request of %d bytes is over the %d-byte limit", n, maxRequestBytes))
	} else {
		doc = p.doHTTP(ctx, read(m, ptr, n))
	}
	p.httpResp = doc
	stack[0] = api.EncodeI32(int32(len(doc)))
}

func errDoc(msg string) []byte {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return b
}

type httpRequest struct {
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Header map[string]string `json:"headers"`
	Body   []byte            `json:"body"`
}

type httpResponse struct {
	Status int               `json:"status"`
	Header map[string]string `json:"headers"`
	Body   []byte            `json:"body"`
}

// doHTTP performs a guest's request if its host is granted. Host functions
// are not interrupted by wazero, so the request honours the call's deadline.
func (p *plugin) doHTTP(ctx context.Context, raw []byte) []byte {
	var r httpRequest
	if err := json.Unmarshal(raw, &r); err != nil {
		return errDoc("bad request document: " + err.Error())
	}
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errDoc(fmt.Sprintf("bad URL %q: want http(s)://host/...", r.URL))
	}
	if !hostAllowed(p.grants, u) {
		p.log.Warn("plugin HTTP request refused: host not granted", "host", u.Host)
		return errDoc(fmt.Sprintf("host %s is not granted to plugin %s (manifest http / http_from_config)", u.Host, p.m.ID))
	}
	hctx, cancel := context.WithTimeout(ctx, time.Duration(p.m.Limits.HTTPTimeoutMS)*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(hctx, strings.ToUpper(r.Method), u.String(), bytes.NewReader(r.Body))
	if err != nil {
		return errDoc(err.Error())
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return errDoc(err.Error())
	}
	defer resp.Body.Close()
	limit := p.m.Limits.MaxResponseBytes
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return errDoc("reading response: " + err.Error())
	}
	if len(body) > limit {
		return errDoc(fmt.Sprintf("response from %s is over the %d-byte limit", u.Host, limit))
	}
	h := make(map[string]string, len(resp.Header))
	for k := range resp.Header {
		h[k] = resp.Header.Get(k)
	}
	out, _ := json.Marshal(httpResponse{Status: resp.StatusCode, Header: h, Body: body})
	return out
}

// newClient gives each plugin a client whose redirects are checked against
// its grants too (a granted host must not bounce it elsewhere).
func newClient(base *http.Client, grants []string) *http.Client {
	c := *base
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !hostAllowed(grants, req.URL) {
			return fmt.Errorf("redirect to %s: host not granted", req.URL.Host)
		}
		return nil
	}
	return &c
}

// logWriter forwards guest stdout/stderr lines to the log, within the
// per-call budget; stderr lines are also kept for crash reports (a Go panic
// or "fatal error: out of memory" is printed there).
type logWriter struct {
	p     *plugin
	level slog.Level
	ring  bool
	buf   []byte
}

func (w *logWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) > maxLogLine {
				i = maxLogLine
			} else {
				break
			}
		}
		line := string(w.buf[:i])
		w.buf = w.buf[min(i+1, len(w.buf)):]
		if w.ring {
			w.p.lastErr.add(line)
		}
		if w.p.logBudget > 0 && line != "" {
			w.p.logBudget -= len(line)
			w.p.log.Log(context.Background(), w.level, line, "stream", map[bool]string{true: "stderr", false: "stdout"}[w.ring])
		}
	}
	return len(b), nil
}

// lineRing keeps the first few stderr lines of a call (the cause of a crash
// is printed first, the goroutine dump after).
type lineRing struct{ lines []string }

func (r *lineRing) reset() { r.lines = r.lines[:0] }
func (r *lineRing) add(s string) {
	if s = strings.TrimSpace(s); s != "" && len(r.lines) < 2 {
		r.lines = append(r.lines, s)
	}
}
func (r *lineRing) String() string { return strings.Join(r.lines, "; ") }
