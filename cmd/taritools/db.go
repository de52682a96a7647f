package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/core/store"
)

// databaseURL is TPG_DATABASE_URL or the embedded default, as the server uses.
func databaseURL() string {
	if u := os.Getenv("TPG_DATABASE_URL"); u != "" {
		return u
	}
	return store.DefaultURL
}

func init() {
	db := &cobra.Command{
		Use:   "db",
		Short: "Database maintenance on TPG_DATABASE_URL (default " + store.DefaultURL + ")",
	}
	db.AddCommand(&cobra.Command{
		Use:   "migrate",
		Short: "Create the database if needed and apply every pending migration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := store.Open(cmd.Context(), databaseURL())
			if err != nil {
				return fmt.Errorf("opening %s: %w", redactedDBURL(), err)
			}
			defer d.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "Database %s is migrated and up to date.\n", redactedDBURL())
			return nil
		},
	})
	rootCmd.AddCommand(db)
}
