//go:build wasip1

package sdk

import (
	"errors"
	"unsafe"
)

// Host imports of ABI tari_v1 (plugins/ABI.md). The guest owns every buffer.

//go:wasmimport tari_v1 log
func hostLog(level uint32, msg string)

//go:wasmimport tari_v1 config_get
func hostConfigGet(key string, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport tari_v1 event_read
func hostEventRead(buf unsafe.Pointer, limit uint32) uint32

//go:wasmimport tari_v1 result_write
func hostResultWrite(buf unsafe.Pointer, n uint32)

//go:wasmimport tari_v1 http_send
func hostHTTPSend(req string) uint32

//go:wasmimport tari_v1 http_read
func hostHTTPRead(buf unsafe.Pointer, limit uint32) uint32

//go:wasmimport tari_v1 state_get
func hostStateGet(key string, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport tari_v1 state_set
func hostStateSet(key string, value unsafe.Pointer, n uint32) int32

//go:wasmimport tari_v1 state_delete
func hostStateDelete(key string) int32

//go:wasmimport tari_v1 state_list
func hostStateList(prefix string) int32

//go:wasmimport tari_v1 state_read
func hostStateRead(buf unsafe.Pointer, limit uint32) uint32

// tariABIv1 marks the module as built for ABI version 1; it is never called.
//
//go:wasmexport tari_abi_v1
func tariABIv1() {}

// tariHandle is called once per event with the event's length in bytes.
//
//go:wasmexport tari_handle
func tariHandle(eventLen uint32) uint32 { return handle(eventLen) }

func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

func readEvent(n uint32) []byte {
	buf := make([]byte, n)
	got := hostEventRead(ptr(buf), n)
	return buf[:min(got, n)]
}

func writeResult(b []byte) { hostResultWrite(ptr(b), uint32(len(b))) }

func logHost(level uint32, msg string) { hostLog(level, msg) }

func configGet(key string) (string, bool) {
	buf := make([]byte, 256)
	for {
		n := hostConfigGet(key, ptr(buf), uint32(len(buf)))
		if n < 0 {
			return "", false
		}
		if int(n) <= len(buf) {
			return string(buf[:n]), true
		}
		buf = make([]byte, n)
	}
}

func httpRoundTrip(req []byte) []byte {
	n := hostHTTPSend(string(req))
	buf := make([]byte, n)
	got := hostHTTPRead(ptr(buf), n)
	return buf[:min(got, n)]
}

// stateMessage reads the host's last state document (an error message or a
// key list) of n bytes.
func stateMessage(n int32) []byte {
	buf := make([]byte, n)
	got := hostStateRead(ptr(buf), uint32(n))
	return buf[:min(got, uint32(n))]
}

func stateGet(key string) ([]byte, bool, error) {
	buf := make([]byte, 256)
	for {
		n := hostStateGet(key, ptr(buf), uint32(len(buf)))
		switch {
		case n == -1:
			return nil, false, nil
		case n < 0:
			return nil, false, stateError(hostStateRead(nil, 0))
		case int(n) <= len(buf):
			return buf[:n], true, nil
		}
		buf = make([]byte, n)
	}
}

// stateError fetches the message of a failed state call.
func stateError(n uint32) error { return errors.New(string(stateMessage(int32(n)))) }

func stateSet(key string, value []byte) error {
	if n := hostStateSet(key, ptr(value), uint32(len(value))); n != 0 {
		return stateError(uint32(n))
	}
	return nil
}

func stateDelete(key string) error {
	if n := hostStateDelete(key); n != 0 {
		return stateError(uint32(n))
	}
	return nil
}

func stateList(prefix string) ([]byte, error) {
	n := hostStateList(prefix)
	if n < 0 {
		return nil, stateError(uint32(-n))
	}
	return stateMessage(n), nil
}
