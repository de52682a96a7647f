package plugins

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/internal/wasmbuild"
	"github.com/tari-payment/tps/sdk"
)

// Manifest routes are checked when loaded: a route that would be public by
// accident, an unknown role or method, a path that is not one clean path, a
// duplicate; good routes get their defaults and caps.
func TestRouteManifestValidation(t *testing.T) {
	bad := map[string]Route{
		"needs \"public\": true or the \"roles\"": {Path: "/"},
		"is public and lists roles":               {Path: "/", Public: true, Roles: []string{"read_all"}},
		"unknown role \"admin\"":                  {Path: "/", Roles: []string{"admin"}},
		"method \"TRACE\"":                        {Path: "/", Public: true, Methods: []string{"TRACE"}},
		"must start with '/'":                     {Path: "x", Public: true},
	}
	for _, p := range []string{"/a/../b", "/a//b", "/a*", "/*/b", "/a?b", "/a b", "/%2e%2e"} {
		bad["route path \""+p] = Route{Path: p, Public: true}
	}
	for want, r := range bad {
		m := &Manifest{ID: "p", ABI: 1, Events: []string{"*"}, Routes: []Route{r}}
		if err := m.validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("route %+v: error %v, want it to say %q", r, err, want)
		}
	}
	m := &Manifest{ID: "p", ABI: 1, Events: []string{"*"}, Routes: []Route{{Path: "/a", Public: true}, {Path: "/a", Methods: []string{"get"}, Public: true}}}
	if err := m.validate(); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("duplicate route: %v", err)
	}
	m = &Manifest{ID: "p", ABI: 1, Events: []string{"*"}, Routes: []Route{
		{Path: "/", Roles: []string{"read_all"}},
		{Path: "/x/*", Public: true, Methods: []string{"post"}, TimeoutMS: 99999, MaxBodyBytes: 10 << 20},
		{Path: "/x/deep/*", Public: true, Methods: []string{"POST"}},
	}}
	if err := m.validate(); err != nil {
		t.Fatal(err)
	}
	r := m.Routes[1]
	if r.Methods[0] != "POST" || r.TimeoutMS != maxRouteTimeout || r.MaxBodyBytes != maxRouteBody {
		t.Fatalf("caps not applied: %+v", r)
	}
	if d := m.Routes[0]; d.Methods[0] != "GET" || d.TimeoutMS != defaultRouteTimeout || d.MaxBodyBytes != defaultRouteBody {
		t.Fatalf("defaults not applied: %+v", d)
	}
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/", "/"}, {"HEAD", "/", "/"}, {"POST", "/", ""}, {"GET", "/index.html", ""},
		{"POST", "/x/", "/x/*"}, {"POST", "/x/a.csv", "/x/*"}, {"POST", "/x/deep/a", "/x/deep/*"}, {"POST", "/x", ""}, {"GET", "/x/a", ""},
	} {
		got := ""
		if r := m.match(c.method, c.path); r != nil {
			got = r.Path
		}
		if got != c.want {
			t.Errorf("%s %s matched %q, want %q", c.method, c.path, got, c.want)
		}
	}
}

// The tari_route export is optional: a module without it (any plugin built
// before routes existed) loads as before unless its manifest lists routes.
func TestRouteExportOptional(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	c, err := rt.CompileModule(ctx, minimalPlugin(false, false))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkABI(c); err != nil {
		t.Fatal(err)
	}
	if err := checkRouteExport(c, &Manifest{ID: "old"}); err != nil {
		t.Fatalf("a module without routes and without %s: %v", routeExport, err)
	}
	err = checkRouteExport(c, &Manifest{ID: "old", Routes: []Route{{Path: "/", Public: true}}})
	if err == nil || !strings.Contains(err.Error(), "does not export tari_route") {
		t.Fatalf("a manifest with routes on a module without %s: %v", routeExport, err)
	}
}

