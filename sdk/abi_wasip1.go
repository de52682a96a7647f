//go:build wasip1

package sdk

import "unsafe"

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
