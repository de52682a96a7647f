package plugins

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/tari-payment/tps/core"
)

// Route is one manifest "routes" entry: a page or endpoint the plugin serves
// under /plugins/{id}{path} (ABI.md "Routes").
type Route struct {
	// Path is "/" or "/name…"; a trailing "/*" matches that prefix and
	// everything below it ("/export/*" serves /export/ and /export/a.csv).
	Path string `json:"path"`
	// Methods the route answers; default ["GET"]. GET also answers HEAD.
	Methods []string `json:"methods,omitempty"`
	// Public routes need no access token; otherwise Roles are required
	// (all of them; super_admin passes), checked like /api.
	Public bool     `json:"public,omitempty"`
	Roles  []string `json:"roles,omitempty"`
	// TimeoutMS is the call's deadline, waiting for the instance included;
	// default 3000, at most 8000.
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// MaxBodyBytes caps the request body; default 64 KiB, at most 1 MiB.
	MaxBodyBytes int `json:"max_body_bytes,omitempty"`
}

// Route limits. A delivery waits for route calls holding or queued for the
// instance: at most (maxRouteWaiters+1) × maxRouteTimeout = 32 s, inside the
// outbox's delivery budget (two thirds of the 60 s lease), so route traffic
// delays events but never makes one time out.
const (
	defaultRouteTimeout   = 3000
	maxRouteTimeout       = 8000
	defaultRouteBody      = 64 << 10
	maxRouteBody          = 1 << 20
	maxRouteResponseBytes = 4 << 20 // the response document (result_write of a route call)
	maxRouteWaiters       = 3       // route calls queued for one plugin's instance; more get ErrRouteBusy
	routeExport           = "tari_route"
)

var routeMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// Route errors of ServeRoute and RouteAccess.
var (
	ErrNoRoute      = errors.New("plugin: no such route")
	ErrRouteTimeout = errors.New("plugin: route deadline exceeded")
	ErrRouteBusy    = errors.New("plugin: busy")
)

// validateRoutes checks the manifest's routes and fills in their defaults.
func (m *Manifest) validateRoutes() error {
	seen := map[string]bool{}
	for i := range m.Routes {
		r := &m.Routes[i]
		p := r.Path
		switch {
		case !strings.HasPrefix(p, "/"), strings.Contains(p, "//"), strings.Contains(p, "/../"), strings.HasSuffix(p, "/.."),
			strings.ContainsAny(p, "?#% \t\r\n\\"), strings.Contains(strings.TrimSuffix(p, "/*"), "*"), len(p) > 256:
			return fmt.Errorf("manifest: plugin %s: route path %q must start with '/', hold no '?', '#', '%%', '..' or spaces, and use '*' only as a final \"/*\"", m.ID, p)
		}
		if len(r.Methods) == 0 {
			r.Methods = []string{"GET"}
		}
		for j, meth := range r.Methods {
			meth = strings.ToUpper(meth)
			r.Methods[j] = meth
			if !slices.Contains(routeMethods, meth) {
				return fmt.Errorf("manifest: plugin %s: route %s: method %q is not one of %v", m.ID, p, meth, routeMethods)
			}
			key := meth + " " + p
			if seen[key] {
				return fmt.Errorf("manifest: plugin %s: route %s listed twice", m.ID, key)
			}
			seen[key] = true
		}
		switch {
		case r.Public && len(r.Roles) > 0:
			return fmt.Errorf("manifest: plugin %s: route %s is public and lists roles: choose one", m.ID, p)
		case !r.Public && len(r.Roles) == 0:
			return fmt.Errorf("manifest: plugin %s: route %s needs \"public\": true or the \"roles\" that may use it", m.ID, p)
		}
		for _, role := range r.Roles {
			if _, ok := core.ParseRole(role); !ok {
				return fmt.Errorf("manifest: plugin %s: route %s: unknown role %q (one of %v)", m.ID, p, role, core.AllRoles)
			}
		}
		if r.TimeoutMS <= 0 {
			r.TimeoutMS = defaultRouteTimeout
		}
		r.TimeoutMS = min(r.TimeoutMS, maxRouteTimeout)
		if r.MaxBodyBytes <= 0 {
			r.MaxBodyBytes = defaultRouteBody
		}
		r.MaxBodyBytes = min(r.MaxBodyBytes, maxRouteBody)
	}
	return nil
}

// match finds the route for method and path (below /plugins/{id}): an exact
// path first, else the longest "/*" prefix. HEAD is served by a GET route.
func (m *Manifest) match(method, path string) *Route {
	var best *Route
	for i := range m.Routes {
		r := &m.Routes[i]
		if !slices.Contains(r.Methods, method) && !(method == "HEAD" && slices.Contains(r.Methods, "GET")) {
			continue
		}
		if r.Path == path {
			return r
		}
		if prefix, ok := strings.CutSuffix(r.Path, "*"); ok && strings.HasPrefix(path, prefix) && (best == nil || len(r.Path) > len(best.Path)) {
			best = r
		}
	}
	return best
}

