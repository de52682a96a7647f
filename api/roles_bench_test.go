package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
)

// BenchmarkRoleCheck: the cost of D28's per-request role check through the
// whole router on SQLite. GET /api/check_token with a token naming only user
// (no check: every address holds user) alternates, in slices of 25, with the
// same request carrying a super_admin token (one indexed read of its account's
// role assignments). admin/user is the check's relative cost.
//
//	go test ./api -run '^$' -bench RoleCheck -benchtime 4000x
func BenchmarkRoleCheck(b *testing.B) {
	fs := newFuzzServer(b, nil)
	userT, err := tari.NewAccessToken(fs.srv.key, fs.customer.Addr, []string{"user"}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	var n [2]int
	var elapsed [2]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		side, tok := 0, userT
		if (i/25)%2 == 1 {
			side, tok = 1, fs.adminT
		}
		start := time.Now()
		rec := fs.serve("GET", "/api/check_token", "", "", nil, http.Header{"Tpg_access_token": {tok}})
		elapsed[side] += time.Since(start)
		n[side]++
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
	}
	if n[0] > 0 && n[1] > 0 {
		user, admin := float64(elapsed[0])/float64(n[0]), float64(elapsed[1])/float64(n[1])
		b.ReportMetric(user, "ns/request-user-token")
		b.ReportMetric(admin, "ns/request-admin-token")
		b.ReportMetric(admin/user, "admin/user")
	}
}

// BenchmarkRolesForAddress is the check's one read alone, on SQLite and (with
// TPG_TEST_POSTGRES_URL) PostgreSQL.
//
//	go test ./api -run '^$' -bench RolesForAddress
func BenchmarkRolesForAddress(b *testing.B) {
	run := func(b *testing.B, e *engine.Engine) {
		w := apitest.NewWallet()
		ctx := context.Background()
		if err := e.AssignRoles(ctx, w.Addr, []core.Role{core.RoleReadAll, core.RoleWrite}, nil); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := e.RolesForAddress(ctx, w.Addr); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("sqlite", func(b *testing.B) { run(b, engine.New(storetest.SQLite(b), engine.DefaultConfig())) })
	b.Run("postgres", func(b *testing.B) { run(b, engine.New(storetest.Postgres(b), engine.DefaultConfig())) })
}
