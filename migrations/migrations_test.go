package migrations

import (
	"io/fs"
	"slices"
	"testing"
)

// A migration that exists for one dialect must exist for the other under the
// same name, so both databases pass through the same schema versions and an
// operator can compare them by name.
func TestDialectsHaveTheSameMigrations(t *testing.T) {
	names := func(dialect string) []string {
		entries, err := fs.ReadDir(files, dialect)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	sqlite, postgres := names("sqlite"), names("postgres")
	for _, n := range sqlite {
		if !slices.Contains(postgres, n) {
			t.Errorf("%s exists for sqlite only", n)
		}
	}
	for _, n := range postgres {
		if !slices.Contains(sqlite, n) {
			t.Errorf("%s exists for postgres only", n)
		}
	}
	for _, d := range []string{"sqlite", "postgres"} {
		if _, err := For(d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}