// checkRouteExport: a manifest with routes needs a module exporting
// tari_route (i32) -> i32; a module without routes may export it or not.
func checkRouteExport(c wazero.CompiledModule, m *Manifest) error {
	f, ok := c.ExportedFunctions()[routeExport]
	if !ok {
		if len(m.Routes) > 0 {
			return fmt.Errorf("manifest lists routes but the module does not export %s (build it with an SDK that has sdk.HandleRoute)", routeExport)
		}
		return nil
	}
	if p, r := f.ParamTypes(), f.ResultTypes(); len(p) != 1 || p[0] != api.ValueTypeI32 || len(r) != 1 || r[0] != api.ValueTypeI32 {
		return fmt.Errorf("%s must have the signature (i32) -> i32", routeExport)
	}
	return nil
}

// RouteAccess is what the HTTP layer checks before calling a route.
type RouteAccess struct {
	Pattern      string   // the manifest path that matched
	Public       bool     // no access token needed
	Roles        []string // all required unless Public
	MaxBodyBytes int64
	Timeout      time.Duration
}

// RouteRequest is the request document a route handler reads (event_read).
// The HTTP layer leaves out credentials: no Cookie, Authorization or access
// token header reaches a plugin.
type RouteRequest struct {
	Route   string            `json:"route"` // the manifest path that matched
	Method  string            `json:"method"`
	Path    string            `json:"path"` // below /plugins/{id}, starting with "/"
	Query   string            `json:"query,omitempty"`
	Header  map[string]string `json:"headers,omitempty"`
	Body    []byte            `json:"body,omitempty"`
	Address string            `json:"address,omitempty"` // the caller's address on a route with roles
	Roles   []string          `json:"roles,omitempty"`   // the caller's roles still held
	Nonce   string            `json:"nonce"`             // CSP nonce of this response, for <style nonce="…">
}

// RouteResponse is the response document a route handler writes
// (result_write).
type RouteResponse struct {
	Status int               `json:"status"`
	Header map[string]string `json:"headers,omitempty"`
	Body   []byte            `json:"body,omitempty"`
}

// activePlugin is the loaded plugin of id, or ErrNotFound.
func (mgr *Manager) activePlugin(id string) (*plugin, error) {
	mgr.mu.Lock()
	defer mgr.mu.Unlock()
	if e := mgr.entries[id]; e != nil && e.plugin != nil && !e.extra {
		return e.plugin, nil
	}
	return nil, ErrNotFound
}

// RouteAccess says how method path of plugin id is guarded: ErrNotFound when
// no such plugin is loaded, ErrNoRoute when it serves no such route.
func (mgr *Manager) RouteAccess(id, method, path string) (RouteAccess, error) {
	p, err := mgr.activePlugin(id)
	if err != nil {
		return RouteAccess{}, err
	}
	r := p.m.match(method, path)
	if r == nil {
		return RouteAccess{}, ErrNoRoute
	}
	return RouteAccess{Pattern: r.Path, Public: r.Public, Roles: slices.Clone(r.Roles), MaxBodyBytes: int64(r.MaxBodyBytes),
		Timeout: time.Duration(r.TimeoutMS) * time.Millisecond}, nil
}

// ServeRoute calls plugin id's route handler with req under the route's
// deadline (waiting for the instance counts). Errors: ErrNotFound,
// ErrNoRoute, ErrRouteBusy (the instance stayed taken, or too many calls
// wait for it), ErrRouteTimeout (the handler ran past the deadline and was
// stopped), or the handler's failure.
func (mgr *Manager) ServeRoute(ctx context.Context, id string, req RouteRequest) (RouteResponse, error) {
	p, err := mgr.activePlugin(id)
	if err != nil {
		return RouteResponse{}, err
	}
	r := p.m.match(req.Method, req.Path)
	if r == nil {
		return RouteResponse{}, ErrNoRoute
	}
	req.Route = r.Path
	doc, err := json.Marshal(req)
	if err != nil {
		return RouteResponse{}, err
	}
	out, err := p.serveRoute(ctx, doc, time.Duration(r.TimeoutMS)*time.Millisecond)
	if err != nil {
		return RouteResponse{}, err
	}
	resp, err := decodeRouteResponse(out)
	if err != nil {
		return RouteResponse{}, fmt.Errorf("plugin %s: bad route response document: %w", id, err)
	}
	if resp.Status < 200 || resp.Status > 599 {
		return RouteResponse{}, fmt.Errorf("plugin %s: route answered status %d (want 200-599)", id, resp.Status)
	}
	return resp, nil
}

// bodyKey ends a response document as the SDK writes it: …,"body":"<base64>"}
var bodyKey = []byte(`,"body":"`)

