// Package sdk is how plugins for the Tari payment server are written in Go.
// It hides the WebAssembly ABI (plugins/ABI.md): a plugin is a `main` package
// that registers one handler per event type in init, and is built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
//
// Handlers get typed events; returning an error (or panicking) makes the
// delivery fail, and the server retries it with backoff. Config, logging and
// HTTP go through the host, which enforces the plugin's manifest: a plugin
// has no filesystem, no environment and no sockets of its own.
//
// See sdk/README.md for a walk-through.
package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"
)

// Result codes of tari_handle.
const (
	codeOK      = 0
	codeError   = 1
	codeSkipped = 2
)

// ErrSkip tells the server the plugin deliberately ignored the event; it is
// acknowledged like a success.
var ErrSkip = errors.New("skipped")

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps an error that retrying cannot fix (say the remote answered
// 404): the server parks the delivery as failed at once instead of retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

var (
	handlers = map[string]func(raw []byte) error{}
	fallback func(Event) error
)

// envelope decodes an event and its typed payload in one pass: JSON work
// dominates a plugin's per-event cost, and wasm runs it several times slower
// than native code.
type envelope[T any] struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      T         `json:"data"`
}

func on[T any](typ string, fn func(Event, T) error) {
	handlers[typ] = func(raw []byte) error {
		var env envelope[T]
		if err := json.Unmarshal(raw, &env); err != nil {
			return Permanent(fmt.Errorf("decode %s event: %w", typ, err))
		}
		return fn(Event{ID: env.ID, Type: env.Type, CreatedAt: env.CreatedAt, Raw: raw}, env.Data)
	}
}

// OnNewOrder registers the NewOrder handler. Call the On* functions from init.
func OnNewOrder(fn func(Event, OrderEvent) error) { on(NewOrder, fn) }

// OnOrderPaid registers the OrderPaid handler.
func OnOrderPaid(fn func(Event, OrderEvent) error) { on(OrderPaid, fn) }

// OnOrderAnnulled registers the OrderAnnulled handler (cancelled or expired).
func OnOrderAnnulled(fn func(Event, OrderAnnulledEvent) error) { on(OrderAnnulled, fn) }

// OnOrderModified registers the OrderModified handler.
func OnOrderModified(fn func(Event, OrderModifiedEvent) error) { on(OrderModified, fn) }

// OnOrderClaimed registers the OrderClaimed handler.
func OnOrderClaimed(fn func(Event, OrderClaimedEvent) error) { on(OrderClaimed, fn) }

// OnPaymentReceived registers the PaymentReceived handler.
func OnPaymentReceived(fn func(Event, PaymentEvent) error) { on(PaymentReceived, fn) }

// OnPaymentConfirmed registers the PaymentConfirmed handler.
func OnPaymentConfirmed(fn func(Event, PaymentEvent) error) { on(PaymentConfirmed, fn) }

// OnEvent registers a handler for every event type without a typed handler.
func OnEvent(fn func(Event) error) { fallback = fn }

type result struct {
	Error     string `json:"error,omitempty"`
	Permanent bool   `json:"permanent,omitempty"`
}

// handle runs one event through its handler; see tari_handle in ABI.md.
func handle(n uint32) uint32 {
	raw := readEvent(n)
	err := dispatch(raw)
	switch {
	case err == nil:
		return codeOK
	case errors.Is(err, ErrSkip):
		return codeSkipped
	}
	var p permanent
	b, _ := json.Marshal(result{Error: err.Error(), Permanent: errors.As(err, &p)})
	writeResult(b)
	return codeError
}

// dispatch decodes the envelope and calls the handler; a panic becomes an
// error, so a bug in a handler is a failed delivery, not a crashed plugin.
func dispatch(raw []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			stack := string(debug.Stack())
			if len(stack) > 2000 {
				stack = stack[:2000]
			}
			Log(LevelError, fmt.Sprintf("panic: %v\n%s", r, stack))
			err = fmt.Errorf("plugin panicked: %v", r)
		}
	}()
	if h := handlers[peekType(raw)]; h != nil {
		return h(raw)
	}
	if fallback == nil {
		return ErrSkip
	}
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Permanent(fmt.Errorf("decode event: %w", err))
	}
	ev.Raw = raw
	if h := handlers[ev.Type]; h != nil {
		return h(raw) // peekType missed: a differently laid-out document
	}
	return fallback(ev)
}

