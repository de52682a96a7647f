package plugins_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/plugins"
)

func pagesManifest() map[string]any {
	return map[string]any{
		"id": "pages", "version": "1", "abi": 1, "events": []string{"*"}, "limits": map[string]any{"memory_pages": 1024},
		"routes": []map[string]any{
			{"path": "/echo", "methods": []string{"GET", "POST"}, "public": true},
			{"path": "/state", "roles": []string{"read_all"}},
			{"path": "/slow", "public": true, "timeout_ms": 300},
			{"path": "/big", "public": true},
			{"path": "/fail", "public": true},
			{"path": "/panic", "public": true},
		},
	}
}

// A plugin's routes run on its warm instance through tari_route: the request
// document arrives whole, state reads see what its events committed and
// writes are refused, a handler past its deadline is stopped (ErrRouteTimeout)
// without counting as a crash, calls beyond the waiting limit are turned away
// at once (ErrRouteBusy), an oversized answer or a handler error is a failure,
// and deliveries go on throughout.
func TestPluginRoutes(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		installPlugin(t, dir, buildOnce(t, "plugins/testdata/pages"), pagesManifest())
		cfg := baseConfig(db, envMap{}, &logSink{})
		cfg.Dir, cfg.NoDefaults, cfg.ReloadInterval = dir, true, -1
		mgr := start(t, cfg)

		if _, err := mgr.RouteAccess("nosuch", "GET", "/echo"); !errors.Is(err, plugins.ErrNotFound) {
			t.Fatalf("unknown plugin: %v", err)
		}
		if _, err := mgr.RouteAccess("pages", "GET", "/nope"); !errors.Is(err, plugins.ErrNoRoute) {
			t.Fatalf("unknown route: %v", err)
		}
		if _, err := mgr.RouteAccess("pages", "DELETE", "/echo"); !errors.Is(err, plugins.ErrNoRoute) {
			t.Fatalf("unlisted method: %v", err)
		}
		acc, err := mgr.RouteAccess("pages", "HEAD", "/state")
		if err != nil || acc.Public || len(acc.Roles) != 1 || acc.Roles[0] != "read_all" || acc.MaxBodyBytes != 64<<10 || acc.Timeout != 3*time.Second {
			t.Fatalf("access of /state = %+v, %v", acc, err)
		}

		resp, err := mgr.ServeRoute(ctx, "pages", plugins.RouteRequest{Method: "POST", Path: "/echo", Query: "a=1",
			Header: map[string]string{"X-Test": "yes"}, Body: []byte("hello"), Address: "14addr", Roles: []string{"read_all"}, Nonce: "n0nce"})
		if err != nil {
			t.Fatal(err)
		}
		var echo plugins.RouteRequest
		if err := json.Unmarshal(resp.Body, &echo); err != nil {
			t.Fatalf("echo %s: %v", resp.Body, err)
		}
		if resp.Status != 200 || echo.Route != "/echo" || echo.Method != "POST" || echo.Query != "a=1" || string(echo.Body) != "hello" ||
			echo.Header["X-Test"] != "yes" || echo.Address != "14addr" || echo.Nonce != "n0nce" {
			t.Fatalf("echo = %d %+v", resp.Status, echo)
		}

		const n = 3
		for i := 0; i < n; i++ {
			appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("70"+string(rune('0'+i)), core.OrderPaid)})
		}
		mgr.Notify()
		waitFor(t, "events acknowledged", 60*time.Second, func() bool { p := pluginInfo(t, mgr, "pages"); return p.Pending == 0 && p.Position > 0 })
		resp, err = mgr.ServeRoute(ctx, "pages", plugins.RouteRequest{Method: "GET", Path: "/state"})
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Events     int64  `json:"events"`
			WriteError string `json:"write_error"`
		}
		json.Unmarshal(resp.Body, &st)
		if st.Events != n || !strings.Contains(st.WriteError, "may read state but not write it") {
			t.Fatalf("/state = %s", resp.Body)
		}
		if v, _ := stateValue(t, db, "pages", "events"); v != "3" {
			t.Fatalf("a route's write reached the database: events = %q", v)
		}

		start := time.Now()
		_, err = mgr.ServeRoute(ctx, "pages", plugins.RouteRequest{Method: "GET", Path: "/slow"})
		if took := time.Since(start); !errors.Is(err, plugins.ErrRouteTimeout) || took > 5*time.Second {
			t.Fatalf("/slow: %v after %v, want ErrRouteTimeout soon after 300ms", err, took)
		}
		if _, err := mgr.ServeRoute(ctx, "pages", plugins.RouteRequest{Method: "GET", Path: "/echo"}); err != nil {
			t.Fatalf("a call after a stopped one: %v", err)
		}
		if c := pluginInfo(t, mgr, "pages").ConsecutiveCrashes; c != 0 {
			t.Fatalf("a route timeout counted as a delivery crash: %d", c)
		}

		// Six slow calls at once: four are let in to wait for the instance,
		// two are refused at once; of those let in, one runs to its deadline
		// and the rest give up waiting at theirs.
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[string]int{}
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := mgr.ServeRoute(ctx, "pages", plugins.RouteRequest{Method: "GET", Path: "/slow"})
				kind := "other: " + errString(err)
				switch {
				case errors.Is(err, plugins.ErrRouteTimeout):
					kind = "timeout"
				case errors.Is(err, plugins.ErrRouteBusy):
					kind = "busy"
				}
				mu.Lock()
				counts[kind]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if counts["timeout"] < 1 || counts["busy"] < 2 || counts["timeout"]+counts["busy"] != 6 {
			t.Fatalf("six slow calls at once: %v", counts)
		}

		if _, err := mgr.ServeRoute(ctx, "pages", plugins.RouteRequest{Method: "GET", Path: "/big", Query: "size=5000000"}); err == nil ||
			!strings.Contains(err.Error(), "over the 4194304-byte limit") {
			t.Fatalf("a 5 MB answer: %v", err)
		}
		if r, err := mgr.ServeRoute(ctx, "pages", plugins.RouteRequest{Method: "GET", Path: "/big", Query: "size=1000000"}); err != nil || len(r.Body) != 1000000 {
			t.Fatalf("a 1 MB answer: %d bytes, %v", len(r.Body), err)
		}
		for _, p := range []string{"/fail", "/panic"} {
			_, err := mgr.ServeRoute(ctx, "pages", plugins.RouteRequest{Method: "GET", Path: p})
			if err == nil || errors.Is(err, plugins.ErrRouteTimeout) || errors.Is(err, plugins.ErrRouteBusy) {
				t.Fatalf("%s: %v", p, err)
			}
		}

		// Deliveries were never stopped by the route traffic.
		appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("799", core.OrderPaid)})
		mgr.Notify()
		waitFor(t, "the last event counted", 60*time.Second, func() bool { v, _ := stateValue(t, db, "pages", "events"); return v == "4" })
		if p := pluginInfo(t, mgr, "pages"); p.State != plugins.StateActive || p.ConsecutiveCrashes != 0 {
			t.Fatalf("plugin after route traffic: %+v", p)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}