// decodeRouteResponse decodes a response document. When the body comes last
// (as the SDK writes it) it is base64-decoded directly and only the rest goes
// through encoding/json, whose validity scan of a large base64 string cost
// more than the guest's whole call (BenchmarkRouteCall/route-16KiB). Any
// other layout is decoded by encoding/json alone.
func decodeRouteResponse(doc []byte) (RouteResponse, error) {
	var resp RouteResponse
	if i := bytes.Index(doc, bodyKey); i > 0 && bytes.HasSuffix(doc, []byte(`"}`)) {
		b64 := doc[i+len(bodyKey) : len(doc)-2]
		if bytes.IndexAny(b64, `"\`) < 0 {
			body, err := base64.StdEncoding.AppendDecode(nil, b64)
			if err != nil {
				return resp, fmt.Errorf("body: %w", err)
			}
			head := append(bytes.Clone(doc[:i]), '}')
			if err := json.Unmarshal(head, &resp); err != nil {
				return resp, err
			}
			resp.Body = body
			return resp, nil
		}
	}
	err := json.Unmarshal(doc, &resp)
	return resp, err
}

// routeGate is a plugin's share of route traffic.
type routeGate struct {
	waiting atomic.Int32 // route calls waiting for or holding the instance

	// tari_route of instance inst, looked up once per instance: wazero
	// builds a new call engine (and stack) per ExportedFunction. Guarded by
	// the plugin's mu.
	inst api.Module
	fn   api.Function
}

// serveRoute runs one tari_route call on the plugin's warm instance (the one
// deliveries use, one call at a time). Its writes to state are refused: state
// commits with event acknowledgements only. A trap or timeout discards the
// instance like a delivery's would, but does not count towards disabling the
// plugin, so public traffic cannot switch a plugin's deliveries off.
func (p *plugin) serveRoute(ctx context.Context, doc []byte, timeout time.Duration) ([]byte, error) {
	if p.routes.waiting.Add(1) > maxRouteWaiters+1 {
		p.routes.waiting.Add(-1)
		return nil, ErrRouteBusy
	}
	defer p.routes.waiting.Add(-1)
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := lockCtx(cctx, &p.mu); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: plugin %s was handling an event for the whole %s deadline", ErrRouteBusy, p.m.ID, timeout)
		}
		return nil, err
	}
	defer p.mu.Unlock()
	if p.inst == nil {
		if err := p.instantiate(cctx); err != nil {
			return nil, p.routeFailure(cctx, timeout, err)
		}
	}
	if p.routes.inst != p.inst {
		p.routes.inst, p.routes.fn = p.inst, p.inst.ExportedFunction(routeExport)
	}
	f := p.routes.fn
	if f == nil {
		return nil, ErrNoRoute
	}
	p.event, p.result, p.resultErr, p.httpResp = doc, nil, nil, nil
	p.routeCall = true
	p.logBudget = maxLogPerCall
	p.lastErr.reset()
	if p.state != nil {
		p.stateCall = &stateCall{st: p.state, ctx: cctx, entries: map[string]*stateEntry{}, usage: -1, readOnly: true}
	}
	defer func() { p.event, p.httpResp, p.stateCall, p.stateResp, p.routeCall = nil, nil, nil, nil, false }()
	res, err := p.callGuest(cctx, f, uint64(len(doc)))
	if err != nil {
		p.discard()
		return nil, p.routeFailure(cctx, timeout, err)
	}
	if p.resultErr != nil {
		return nil, p.resultErr
	}
	switch uint32(res[0]) {
	case 0:
		return p.result, nil
	case 1:
		var r struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(p.result, &r) != nil || r.Error == "" {
			r.Error = "route handler failed without a message"
		}
		return nil, fmt.Errorf("plugin %s: %s", p.m.ID, r.Error)
	default:
		return nil, fmt.Errorf("plugin %s: %s returned unknown code %d", p.m.ID, routeExport, uint32(res[0]))
	}
}

// routeFailure describes a route call that killed the instance.
func (p *plugin) routeFailure(ctx context.Context, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		p.log.Warn("plugin route stopped at its deadline; instance replaced", "deadline", timeout)
		return fmt.Errorf("%w: plugin %s did not answer within %s", ErrRouteTimeout, p.m.ID, timeout)
	}
	err = p.describe(ctx, err)
	p.log.Error("plugin route crashed; instance replaced", "err", err)
	return err
}

// lockCtx locks mu, giving up when ctx is done first (the lock is then
// released as soon as it is obtained).
func lockCtx(ctx context.Context, mu *sync.Mutex) error {
	if mu.TryLock() {
		return nil
	}
	got := make(chan struct{})
	go func() { mu.Lock(); close(got) }()
	select {
	case <-got:
		return nil
	case <-ctx.Done():
		go func() { <-got; mu.Unlock() }()
		return ctx.Err()
	}
}

// routeResultLimit caps result_write: a route's response document may be a
// page, an event's result is only an error message.
func (p *plugin) routeResultLimit() uint32 {
	if p.routeCall {
		return maxRouteResponseBytes
	}
	return maxResultBytes
}
