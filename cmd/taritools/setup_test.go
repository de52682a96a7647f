package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
)

func runTT(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	binaries(t)
	cmd := exec.Command(ttBin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "TPG_DATABASE_URL="+dbURL, "HOME="+cmd.Dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSetupAddUserAndMigrate: the bootstrap of the first super admin and the
// migration command work on a fresh database of either kind.
func TestSetupAddUserAndMigrate(t *testing.T) {
	urls := map[string]string{"sqlite": "sqlite://" + filepath.Join(t.TempDir(), "new", "tari_store.db")}
	if os.Getenv(storetest.PostgresEnv) != "" {
		urls["postgres"] = storetest.PostgresURL(t)
	}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			out, err := runTT(t, url, "db", "migrate")
			if err != nil || !strings.Contains(out, "up to date") {
				t.Fatalf("migrate: %v %s", err, out)
			}
			// setup migrate is an alias: the same command, the same words.
			if again, err := runTT(t, url, "setup", "migrate"); err != nil || again != out {
				t.Fatalf("setup migrate: %v %q, want %q", err, again, out)
			}
			k := tari.GenerateSecretKey()
			addr := tari.NewAddress(tari.Mainnet, k.PublicKey())
			out, err = runTT(t, url, "setup", "add-user", "--address", addr.Emoji(), "--roles", "super_admin, read_all")
			if err != nil || !strings.Contains(out, addr.Base58()) || !strings.Contains(out, "super_admin") {
				t.Fatalf("add-user: %v %s", err, out)
			}
			// Twice is fine (D18).
			if out, err := runTT(t, url, "setup", "add-user", "-a", addr.Hex(), "-r", "super_admin"); err != nil {
				t.Fatalf("again: %v %s", err, out)
			}
			db, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			roles, err := engine.New(db, engine.DefaultConfig()).RolesForAddress(context.Background(), addr)
			if err != nil || !containsR(roles, core.RoleSuperAdmin) || !containsR(roles, core.RoleReadAll) {
				t.Fatalf("%v %v", roles, err)
			}
			for _, bad := range [][]string{{"--address", "nope", "--roles", "write"}, {"--address", addr.Base58(), "--roles", "god"}, {"--address", addr.Base58()}} {
				if out, err := runTT(t, url, append([]string{"setup", "add-user"}, bad...)...); err == nil {
					t.Errorf("%v accepted: %s", bad, out)
				}
			}
		})
	}
}

func containsR(rs []core.Role, r core.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}
