package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/core/tari"
)

func newTokenCommand() *cobra.Command {
	var (
		keys         keyFlags
		roles, nonce string
	)
	c := &cobra.Command{
		Use:     "token",
		Short:   "Make a login token (for POST /auth, header tpg_auth_token)",
		Example: `  taritools token -p admin --roles user,read_all --json`,
		Long: `Signs a Ristretto256 login token for the address of the key (from --profile,
standard input, $TARITOOLS_SECKEY or --seckey). The server
answers POST /auth with an access token if the nonce is above the last one it
saw for the address and the address holds every requested role.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			k, a, err := keys.resolve(c)
			if err != nil {
				return err
			}
			rs, err := parseRolesFlag(roles)
			if err != nil {
				return err
			}
			n, err := parseNonceFlag(c, nonce, nowSeconds())
			if err != nil {
				return err
			}
			tok, err := tari.NewLoginToken(k, a, uint64(n), rs)
			if err != nil {
				return err
			}
			out := struct {
				Token   string   `json:"token"`
				Address string   `json:"address"`
				Nonce   int64    `json:"nonce"`
				Roles   []string `json:"roles"`
			}{tok, a.Base58(), n, rs}
			return emit(c, out, func(w io.Writer) {
				fmt.Fprintf(w, "Login token for %s (nonce %d, roles %s):\n%s\n", out.Address, n, strings.Join(rs, ","), tok)
			})
		},
	}
	addKeyFlags(c, &keys)
	c.Flags().StringVarP(&roles, "roles", "r", "user", "comma-separated roles to ask for: user, read_all, write, payment_wallet, super_admin")
	c.Flags().StringVarP(&nonce, "nonce", "c", "", "login nonce (default: current Unix time in seconds)")
	return c
}
