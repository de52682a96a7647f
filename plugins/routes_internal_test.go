package plugins

import (
	"context"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
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
