// Command webhook is the default plugin that POSTs every event to the URLs in
// TPG_PLUGIN_WEBHOOK_URLS, signed with TPG_PLUGIN_WEBHOOK_SECRET
// (decisions.md §4). The body is the event exactly as the server hands it to
// plugins: {"id":…,"type":…,"created_at":…,"data":…}.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/tari-payment/tps/sdk"
)

func init() { sdk.OnEvent(send) }

func main() {}

func send(ev sdk.Event) error {
	urls, _ := sdk.Config("URLS")
	secret, hasSecret := sdk.Config("SECRET")
	header := map[string]string{"Content-Type": "application/json"}
	if hasSecret && secret != "" {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(ev.Raw)
		header["X-Tps-Signature"] = "sha256=" + hex.EncodeToString(mac.Sum(nil))
	} else {
		sdk.Warnf("TPG_PLUGIN_WEBHOOK_SECRET is not set: sending event %s unsigned", ev.ID)
	}
	// Every URL gets the event; if one fails the whole delivery is retried,
	// so receivers must drop duplicates by event id (delivery is at least once).
	var failed []string
	for _, u := range strings.Split(urls, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		resp, err := sdk.Post(u, header, ev.Raw)
		if err != nil {
			failed = append(failed, err.Error())
			continue
		}
		if !resp.OK() {
			failed = append(failed, fmt.Sprintf("%s answered %d", u, resp.Status))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("webhook: %s", strings.Join(failed, "; "))
	}
	return nil
}
