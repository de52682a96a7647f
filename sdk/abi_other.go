//go:build !wasip1

package sdk

import (
	"errors"
	"fmt"
	"os"
)

// Outside a wasip1 build there is no host: these stand-ins let plugin code
// compile (and `go vet ./...` run) on the developer's machine.

func readEvent(uint32) []byte { return nil }

func writeResult([]byte) {}

func logHost(level uint32, msg string) { fmt.Fprintf(os.Stderr, "plugin log[%d]: %s\n", level, msg) }

func configGet(string) (string, bool) { return "", false }

func httpRoundTrip([]byte) []byte {
	return []byte(`{"error":"sdk: HTTP is only available inside the plugin host (GOOS=wasip1)"}`)
}

var errNoHost = errors.New("sdk: state is only available inside the plugin host (GOOS=wasip1)")

func stateGet(string) ([]byte, bool, error) { return nil, false, errNoHost }

func stateSet(string, []byte) error { return errNoHost }

func stateDelete(string) error { return errNoHost }

func stateList(string) ([]byte, error) { return nil, errNoHost }
