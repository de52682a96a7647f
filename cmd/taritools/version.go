package main

import "github.com/tari-payment/tps/internal/version"

// `taritools --version` prints the module version and the VCS commit.
func init() {
	rootCmd.Version = version.Get().String("taritools")
	rootCmd.SetVersionTemplate("{{.Version}}\n")
}
