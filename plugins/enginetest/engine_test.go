package enginetest_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/shopify/shopifytest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/plugins"
)

// Orders created, paid (by an admin fulfil and by a credit note) and
// cancelled through the engine reach Shopify through the shopify plugin, once
// each, through GraphQL with the fixed access token; the first attempts fail
// with a 500 and a THROTTLED answer.
func TestEngineEventsReachShopify(t *testing.T) {
	cacheDir := t.TempDir() // shared by the subtests: the plugin is built once
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		shop := shopifytest.New("cid", "csecret")
		defer shop.Close()
		shop.AddStaticToken("shpat_e2e")
		for _, id := range []int64{7001, 7002, 7003} {
			shop.AddOrder(shopifytest.Order{ID: id, Total: "10.00", Currency: "XTR"})
		}
		// Each write fails once first.
		shop.Fail("orderMarkAsPaid", shopifytest.Fault{Status: 500})
		shop.Fail("orderCancel", shopifytest.Fault{Throttled: true})

		var wake atomic.Pointer[func()]
		cfg := engine.DefaultConfig()
		cfg.AfterCommit = func() {
			if f := wake.Load(); f != nil {
				(*f)()
			}
		}
		eng := engine.New(db, cfg)
		env := map[string]string{"TPG_SHOPIFY_API_URL": shop.APIURL(), "TPG_SHOPIFY_ADMIN_ACCESS_TOKEN": "shpat_e2e"}
		mgr, err := plugins.Start(ctx, plugins.Config{
			CacheDir: filepath.Join(cacheDir, "cache"), DB: db,
			Env:      func(k string) (string, bool) { v, ok := env[k]; return v, ok },
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			Delivery: outbox.Options{BackoffMin: 20 * time.Millisecond, BackoffMax: 50 * time.Millisecond, PollInterval: time.Hour},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer mgr.Close()
		notify := mgr.Notify
		wake.Store(&notify) // PollInterval is an hour: only AfterCommit wakes delivery

		price := func(s string) *string { return &s }
		for _, id := range []string{"7001", "7002", "7003"} {
			if _, err := eng.NewOrder(ctx, engine.NewOrder{OrderID: id, CustomerID: "cust-" + id, TotalPrice: core.Tari(10),
				OriginalPrice: price("10.00"), Currency: "XTR", AmountOutstanding: price("10.00")}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := eng.FulfilOrder(ctx, "7001", "paid by bank transfer"); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.CancelOrder(ctx, "7002", "customer asked"); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.IssueCreditNote(ctx, "cust-7003", core.Tari(10), nil); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			o1, _ := shop.Order(7001)
			o2, _ := shop.Order(7002)
			o3, _ := shop.Order(7003)
			if o1.MarkedPaid == 1 && o2.Cancels == 1 && o3.MarkedPaid == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Shopify orders = %+v %+v %+v", o1, o2, o3)
			}
			time.Sleep(20 * time.Millisecond)
		}
		waitDelivered := time.Now().Add(30 * time.Second)
		for {
			infos, err := mgr.Plugins(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pending := 0
			for _, p := range infos {
				pending += int(p.Pending)
			}
			if pending == 0 {
				break
			}
			if time.Now().After(waitDelivered) {
				t.Fatalf("still pending: %+v", infos)
			}
			time.Sleep(20 * time.Millisecond)
		}
		st := shop.Stats()
		if st.Count("orderMarkAsPaid") != 2 || st.Count("orderCancel") != 1 || len(st.RESTCalls) != 0 || st.Rejected != 0 {
			t.Fatalf("Shopify stats = %+v", st)
		}
		if o2, _ := shop.Order(7002); !o2.Restocked || o2.Refunded || !strings.Contains(o2.StaffNote, "cancelled") {
			t.Fatalf("cancelled order = %+v", o2)
		}
	})
}
