package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/core/tari"
)

func newMemoCommand() *cobra.Command {
	var (
		keys  keyFlags
		order string
	)
	c := &cobra.Command{
		Use:   "memo",
		Short: "Sign an order claim (the memo signature JSON)",
		Long: `Signs a claim of --order for the address of the key (from --profile, standard
input, $TARITOOLS_SECKEY or --seckey). Put the printed JSON object (with --json,
nothing else is printed), unchanged, in the Shopify order note, the payment
memo, or the body of POST /order/claim.`,
		Example: `  taritools memo -p me --order 1001 --json
  taritools memo --seckey-stdin --order 1001 < key.txt`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			k, a, err := keys.resolve(c)
			if err != nil {
				return err
			}
			if err := requireFlag("order", order); err != nil {
				return err
			}
			m := tari.SignMemo(k, a, order)
			return emit(c, json.RawMessage(m.JSON()), func(w io.Writer) {
				fmt.Fprintf(w, "Claim of order %q by %s:\n%s\n", order, a.Base58(), m.JSON())
			})
		},
	}
	addKeyFlags(c, &keys)
	c.Flags().StringVarP(&order, "order", "o", "", "order id to claim (required)")
	_ = c.MarkFlagRequired("order")
	return c
}
