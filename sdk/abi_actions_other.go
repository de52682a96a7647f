//go:build !wasip1

package sdk

func actionCall(string, []byte) []byte {
	return []byte(`{"error":"sdk: actions are only available inside the plugin host (GOOS=wasip1)","code":"failed"}`)
}
