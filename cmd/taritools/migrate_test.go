package main

import (
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/tari-payment/tps/core/store/storetest"
)

// TestMigrateSaysWhatItDoes: on PostgreSQL migrate works inside an existing
// database and, for a missing one, says it does not create databases; its
// help says so too.
func TestMigrateSaysWhatItDoes(t *testing.T) {
	out, err := runTT(t, storetest.SQLiteURL(t), "db", "migrate", "--help")
	if err != nil || !strings.Contains(out, "PostgreSQL: the database must already exist") || !strings.Contains(out, "SQLite: creates the file") {
		t.Fatalf("help: %v %s", err, out)
	}
	if out, err := runTT(t, storetest.SQLiteURL(t), "db", "migrate"); err != nil || !strings.HasPrefix(out, "SQLite database ") {
		t.Fatalf("sqlite: %v %s", err, out)
	}
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip(storetest.PostgresEnv + " not set")
	}
	for _, args := range [][]string{{"db", "migrate"}, {"setup", "migrate"}} {
		out, err := runTT(t, storetest.PostgresURL(t), args...)
		if err != nil || !strings.Contains(out, "PostgreSQL database (existing; tables created or updated)") {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	u, _ := url.Parse(os.Getenv(storetest.PostgresEnv))
	u.Path = "/tpg_no_such_database_i12b"
	out, err = runTT(t, u.String(), "db", "migrate")
	if err == nil || !strings.Contains(out, "migrate does not create PostgreSQL databases") {
		t.Fatalf("missing database: %v %s", err, out)
	}
}
