package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/cmd/taritools/internal/profiles"
	"github.com/tari-payment/tps/core"
)

// payLinkSecretEnv holds the pay-link secret. It is read from the
// environment only: a secret on a command line ends up in shell history and
// in every process listing.
const payLinkSecretEnv = "TPG_PAY_LINK_SECRET"

// newPayLinkCommand builds admin pay-link, which reads the admin group's
// --server, --profile and --json.
func newPayLinkCommand(adminOpts *sessionOpts) *cobra.Command {
	payLink := &cobra.Command{
		Use:   "pay-link ORDER_ID",
		Short: "Print an order's pay link (needs TPG_PAY_LINK_SECRET in the environment)",
		Long: `Prints the link to an order's pay page, /pay/{order_id}/{token}, where the token
is the first 32 hex characters of HMAC-SHA256(TPG_PAY_LINK_SECRET, order_id): the
link Shopify's notification templates compute with
{{ order.id | hmac_sha256: "<secret>" | slice: 0, 32 }}.

The secret is read from the TPG_PAY_LINK_SECRET environment variable (the
server's value), never from a flag. The link starts with --server, else the
profile's server URL. Nothing is sent to the server.`,
		Example: `  TPG_PAY_LINK_SECRET=... taritools admin pay-link 5906123450001 --server https://pay.example.com`,
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			secret := os.Getenv(payLinkSecretEnv)
			if secret == "" {
				return errors.New(payLinkSecretEnv + " is not set: export the server's pay-link secret in the environment (it is never taken from a flag)")
			}
			base := strings.TrimRight(adminOpts.server, "/")
			if base == "" {
				if f, err := profiles.Load(); err == nil {
					if p, err := f.Get(adminOpts.profile); err == nil {
						base = strings.TrimRight(p.Server, "/")
					}
				}
			}
			if base == "" {
				return errors.New("no server URL: pass --server https://your-server or use a profile that has one")
			}
			link := base + core.PayLinkPath(secret, args[0])
			out := c.OutOrStdout()
			if adminOpts.json {
				return json.NewEncoder(out).Encode(map[string]string{"order_id": args[0], "pay_link": link, "qr_png": link + "/qr.png"})
			}
			_, err := fmt.Fprintf(out, "%s\nQR code (PNG, for emails): %s/qr.png\n", link, link)
			return err
		},
	}
	return payLink
}
