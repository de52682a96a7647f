package sdk

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// serveRoute finds the handler by the manifest path the host says matched,
// gives it the whole request, and turns a missing handler into a 404 answer,
// a handler's error or panic into an error (the host's 502).
func TestServeRoute(t *testing.T) {
	routes = map[string]func(*RouteRequest) (*RouteResponse, error){}
	defer func() { routes = map[string]func(*RouteRequest) (*RouteResponse, error){} }()
	HandleRoute("/files/*", func(r *RouteRequest) (*RouteResponse, error) {
		return Respond(200, "text/plain", []byte(r.Method+" "+r.Path+" "+r.Query+" "+string(r.Body)+" "+r.Nonce)), nil
	})
	HandleRoute("/fail", func(*RouteRequest) (*RouteResponse, error) { return nil, errors.New("nope") })
	HandleRoute("/panic", func(*RouteRequest) (*RouteResponse, error) { panic("boom") })
	HandleRoute("/nil", func(*RouteRequest) (*RouteResponse, error) { return nil, nil })

	req, _ := json.Marshal(RouteRequest{Route: "/files/*", Method: "POST", Path: "/files/a.txt", Query: "x=1", Body: []byte("hi"), Nonce: "n"})
	resp, err := serveRoute(req)
	if err != nil || string(resp.Body) != "POST /files/a.txt x=1 hi n" {
		t.Fatalf("%+v %v", resp, err)
	}
	resp, err = serveRoute([]byte(`{"route":"/other","method":"GET","path":"/other"}`))
	if err != nil || resp.Status != 404 {
		t.Fatalf("unregistered route: %+v %v", resp, err)
	}
	for route, want := range map[string]string{"/fail": "nope", "/panic": "panicked: boom", "/nil": "no response"} {
		if _, err := serveRoute([]byte(`{"route":"` + route + `"}`)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", route, err, want)
		}
	}
	if _, err := serveRoute([]byte(`{`)); err == nil {
		t.Error("a broken request document was served")
	}
}

// The hand-written response document is what encoding/json would write.
func TestResponseDocument(t *testing.T) {
	r := &RouteResponse{Status: 201, Header: map[string]string{"Content-Type": "image/svg+xml", "X": `"q"\`}, Body: []byte("<svg/>\x00\xff")}
	doc, err := r.MarshalDocument()
	if err != nil {
		t.Fatal(err)
	}
	var back RouteResponse
	if err := json.Unmarshal(doc, &back); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	if back.Status != 201 || back.Header["X"] != `"q"\` || string(back.Body) != string(r.Body) {
		t.Fatalf("round trip: %+v", back)
	}
	if !strings.HasSuffix(string(doc), `"body":"`+base64.StdEncoding.EncodeToString(r.Body)+`"}`) {
		t.Fatalf("body not last: %s", doc)
	}
}
