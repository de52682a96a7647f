package main

import (
	"fmt"
	"os"
	"strings"

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

func newDBCommand() *cobra.Command {
	db := &cobra.Command{
		Use:   "db",
		Short: "Database maintenance on TPG_DATABASE_URL (default " + store.DefaultURL + ")",
	}
	db.AddCommand(migrateCommand())
	return db
}

// migrateHelp says what migrate does on each kind of database: on PostgreSQL
// the database itself must exist (migrate creates tables, not databases).
const migrateHelp = "Apply every pending schema migration to TPG_DATABASE_URL.\n\n" +
	"SQLite: creates the file (and its folder) when missing, then migrates it.\n" +
	"PostgreSQL: the database must already exist (createdb, or CREATE DATABASE);\n" +
	"migrate creates and updates the tables inside it. The server applies the same\n" +
	"migrations itself at start, so running this is optional."

// migrateCommand is `taritools db migrate` (and `setup migrate`, the
// reference's spelling).
func migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending migrations (SQLite: creates the file; PostgreSQL: the database must exist)",
		Long:  migrateHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url := databaseURL()
			d, err := store.Open(cmd.Context(), url)
			if err != nil {
				if strings.HasPrefix(url, "postgres") && strings.Contains(err.Error(), "does not exist") {
					return fmt.Errorf("opening %s: %w\nmigrate does not create PostgreSQL databases: create it first (createdb <name>, or CREATE DATABASE <name>)", redactedDBURL(), err)
				}
				return fmt.Errorf("opening %s: %w", redactedDBURL(), err)
			}
			defer d.Close()
			what := "SQLite database"
			if d.Kind == store.Postgres {
				what = "PostgreSQL database (existing; tables created or updated)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s is migrated and up to date.\n", what, redactedDBURL())
			return nil
		},
	}
}
