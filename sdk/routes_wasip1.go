//go:build wasip1

package sdk

// tariRoute serves one request to a manifest route (plugins/ABI.md
// "Routes"); the host calls it only for plugins whose manifest lists routes.
//
//go:wasmexport tari_route
func tariRoute(requestLen uint32) uint32 { return route(requestLen) }
