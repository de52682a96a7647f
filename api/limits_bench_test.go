package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/apitest"
)

// BenchmarkHotWalletLimiter: a hot wallet's payment notifications through
// the whole router on SQLite, to one server with the per-IP limiter on
// (strict budgets; the client is not loopback, so it is subject to them) and
// one with it off, alternating in slices of 25 so machine load weighs on both
// alike. on/off is the limiter's cost to a legitimate wallet (1 = none).
//
//	go test ./api -run '^$' -bench HotWalletLimiter -benchtime 2000x
func BenchmarkHotWalletLimiter(b *testing.B) {
	type side struct {
		fs      *fuzzServer
		sender  apitest.Wallet
		n       int
		elapsed time.Duration
	}
	mk := func(rate string) *side {
		return &side{fs: newFuzzServer(b, map[string]string{
			"TPG_RATE_LIMIT_PER_SECOND": rate, "TPG_RATE_LIMIT_WALLET_FAILURES_PER_SECOND": rate,
			"TPG_RATE_LIMIT_BURST": "1", "TPG_RATE_LIMIT_WALLET_FAILURES_BURST": "1", "TPG_RATE_LIMIT_EXEMPT_LOOPBACK": "false",
		}), sender: apitest.NewWallet()}
	}
	on, off := mk("1"), mk("0")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := on
		if (i/25)%2 == 1 {
			s = off
		}
		s.n++
		body, _ := json.Marshal(apitest.WalletPaymentBody(s.fs.hot, int64(s.n), apitest.NewPayment{Sender: s.sender.Addr, Amount: 1000, TxID: fmt.Sprintf("b-%d", s.n)}))
		start := time.Now()
		rec := s.fs.serve("POST", "/wallet/incoming_payment", "", "", body, jsonHdr())
		s.elapsed += time.Since(start)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"success":true`) {
			b.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
	}
	if on.n > 0 && off.n > 0 {
		perOn, perOff := float64(on.elapsed)/float64(on.n), float64(off.elapsed)/float64(off.n)
		b.ReportMetric(perOn, "ns/notification-limited")
		b.ReportMetric(perOff, "ns/notification-unlimited")
		b.ReportMetric(perOn/perOff, "on/off")
	}
}
