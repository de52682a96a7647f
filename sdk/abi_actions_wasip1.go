//go:build wasip1

package sdk

import "unsafe"

//go:wasmimport tari_v1 action
func hostAction(name string, req string) uint32

//go:wasmimport tari_v1 action_read
func hostActionRead(buf unsafe.Pointer, limit uint32) uint32

// actionCall sends one action and returns the host's answer document.
func actionCall(name string, req []byte) []byte {
	n := hostAction(name, string(req))
	buf := make([]byte, n)
	got := hostActionRead(ptr(buf), n)
	return buf[:min(got, n)]
}
