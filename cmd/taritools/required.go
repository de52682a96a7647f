package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Cobra enforces flags marked with MarkFlagRequired but its help does not
// show which they are. The help function below says "(required)" after
// every such flag, whichever file registered it, so the help and the
// checks cannot disagree.

const requiredNote = "(required)"

// markRequiredInUsage appends requiredNote to the usage of every flag of c
// that cobra will insist on.
func markRequiredInUsage(c *cobra.Command) {
	mark := func(f *pflag.Flag) {
		if isRequired(f) && !strings.Contains(f.Usage, requiredNote) {
			f.Usage = strings.TrimSpace(f.Usage + " " + requiredNote)
		}
	}
	c.LocalFlags().VisitAll(mark)
	c.InheritedFlags().VisitAll(mark)
}

func isRequired(f *pflag.Flag) bool {
	v := f.Annotations[cobra.BashCompOneRequiredFlag]
	return len(v) == 1 && v[0] == "true"
}

// markRequiredInHelp makes every command's help mark its required flags.
func markRequiredInHelp(rootCmd *cobra.Command) {
	defaultHelp := rootCmd.HelpFunc()
	rootCmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		markRequiredInUsage(c)
		defaultHelp(c, args)
	})
}
