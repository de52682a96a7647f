// Package migrations holds the embedded SQL schema of the payment server, one
// directory per database dialect. Files are applied in name order by bun's
// migrator and marked applied only when they succeed.
//
// Numbering: 0001–0099 engine tables, 0100–0199 event delivery (core/outbox),
// 0200+ later features. A migration that exists for one dialect must exist for
// the other with the same name.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun/migrate"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// For returns the migrations for a dialect: "sqlite" or "postgres".
func For(dialect string) (*migrate.Migrations, error) {
	sub, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations: unknown dialect %q: %w", dialect, err)
	}
	m := migrate.NewMigrations()
	if err := m.Discover(sub); err != nil {
		return nil, fmt.Errorf("migrations: %s: %w", dialect, err)
	}
	return m, nil
}
