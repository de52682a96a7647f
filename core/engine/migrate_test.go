package engine_test

import (
	"testing"

	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
)

func TestMigrationsApply(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		var n int
		if err := db.NewRaw("SELECT COUNT(*) FROM roles").Scan(t.Context(), &n); err != nil || n != 5 {
			t.Fatalf("roles = %d, %v", n, err)
		}
	})
}
