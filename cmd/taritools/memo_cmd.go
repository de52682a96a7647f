package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/core/tari"
)

func init() {
	var (
		keys   keyFlags
		order  string
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "memo",
		Short: "Sign an order claim (the memo signature JSON)",
		Long: `Signs a claim of --order for the address of --seckey. Put the printed JSON
object, unchanged, in the Shopify order note, the payment memo, or the body of
POST /order/claim.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			k, a, err := keys.resolve()
			if err != nil {
				return err
			}
			if err := requireFlag("order", order); err != nil {
				return err
			}
			m := tari.SignMemo(k, a, order)
			w := c.OutOrStdout()
			if asJSON {
				_, err := fmt.Fprintln(w, m.JSON())
				return err
			}
			return emit(c, false, nil, func(w io.Writer) {
				fmt.Fprintf(w, "Claim of order %q by %s:\n%s\n", order, a.Base58(), m.JSON())
			})
		},
	}
	addKeyFlags(c, &keys)
	c.Flags().StringVarP(&order, "order", "o", "", "order id to claim (required)")
	c.Flags().BoolVar(&asJSON, "json", false, "print only the JSON object")
	rootCmd.AddCommand(c)
}
