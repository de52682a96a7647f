package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/core/tari"
)

func newAddressCommand() *cobra.Command {
	var (
		network, seckey string
	)
	c := &cobra.Command{
		Use:   "address",
		Short: "Make a new key pair and print its address in every form",
		Long: `Generates a random secret key (or uses --seckey) and prints the secret key,
the public key and the default address (single, features 0x03) in base58,
emoji and hex. Keep the secret key secret: it controls the address.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			n, err := parseNetworkFlag(network)
			if err != nil {
				return err
			}
			k := tari.GenerateSecretKey()
			if c.Flags().Changed("seckey") {
				text := seckey
				if text == "-" {
					if text, err = readLine(c.InOrStdin()); err != nil {
						return fmt.Errorf("--seckey -: %w", err)
					}
				} else {
					fmt.Fprint(c.ErrOrStderr(), seckeyOnCommandLineWarning)
				}
				if k, err = parseSecKeyFlag(text); err != nil {
					return err
				}
			}
			a := tari.NewAddress(n, k.PublicKey())
			out := struct {
				Network    string `json:"network"`
				SecretKey  string `json:"secret_key"`
				PublicKey  string `json:"public_key"`
				Base58     string `json:"base58"`
				Emoji      string `json:"emoji"`
				Hex        string `json:"hex"`
				AccountKey string `json:"account_key"`
			}{n.String(), k.Hex(), a.SpendKey.Hex(), a.Base58(), a.Emoji(), a.Hex(), a.AccountKey()}
			return emit(c, out, func(w io.Writer) {
				fmt.Fprintf(w, "Network:     %s\n", out.Network)
				fmt.Fprintf(w, "Secret key:  %s   (keep this secret)\n", out.SecretKey)
				fmt.Fprintf(w, "Public key:  %s\n", out.PublicKey)
				fmt.Fprintf(w, "Address:     %s\n", out.Base58)
				fmt.Fprintf(w, "Emoji id:    %s\n", out.Emoji)
				fmt.Fprintf(w, "Hex:         %s\n", out.Hex)
			})
		},
	}
	addNetworkFlag(c, &network)
	c.Flags().StringVarP(&seckey, "seckey", "s", "", `derive from this secret key instead of a new random one ("-" reads it from standard input)`)
	return c
}