// peekType finds the event type without decoding the document; the host
// writes it as {"id":"…","type":"…",…} (ABI.md). "" when not found.
func peekType(raw []byte) string {
	const key = `"type":"`
	i := bytes.Index(raw, []byte(key))
	if i < 0 {
		return ""
	}
	rest := raw[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// Log levels.
const (
	LevelDebug = 0
	LevelInfo  = 1
	LevelWarn  = 2
	LevelError = 3
)

// Log writes a line to the server log, tagged with the plugin id. Never log
// secrets: the server log is not a safe place for them.
func Log(level int, msg string) { logHost(uint32(level), msg) }

// Debugf logs at debug level.
func Debugf(format string, a ...any) { Log(LevelDebug, fmt.Sprintf(format, a...)) }

// Infof logs at info level.
func Infof(format string, a ...any) { Log(LevelInfo, fmt.Sprintf(format, a...)) }

// Warnf logs at warning level.
func Warnf(format string, a ...any) { Log(LevelWarn, fmt.Sprintf(format, a...)) }

// Errorf logs at error level.
func Errorf(format string, a ...any) { Log(LevelError, fmt.Sprintf(format, a...)) }

// Config returns the plugin setting key, read by the server from the
// environment variable TPG_PLUGIN_<PLUGIN_ID>_<KEY> (upper case, '-' as '_').
// A key that starts with "TPG_" names a whole environment variable instead;
// the server answers only if the plugin's manifest lists it under "env" and the
// plugin ships with the server.
func Config(key string) (string, bool) { return configGet(key) }

// ConfigOr returns Config(key), or def when it is unset or empty.
func ConfigOr(key, def string) string {
	if v, ok := Config(key); ok && v != "" {
		return v
	}
	return def
}

// ConfigBool reads a boolean setting: 1/0, true/false, yes/no, on/off in any
// case; anything else (or unset) is def.
func ConfigBool(key string, def bool) bool {
	v, _ := Config(key)
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	return def
}

// Request is an outgoing HTTP request. The host sends it only to hosts the
// manifest grants, under the event's deadline.
type Request struct {
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Header map[string]string `json:"headers,omitempty"`
	Body   []byte            `json:"body,omitempty"`
}

// Response is the answer to a Request. The body is capped by the host.
type Response struct {
	Status int               `json:"status"`
	Header map[string]string `json:"headers"`
	Body   []byte            `json:"body"`
	Error  string            `json:"error,omitempty"`
}

// Do sends req through the host. An error means no HTTP answer was received
// (host not granted, timeout, connection refused, oversized response); any
// HTTP status is returned as a Response.
func Do(req Request) (*Response, error) {
	if req.Method == "" {
		req.Method = "GET"
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var resp Response
	if err := json.Unmarshal(httpRoundTrip(b), &resp); err != nil {
		return nil, fmt.Errorf("http: bad host answer: %w", err)
	}
	if resp.Error != "" {
		return nil, fmt.Errorf("http %s %s: %s", req.Method, req.URL, resp.Error)
	}
	return &resp, nil
}

// Get is Do with method GET.
func Get(url string, header map[string]string) (*Response, error) {
	return Do(Request{Method: "GET", URL: url, Header: header})
}

// Post is Do with method POST.
func Post(url string, header map[string]string, body []byte) (*Response, error) {
	return Do(Request{Method: "POST", URL: url, Header: header, Body: body})
}

// OK reports a 2xx status.
func (r *Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Retryable reports statuses worth retrying later: 408, 429 and 5xx.
func (r *Response) Retryable() bool { return r.Status == 408 || r.Status == 429 || r.Status >= 500 }
