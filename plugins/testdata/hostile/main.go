// Command hostile is a test plugin that misbehaves on purpose; its MODE
// setting (TPG_PLUGIN_<ID>_MODE) picks how. The host must contain every mode.
package main

import (
	"errors"
	"os"
	"strings"

	"github.com/tari-payment/tps/sdk"
)

var hoard [][]byte

func init() {
	if mode, _ := sdk.Config("MODE"); mode == "initloop" {
		// never returns from _initialize: the deadline must stop the load
		n := 0
		for {
			n++
		}
	}
	sdk.OnEvent(handle)
	// With MODE=decode an OrderPaid is decoded into typed structs and
	// acknowledged: the benchmark of a warm plugin's per-event cost.
	sdk.OnOrderPaid(func(ev sdk.Event, e sdk.OrderEvent) error {
		if mode, _ := sdk.Config("MODE"); mode == "decode" {
			if e.Order.OrderID == "" {
				return errors.New("no order id")
			}
			return nil
		}
		return handle(ev)
	})
}

func main() {}

func handle(ev sdk.Event) error {
	mode, _ := sdk.Config("MODE")
	switch mode {
	case "loop": // never returns: the per-call deadline must stop it
		n := 0
		for {
			n++
		}
	case "membomb": // grows memory until the page limit: the runtime dies
		for {
			hoard = append(hoard, make([]byte, 1<<20))
			hoard[len(hoard)-1][0] = 1
		}
	case "panic": // the SDK turns it into a failed delivery
		panic("boom on " + ev.Type)
	case "exit": // the guest exits the process under the host's feet
		os.Exit(3)
	case "forbidden": // HTTP to a host the manifest does not grant
		u, _ := sdk.Config("URL")
		_, err := sdk.Post(u, nil, ev.Raw)
		return err
	case "bigoutput": // an error message far over the result cap, and log spam
		for i := 0; i < 100; i++ {
			sdk.Infof("%s", strings.Repeat("y", 8<<10))
		}
		return errors.New(strings.Repeat("x", 1<<20))
	case "echo": // well-behaved: forward the event to URL
		u, _ := sdk.Config("URL")
		resp, err := sdk.Post(u, map[string]string{"Content-Type": "application/json"}, ev.Raw)
		if err != nil {
			return err
		}
		if !resp.OK() {
			return errors.New(resp.Header["Content-Type"])
		}
		return nil
	}
	return errors.New("unknown MODE " + mode)
}
