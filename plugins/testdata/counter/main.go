// Command counter is a test plugin that keeps its counts in plugin state:
// every event adds one to "count" and records "seen/<event id>". Its MODE
// setting (TPG_PLUGIN_<ID>_MODE) makes it misbehave after writing:
//
//	fail     returns an error   (the writes must be dropped)
//	crash    exits the process  (the writes must be dropped)
//	big      stores a value of SIZE bytes under "big" and reports the error
//	longkey  stores under a 300-byte key and reports the error
//	noop     does nothing (benchmark baseline)
//	rw       only adds one to "count": one read and one write (benchmark)
//	check    checks that reads, deletes and lists see its own writes
package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/tari-payment/tps/sdk"
)

func init() { sdk.OnEvent(handle) }

func main() {}

func handle(ev sdk.Event) error {
	switch mode, _ := sdk.Config("MODE"); mode {
	case "noop": // the benchmark's baseline
		return nil
	case "rw": // the benchmark: one read and one write
		_, err := sdk.StateAdd("count", 1)
		return err
	}
	n, err := sdk.StateAdd("count", 1)
	if err != nil {
		return err
	}
	if err := sdk.StateSet("seen/"+ev.ID, []byte(ev.Type)); err != nil {
		return err
	}
	mode, _ := sdk.Config("MODE")
	switch mode {
	case "fail":
		return errors.New("failing after writing")
	case "crash":
		os.Exit(3)
	case "big":
		size, _ := strconv.Atoi(sdk.ConfigOr("SIZE", "70000"))
		return sdk.Permanent(sdk.StateSet("big", make([]byte, size)))
	case "longkey":
		return sdk.Permanent(sdk.StateSet(strings.Repeat("k", 300), []byte("v")))
	case "check":
		if got, err := sdk.StateInt("count"); err != nil || got != n {
			return fmt.Errorf("count read back %d (%v), want %d", got, err, n)
		}
		if err := sdk.StateSet("tmp", []byte("x")); err != nil {
			return err
		}
		if err := sdk.StateDelete("tmp"); err != nil {
			return err
		}
		if _, ok, err := sdk.StateGet("tmp"); ok || err != nil {
			return fmt.Errorf("deleted key still read: %v %v", ok, err)
		}
		keys, err := sdk.StateList("seen/")
		if err != nil {
			return err
		}
		if !slices.Contains(keys, "seen/"+ev.ID) {
			return fmt.Errorf("list misses own write: %v", keys)
		}
		if _, _, err := sdk.StateGet(strings.Repeat("k", 300)); err == nil {
			return errors.New("a 300-byte key was read")
		}
	}
	return nil
}
