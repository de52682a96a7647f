package main

import (
	"fmt"
	"io"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"
)

func newConsoleCommand() *cobra.Command {
	var (
		opts sessionOpts
		open bool
	)
	c := &cobra.Command{
		Use:   "console",
		Short: "Sign in to the server's web console: print (or open) a one-time link",
		Long: `Makes a one-time sign-in link for the server's web console (/console), carrying a
login token signed by the profile's key: no password. Open it in a browser within
15 minutes; it works once. The console then shows what the address's roles allow
(read_all to look, write to act on orders, rates and plugins, super_admin for roles
and hot wallets). A session lasts 8 hours or until you sign out.`,
		Example: `  taritools console -p shop-admin
  taritools console -p shop-admin --open`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := openSession(&opts, c.OutOrStdout())
			if err != nil {
				return err
			}
			link, err := s.client.ConsoleLoginURL()
			if err != nil {
				return err
			}
			out := struct {
				URL     string `json:"url"`
				Address string `json:"address"`
			}{link, s.client.Address.Base58()}
			if err := emit(c, out, func(w io.Writer) {
				fmt.Fprintf(w, "One-time console sign-in link for %s (valid 15 minutes, works once):\n%s\n", out.Address, link)
			}); err != nil {
				return err
			}
			if open {
				if err := openBrowser(link); err != nil {
					return fmt.Errorf("could not open a browser (%w): open the link above yourself", err)
				}
			}
			return nil
		},
	}
	addSessionFlags(c, &opts)
	c.Flags().BoolVar(&open, "open", false, "open the link in the default browser")
	return c
}

// openBrowser hands url to the desktop's opener. The link is an argument of
// that one short-lived process only, never of this command.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	return cmd.Start()
}
