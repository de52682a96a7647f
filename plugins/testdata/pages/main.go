// Command pages is a test plugin serving routes (plugins/ABI.md "Routes").
// Its OrderPaid events add one to the state key "events" (other events are
// skipped: the benchmark's baseline); its routes are:
//
//	/ok         answers "ok" (the benchmark)
//	/echo       answers the request document it was given, as JSON, and
//	            tries to set a cookie and loosen the CSP (both must be dropped)
//	/state      answers the committed "events" count, then tries to write
//	            state and reports the refusal
//	/slow       never returns (the host must stop it at the route deadline)
//	/big        answers SIZE bytes (query size=N)
//	/fail       returns an error
//	/panic      panics
//	/redirect   redirects to ?to=…
package main

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/tari-payment/tps/sdk"
)

func init() {
	sdk.OnOrderPaid(func(sdk.Event, sdk.OrderEvent) error {
		_, err := sdk.StateAdd("events", 1)
		return err
	})
	sdk.HandleRoute("/ok", func(*sdk.RouteRequest) (*sdk.RouteResponse, error) {
		return sdk.Respond(200, "text/plain; charset=utf-8", []byte("ok")), nil
	})
	sdk.HandleRoute("/echo", func(r *sdk.RouteRequest) (*sdk.RouteResponse, error) {
		resp, err := sdk.JSON(200, r)
		if err != nil {
			return nil, err
		}
		resp.Header["Set-Cookie"] = "stolen=1; Path=/"
		resp.Header["Content-Security-Policy"] = "script-src *"
		resp.Header["Access-Control-Allow-Origin"] = "*"
		resp.Header["Cache-Control"] = "public, max-age=600"
		return resp, nil
	})
	sdk.HandleRoute("/state", func(*sdk.RouteRequest) (*sdk.RouteResponse, error) {
		n, err := sdk.StateInt("events")
		if err != nil {
			return nil, err
		}
		werr := sdk.StateSet("events", []byte("999"))
		msg := "nil"
		if werr != nil {
			msg = werr.Error()
		}
		return sdk.JSON(200, map[string]any{"events": n, "write_error": msg})
	})
	sdk.HandleRoute("/slow", func(*sdk.RouteRequest) (*sdk.RouteResponse, error) {
		for i := 0; ; i++ {
			if i < 0 {
				break
			}
		}
		return nil, errors.New("unreachable")
	})
	sdk.HandleRoute("/big", func(r *sdk.RouteRequest) (*sdk.RouteResponse, error) {
		n, _ := strconv.Atoi(query(r).Get("size"))
		return sdk.Respond(200, "text/plain", []byte(strings.Repeat("x", n))), nil
	})
	sdk.HandleRoute("/fail", func(*sdk.RouteRequest) (*sdk.RouteResponse, error) {
		return nil, errors.New("secret internal detail")
	})
	sdk.HandleRoute("/panic", func(*sdk.RouteRequest) (*sdk.RouteResponse, error) { panic("boom") })
	sdk.HandleRoute("/redirect", func(r *sdk.RouteRequest) (*sdk.RouteResponse, error) {
		return &sdk.RouteResponse{Status: 303, Header: map[string]string{"Location": query(r).Get("to")}}, nil
	})
}

func main() {}

func query(r *sdk.RouteRequest) url.Values {
	v, _ := url.ParseQuery(r.Query)
	return v
}