// BenchmarkRouteCall measures one route call on a warm instance (request
// document in, tari_route, the SDK's dispatch, response document out and
// decoded), against one skipped event delivered to the same instance: the
// least a call into the guest costs.
func BenchmarkRouteCall(b *testing.B) {
	root := wasmbuild.RepoRoot()
	path := filepath.Join(b.TempDir(), "pages.wasm")
	if err := wasmbuild.Build(context.Background(), root, filepath.Join(root, "plugins/testdata/pages"), path); err != nil {
		b.Fatal(err)
	}
	code, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	m := &Manifest{ID: "pages", Version: "1", ABI: 1, Events: []string{"*"}, Routes: []Route{{Path: "/ok", Public: true}, {Path: "/big", Public: true}}}
	if err := m.validate(); err != nil {
		b.Fatal(err)
	}
	p := &plugin{m: m, log: slog.New(slog.NewTextHandler(io.Discard, nil)), timeout: 10 * time.Second, client: http.DefaultClient,
		config: func(string) (string, bool) { return "", false }}
	ctx := context.Background()
	cache := wazero.NewCompilationCache()
	defer cache.Close(ctx)
	if err := p.compile(ctx, code, cache); err != nil {
		b.Fatal(err)
	}
	defer p.close()
	mgr := &Manager{entries: map[string]*entry{"pages": {plugin: p}}}
	call := func(b *testing.B, req RouteRequest, size int) {
		for b.Loop() {
			resp, err := mgr.ServeRoute(ctx, "pages", req)
			if err != nil || len(resp.Body) != size {
				b.Fatalf("%d bytes, %v", len(resp.Body), err)
			}
		}
	}
	b.Run("route-ok", func(b *testing.B) {
		call(b, RouteRequest{Method: "GET", Path: "/ok", Header: map[string]string{"Accept": "text/html", "User-Agent": "bench"}, Nonce: "n"}, 2)
	})
	b.Run("route-16KiB", func(b *testing.B) {
		call(b, RouteRequest{Method: "GET", Path: "/big", Query: "size=16384", Nonce: "n"}, 16384)
	})
	ev := core.Event{ID: "1", Type: core.EventNewOrder, CreatedAt: time.Now(), Payload: []byte(`{"order":{"order_id":"1"}}`)}
	b.Run("event-skipped", func(b *testing.B) {
		for b.Loop() {
			if err := p.Deliver(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The SDK's request and response types are the host's documents: the same
// JSON field names and types, so neither side silently drops a field.
func TestRouteDocumentsMatchSDK(t *testing.T) {
	for _, pair := range [][2]any{{RouteRequest{}, sdk.RouteRequest{}}, {RouteResponse{}, sdk.RouteResponse{}}} {
		host, guest := jsonFields(reflect.TypeOf(pair[0])), jsonFields(reflect.TypeOf(pair[1]))
		if !reflect.DeepEqual(host, guest) {
			t.Errorf("%T fields %v, SDK %T fields %v", pair[0], host, pair[1], guest)
		}
	}
}

func jsonFields(t reflect.Type) map[string]string {
	out := map[string]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out[name] = f.Type.String()
	}
	return out
}

// A response document decodes the same whether it has the SDK's layout
// (body last, decoded directly) or any other (encoding/json alone).
func TestDecodeRouteResponse(t *testing.T) {
	want := RouteResponse{Status: 201, Header: map[string]string{"Content-Type": "text/csv", "body": `,"body":"x`}, Body: []byte("a,b\n1,2\n")}
	sdkDoc, err := (&sdk.RouteResponse{Status: want.Status, Header: want.Header, Body: want.Body}).MarshalDocument()
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(want)
	bodyFirst := []byte(`{"body":"YSxiCjEsMgo=","status":201,"headers":{"Content-Type":"text/csv","body":",\"body\":\"x"}}`)
	for name, doc := range map[string][]byte{"sdk": sdkDoc, "encoding/json": plain, "body first": bodyFirst} {
		got, err := decodeRouteResponse(doc)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s document %s: %+v, %v", name, doc, got, err)
		}
	}
	for _, bad := range []string{`{"status":200,"body":"!!!"}`, `{"status":200,"headers":{,"body":"QQ=="}`, `{"status":`} {
		if _, err := decodeRouteResponse([]byte(bad)); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}
