package main

import (
	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/internal/version"
)

// setVersion makes `taritools --version` print the module version and the
// VCS commit.
func setVersion(rootCmd *cobra.Command) {
	rootCmd.Version = version.Get().String("taritools")
	rootCmd.SetVersionTemplate("{{.Version}}\n")
}
