// Command taritools is the command line for merchants, admins, customers and
// the hot wallet: keys and addresses, signed claims and wallet notifications,
// and a client for the payment server's API.
//
// Each area of commands lives in its own file with a constructor that returns
// its command; newRootCommand assembles the tree. There are no package-level
// commands or option variables: every call builds a fresh tree (tests run one
// per invocation), checked by TestNoGlobalCommandTree.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// newRootCommand builds the whole taritools command tree.
func newRootCommand() *cobra.Command {
	rootCmd := &cobra.Command{
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
	rootCmd.PersistentFlags().Bool(jsonFlag, false, "print one line of JSON instead of text (for scripts)")
	setVersion(rootCmd)
	markRequiredInHelp(rootCmd)
	addInteractive(rootCmd)
	rootCmd.AddCommand(newAddressCommand(), newAdminCommand(), newBenchCommand(), newConsoleCommand(), newDBCommand(),
		newMemoCommand(), newProfileCommand(), newSetupCommand(), newShopifyCommand(), newTokenCommand(),
		newUserCommand(), newWalletCommand())
	rootCmd.AddCommand(newPaymentCommands()...)
	return rootCmd
}

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
