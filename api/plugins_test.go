package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// enabled records EnablePlugin calls per fake (fakePlugins lives in
// harness_test.go; the method is declared here).
var enabled sync.Map // *fakePlugins → *[]string

// EnablePlugin makes the test PluginAdmin a PluginEnabler: "webhook" exists.
func (f *fakePlugins) EnablePlugin(_ context.Context, id string) (any, error) {
	if id != "webhook" {
		return nil, fmt.Errorf("plugins: %w: %s", ErrPluginNotFound, id)
	}
	v, _ := enabled.LoadOrStore(f, &[]string{})
	f.mu.Lock()
	*v.(*[]string) = append(*v.(*[]string), id)
	f.mu.Unlock()
	return map[string]any{"id": "webhook", "state": "active", "consecutive_crashes": 0}, nil
}

func enabledIDs(f *fakePlugins) []string {
	v, ok := enabled.Load(f)
	if !ok {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{}, *v.(*[]string)...)
}

// notEnabler is a PluginAdmin without EnablePlugin (an older plugin host).
type notEnabler struct{ PluginAdmin }

func TestPluginEnableRoute(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		_, w := h.user("write")
		r := h.do("POST", "/api/plugins/webhook/enable", nil, w)
		var got map[string]any
		r.JSON(t, &got)
		if r.Status != 200 || got["id"] != "webhook" || got["state"] != "active" || len(enabledIDs(h.plug)) != 1 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/api/plugins/webhook/enable", nil, h.adminT); r.Status != 200 {
			t.Fatalf("super_admin: %d %s", r.Status, r.Body)
		}
		r = h.do("POST", "/api/plugins/nope/enable", nil, w)
		if r.Status != 404 || !strings.Contains(r.Error(), "plugin nope does not exist") {
			t.Fatalf("unknown id: %d %s", r.Status, r.Body)
		}
		for _, bad := range []string{"Webhook", "-x", "a_b", "%00", "%2F..%2Fx", strings.Repeat("a", 64), "%F0%9F%99%82"} {
			r := h.c.Do("POST", "/api/plugins/"+bad+"/enable", nil, map[string]string{headerAccessToken: w})
			if r.Status != 400 || r.Error() == "" {
				t.Errorf("id %q: %d %s", bad, r.Status, r.Body)
			}
		}
		_, ro := h.user("read_all")
		_, plain := h.user("user")
		for _, tok := range []string{"", ro, plain} {
			if r := h.do("POST", "/api/plugins/webhook/enable", nil, tok); r.Status != 401 && r.Status != 403 {
				t.Errorf("token %.10q: %d %s", tok, r.Status, r.Body)
			}
		}
		if n := len(enabledIDs(h.plug)); n != 2 {
			t.Fatalf("%d EnablePlugin calls, want 2", n)
		}
		// The plugin host does not support it: 501, like the other plugin
		// routes without a plugin host.
		h.srv.plugins = notEnabler{h.plug}
		if r := h.do("POST", "/api/plugins/webhook/enable", nil, w); r.Status != http.StatusNotImplemented {
			t.Fatalf("without PluginEnabler: %d %s", r.Status, r.Body)
		}
	})
}

// FuzzPluginEnableID: hostile plugin ids in the path never reach a 5xx.
func FuzzPluginEnableID(f *testing.F) {
	fs := newFuzzServer(f, nil)
	for _, s := range []string{"webhook", "nope", "", "\x00", "../x", "a/b", strings.Repeat("z", 70), "🙂", "UPPER", "a%2Fb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		path := "/api/plugins/" + id + "/enable"
		fs.check(t, path, fs.serve("POST", path, "/api/plugins/"+url.PathEscape(id)+"/enable", "", nil, http.Header{headerAccessToken: {fs.adminT}}))
	})
}

func TestPluginRemoveAndReloadRoutes(t *testing.T) {
	eachDB(t, nil, func(t *testing.T, h *harness) {
		_, w := h.user("write")
		if r := h.do("DELETE", "/api/plugins/gone", nil, w); r.Status != 200 || !strings.Contains(string(r.Body), "removed for good") {
			t.Fatalf("removed plugin: %d %s", r.Status, r.Body)
		}
		if r := h.do("DELETE", "/api/plugins/webhook", nil, w); r.Status != http.StatusConflict || !strings.Contains(r.Error(), "still installed") {
			t.Fatalf("installed plugin: %d %s", r.Status, r.Body)
		}
		if r := h.do("DELETE", "/api/plugins/nope", nil, w); r.Status != 404 {
			t.Fatalf("unknown plugin: %d %s", r.Status, r.Body)
		}
		if r := h.c.Do("DELETE", "/api/plugins/Bad_Id", nil, map[string]string{headerAccessToken: w}); r.Status != 400 {
			t.Fatalf("bad id: %d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/api/plugins/reload", nil, w); r.Status != 200 || !strings.Contains(string(r.Body), `"webhook"`) {
			t.Fatalf("reload: %d %s", r.Status, r.Body)
		}
		_, ro := h.user("read_all")
		for _, tok := range []string{"", ro} {
			if r := h.do("POST", "/api/plugins/reload", nil, tok); r.Status != 401 && r.Status != 403 {
				t.Errorf("reload with token %.10q: %d", tok, r.Status)
			}
			if r := h.do("DELETE", "/api/plugins/gone", nil, tok); r.Status != 401 && r.Status != 403 {
				t.Errorf("remove with token %.10q: %d", tok, r.Status)
			}
		}
		h.srv.plugins = notEnabler{h.plug}
		if r := h.do("POST", "/api/plugins/reload", nil, w); r.Status != http.StatusNotImplemented {
			t.Fatalf("without PluginReloader: %d %s", r.Status, r.Body)
		}
	})
}
