// Command scheduled is a test plugin for schedules and actions. Every Tick
// adds one to "ticks" and records "tick/<period start>" (adding one to
// "dupes" if that period was already seen), then runs the actions of its
// ACTIONS setting (a JSON list of [name, request] pairs) and stores each
// answer under "result/<i>": the result's JSON, or "error:<code>:<message>".
// MODE=fail fails every Tick after writing (the writes must be dropped).
// Other events add one to "events".
package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tari-payment/tps/sdk"
)

func init() {
	sdk.OnTick(tick)
	sdk.OnEvent(func(sdk.Event) error {
		_, err := sdk.StateAdd("events", 1)
		return err
	})
}

func main() {}

func tick(ev sdk.Event, t sdk.TickEvent) error {
	if _, err := sdk.StateAdd("ticks", 1); err != nil {
		return err
	}
	key := "tick/" + t.PeriodStart.UTC().Format("2006-01-02T15:04:05Z")
	if _, seen, err := sdk.StateGet(key); err != nil {
		return err
	} else if seen {
		if _, err := sdk.StateAdd("dupes", 1); err != nil {
			return err
		}
	}
	if err := sdk.StateSet(key, []byte(ev.ID)); err != nil {
		return err
	}
	if sdk.ConfigOr("MODE", "") == "fail" {
		return errors.New("failing the tick on purpose")
	}
	var actions [][2]json.RawMessage
	if v := sdk.ConfigOr("ACTIONS", ""); v != "" {
		if err := json.Unmarshal([]byte(v), &actions); err != nil {
			return sdk.Permanent(err)
		}
	}
	for i, a := range actions {
		var name string
		if err := json.Unmarshal(a[0], &name); err != nil {
			return sdk.Permanent(err)
		}
		var out json.RawMessage
		val := ""
		if err := sdk.Action(name, a[1], &out); err != nil {
			var ae *sdk.ActionError
			if !errors.As(err, &ae) {
				return err
			}
			val = "error:" + ae.Code + ":" + ae.Msg
		} else {
			val = string(out)
		}
		if err := sdk.StateSet(fmt.Sprintf("result/%d", i), []byte(val)); err != nil {
			return err
		}
	}
	return nil
}
