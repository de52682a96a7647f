// Command taritools is the command line for merchants, admins, customers and
// the hot wallet: keys and addresses, signed claims and wallet notifications,
// and a client for the payment server's API.
//
// Each command lives in its own file and attaches itself to rootCmd in init.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:   "taritools",
	Short: "Tools for the Tari payment server: keys, signatures, wallet notifications and admin",
	Long: `Tools for the Tari payment server: keys, signatures, wallet notifications and admin.

Interactive mode: run taritools with no command (or taritools interactive) in a
terminal for menus. The menus offer what the chosen profile's roles allow.

Every command prints human text or tables; add --json for one line of JSON
(for scripts). Secret keys never need to be on the command line: use a
profile (-p NAME), standard input, or $` + secKeyEnv + `.`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func init() {
	rootCmd.PersistentFlags().Bool(jsonFlag, false, "print one line of JSON instead of text (for scripts)")
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
