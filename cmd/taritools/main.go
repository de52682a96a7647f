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
	Use:           "taritools",
	Short:         "Tools for the Tari payment server: keys, signatures, wallet notifications and admin",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
