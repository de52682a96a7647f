package sdk

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Plugin state: a key-value store kept by the server for this plugin alone
// (plugins/ABI.md "State"). Inside an event handler, writes are buffered by
// the host and commit together with the event's acknowledgement: a handler
// that returns an error, panics or runs out of time leaves nothing behind,
// and an event delivered again does not apply its writes twice. Reads see the
// handler's own earlier writes. Keys are UTF-8 text of at most 256 bytes,
// values at most 64 KiB, and all of a plugin's keys and values together at
// most the operator's quota (TPG_PLUGIN_STATE_QUOTA_KB, default 1 MiB).

// StateGet returns the value stored under key; ok is false when there is none.
func StateGet(key string) (value []byte, ok bool, err error) { return stateGet(key) }

// StateSet stores value under key. It fails, storing nothing, if the key or
// value is too large or the plugin's quota would be exceeded.
func StateSet(key string, value []byte) error { return stateSet(key, value) }

// StateDelete removes key; removing a missing key is not an error.
func StateDelete(key string) error { return stateDelete(key) }

// StateList returns the keys that start with prefix, in byte order.
func StateList(prefix string) ([]string, error) {
	doc, err := stateList(prefix)
	if err != nil {
		return nil, err
	}
	var keys []string
	if err := json.Unmarshal(doc, &keys); err != nil {
		return nil, fmt.Errorf("sdk: bad key list from the host: %w", err)
	}
	return keys, nil
}

// StateInt reads an integer stored with StateSetInt (0 when absent).
func StateInt(key string) (int64, error) {
	v, ok, err := StateGet(key)
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sdk: state %q is not an integer: %w", key, err)
	}
	return n, nil
}

// StateSetInt stores n as decimal text.
func StateSetInt(key string, n int64) error { return StateSet(key, strconv.AppendInt(nil, n, 10)) }

// StateAdd adds delta to the integer under key and returns the new value.
func StateAdd(key string, delta int64) (int64, error) {
	n, err := StateInt(key)
	if err != nil {
		return 0, err
	}
	sum := n + delta
	if (delta > 0 && sum < n) || (delta < 0 && sum > n) {
		return 0, fmt.Errorf("sdk: state %q overflows int64", key)
	}
	return sum, StateSetInt(key, sum)
}
