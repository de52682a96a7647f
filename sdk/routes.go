package sdk

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
)

// Routes: pages and endpoints a plugin serves under /plugins/{id}/ (the
// manifest's "routes" list says which paths, methods and who may call them;
// plugins/ABI.md "Routes"). The server checks the caller's access token and
// roles before the handler runs, strips credentials (Cookie, Authorization)
// from the request, drops any Set-Cookie from the response and adds a strict
// Content-Security-Policy: no script at all, styles only in <style> elements
// carrying the request's Nonce, images from the server itself or data: URLs.
// Inline SVG (presentation attributes such as fill="…", not style="…") needs
// nothing more.
//
// A route handler may read plugin state but not write it: state commits with
// event acknowledgements, so a page view can never change what an event
// counted.

// RouteRequest is one HTTP request to a plugin route.
type RouteRequest struct {
	Route   string            `json:"route"`             // the manifest path that matched ("/", "/export/*")
	Method  string            `json:"method"`            // GET, HEAD (served by GET routes), POST, …
	Path    string            `json:"path"`              // below /plugins/{id}, starting with "/"
	Query   string            `json:"query,omitempty"`   // raw; url.ParseQuery decodes it (not done here: net/url adds ~110 KB to every plugin)
	Header  map[string]string `json:"headers,omitempty"` // without Cookie and Authorization
	Body    []byte            `json:"body,omitempty"`
	Address string            `json:"address,omitempty"` // the caller, on a route with roles
	Roles   []string          `json:"roles,omitempty"`   // the caller's roles
	Nonce   string            `json:"nonce"`             // for <style nonce="…"> in an HTML answer
}

// RouteResponse is the answer. Status 0 means 200; the server sends at most
// the headers Content-Type, Content-Disposition, Cache-Control, ETag,
// Last-Modified, Content-Language and Location (a path under the plugin's own
// /plugins/{id}/), and its own security headers.
type RouteResponse struct {
	Status int               `json:"status"`
	Header map[string]string `json:"headers,omitempty"`
	Body   []byte            `json:"body,omitempty"`
}

// Respond is a response with a content type.
func Respond(status int, contentType string, body []byte) *RouteResponse {
	return &RouteResponse{Status: status, Header: map[string]string{"Content-Type": contentType}, Body: body}
}

// HTML is a text/html response.
func HTML(status int, page string) *RouteResponse {
	return Respond(status, "text/html; charset=utf-8", []byte(page))
}

// JSON is an application/json response of v.
func JSON(status int, v any) (*RouteResponse, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Respond(status, "application/json", b), nil
}

var routes = map[string]func(*RouteRequest) (*RouteResponse, error){}

// HandleRoute registers the handler of a manifest route, by its path exactly
// as the manifest lists it ("/", "/totals.json", "/export/*"). Call it from
// init. A handler's error (or panic) answers 502 to the caller and is logged
// by the server with the plugin's id.
func HandleRoute(path string, fn func(*RouteRequest) (*RouteResponse, error)) { routes[path] = fn }

// route serves one tari_route call: the request document of n bytes is read
// like an event, the response written like a result (ABI.md "Routes").
func route(n uint32) uint32 {
	resp, err := serveRoute(readEvent(n))
	if err == nil {
		if resp.Status == 0 {
			resp.Status = 200
		}
		var b []byte
		if b, err = resp.MarshalDocument(); err == nil {
			writeResult(b)
			return codeOK
		}
	}
	b, _ := json.Marshal(result{Error: err.Error()})
	writeResult(b)
	return codeError
}

// MarshalDocument is the response document of ABI.md "Routes" (what a
// handler's answer becomes), encoded by hand: encoding/json's reflection and
// its copy of a large body cost several times more than the base64 itself
// inside a WebAssembly guest.
func (r *RouteResponse) MarshalDocument() ([]byte, error) {
	h, err := json.Marshal(r.Header)
	if err != nil {
		return nil, err
	}
	n := base64.StdEncoding.EncodedLen(len(r.Body))
	b := make([]byte, 0, len(h)+n+48)
	b = append(b, `{"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"headers":`...)
	b = append(b, h...)
	b = append(b, `,"body":"`...)
	b = base64.StdEncoding.AppendEncode(b, r.Body)
	return append(b, `"}`...), nil
}

func serveRoute(raw []byte) (resp *RouteResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			stack := string(debug.Stack())
			if len(stack) > 2000 {
				stack = stack[:2000]
			}
			Log(LevelError, fmt.Sprintf("panic: %v\n%s", r, stack))
			resp, err = nil, fmt.Errorf("route handler panicked: %v", r)
		}
	}()
	var req RouteRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, fmt.Errorf("decode route request: %w", err)
	}
	h := routes[req.Route]
	if h == nil {
		return &RouteResponse{Status: 404, Header: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
			Body: []byte("no handler for route " + req.Route + "\n")}, nil
	}
	resp, err = h(&req)
	if err == nil && resp == nil {
		err = errors.New("route handler returned no response")
	}
	return resp, err
}
