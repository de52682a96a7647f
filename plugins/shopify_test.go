package plugins_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/shopify"
	"github.com/tari-payment/tps/api/shopify/shopifytest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/plugins"
)

// withAppCredentials configures cfg as the server does with only a client id
// and secret: the plugin sees the client id (never the secret) and its
// requests to the shop get the token from the host's transport.
func withAppCredentials(cfg plugins.Config, fake *shopifytest.Fake) (plugins.Config, *shopify.ClientCredentials) {
	cc, err := shopify.NewClientCredentials(fake.APIURL(), fake.ClientID, fake.ClientSecret)
	if err != nil {
		panic(err)
	}
	cfg.Transports = map[string]http.RoundTripper{"shopify": &shopify.Transport{Host: fake.Host(), Source: cc}}
	return cfg, cc
}

// Paid and annulled orders become GraphQL Admin calls, exactly once per
// event even when Shopify first answers 5xx or THROTTLED, and a redelivered
// OrderPaid neither captures nor marks paid twice. The token comes from the
// client-credentials grant and is renewed when Shopify starts refusing it.
func TestShopifyPluginMarksPaidCapturesAndCancelsExactlyOnce(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		fake := shopifytest.New("client-id-1", "client-secret-1")
		t.Cleanup(fake.Close)
		fake.AddOrder(shopifytest.Order{ID: 1001, Total: "10.00", FinancialStatus: "AUTHORIZED",
			Transactions: []shopifytest.Transaction{{ID: 555, Kind: "AUTHORIZATION", Status: "SUCCESS", Amount: "10.00", Currency: "USD"}}})
		fake.AddOrder(shopifytest.Order{ID: 1002, Total: "5.00"})
		fake.AddOrder(shopifytest.Order{ID: 1003, Total: "15.90"})
		fake.Fail("orderCapture", shopifytest.Fault{Status: 500})
		fake.Fail("orderCancel", shopifytest.Fault{Throttled: true})
		fake.Fail("orderMarkAsPaid", shopifytest.Fault{Status: 503}, shopifytest.Fault{Throttled: true})
		env := envMap{
			"TPG_SHOPIFY_API_URL":          fake.APIURL(),
			"TPG_SHOPIFY_CLIENT_ID":        fake.ClientID,
			"TPG_SHOPIFY_CAPTURE_PAYMENTS": "yes",
		}
		sink := &logSink{}
		cfg, _ := withAppCredentials(baseConfig(db, env, sink), fake)
		mgr := start(t, cfg)
		if p := pluginInfo(t, mgr, "shopify"); p.State != "active" || len(p.HTTPHosts) != 1 || p.HTTPHosts[0] != fake.Host() {
			t.Fatalf("shopify plugin = %+v", p)
		}

		paid := order("1001", core.OrderPaid)
		appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: paid})
		appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("not-a-shopify-id", core.OrderPaid)})
		cancelled := order("1002", core.OrderExpired)
		appendEvent(t, db, core.EventOrderAnnulled, core.OrderAnnulledEvent{Order: cancelled, Status: core.OrderExpired})
		appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("1003", core.OrderPaid)})
		appendEvent(t, db, core.EventNewOrder, core.OrderEvent{Order: order("1004", core.OrderNew)})
		mgr.Notify()

		waitFor(t, "Shopify calls", 30*time.Second, func() bool {
			o1, _ := fake.Order(1001)
			o2, _ := fake.Order(1002)
			o3, _ := fake.Order(1003)
			return len(o1.Captures) == 1 && o3.MarkedPaid == 1 && o2.Cancels == 1
		})
		// Shopify revokes the token mid-run: the next call gets a 401, the
		// host renews the token once and the call goes through.
		issued := fake.Stats().TokensIssued
		fake.ExpireTokens()
		// The same events again (a redelivery): Shopify already shows the
		// orders paid, captured and cancelled, so nothing is repeated.
		appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: paid})
		appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("1003", core.OrderPaid)})
		appendEvent(t, db, core.EventOrderAnnulled, core.OrderAnnulledEvent{Order: cancelled, Status: core.OrderExpired})
		mgr.Notify()
		waitFor(t, "all delivered", 30*time.Second, func() bool { p := pluginInfo(t, mgr, "shopify"); return p.Pending == 0 })

		o1, _ := fake.Order(1001)
		o2, _ := fake.Order(1002)
		o3, _ := fake.Order(1003)
		if len(o1.Captures) != 1 || o1.Captures[0] != 555 || o1.MarkedPaid != 0 || o1.FinancialStatus != "PAID" {
			t.Fatalf("order 1001 = %+v, want authorisation 555 captured once and no mark-as-paid", o1)
		}
		if o3.MarkedPaid != 1 || o3.FinancialStatus != "PAID" {
			t.Fatalf("order 1003 = %+v, want marked paid once", o3)
		}
		if o2.Cancels != 1 || !o2.Restocked || o2.Refunded || o2.NotifyCustomer || o2.CancelReason != "OTHER" || !strings.Contains(o2.StaffNote, "expired") {
			t.Fatalf("order 1002 = %+v, want cancelled once, restocked, not refunded, with a staff note", o2)
		}
		st := fake.Stats()
		if st.TokensIssued != issued+1 || st.Rejected != 1 {
			t.Fatalf("tokens issued %d (was %d), rejected calls %d: want one renewal after one 401", st.TokensIssued, issued, st.Rejected)
		}
		if len(st.RESTCalls) != 0 {
			t.Fatalf("REST calls: %v", st.RESTCalls)
		}
		if st.Count("orderMarkAsPaid") != 1 || st.Count("orderCapture") != 1 || st.Count("orderCancel") != 1 {
			t.Fatalf("mutations answered: %v", st.Ops)
		}
		if p := pluginInfo(t, mgr, "shopify"); p.Failed != 0 || p.LastError != "" {
			t.Fatalf("state after success = %+v", p)
		}
		if fails, _ := mgr.FailedDeliveries(t.Context()); len(fails) != 0 {
			t.Fatalf("failed deliveries: %+v", fails)
		}
		if sink.contains("shpat_fake") || sink.contains(fake.ClientSecret) {
			t.Fatal("a token or the client secret was logged")
		}
	})
}

// userErrors are permanent: the delivery is parked at once (the admin's
// failed-deliveries list shows Shopify's message) and can be redelivered.
func TestShopifyUserErrorIsParkedAndRedeliverable(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		fake := shopifytest.New("cid", "csecret")
		t.Cleanup(fake.Close)
		fake.AddStaticToken("shpat_fixed")
		fake.AddOrder(shopifytest.Order{ID: 2001, Total: "3.00"})
		fake.Fail("orderMarkAsPaid", shopifytest.Fault{UserError: "Order is locked for editing"})
		// The fixed token of a pre-2026 custom app still works on its own.
		env := envMap{"TPG_SHOPIFY_API_URL": fake.APIURL(), "TPG_SHOPIFY_ADMIN_ACCESS_TOKEN": "shpat_fixed"}
		mgr := start(t, baseConfig(db, env, &logSink{}))
		ev := appendEvent(t, db, core.EventOrderPaid, core.OrderEvent{Order: order("2001", core.OrderPaid)})
		mgr.Notify()
		var fails []pluginsFailed
		waitFor(t, "parked", 20*time.Second, func() bool {
			f, _ := mgr.FailedDeliveries(t.Context())
			fails = fails[:0]
			for _, x := range f {
				fails = append(fails, pluginsFailed{x.ID, x.PluginID, x.EventID, x.Attempts, x.LastError})
			}
			return len(f) == 1
		})
		if fails[0].plugin != "shopify" || fails[0].event != ev.ID || fails[0].attempts != 1 || !strings.Contains(fails[0].err, "Order is locked for editing") {
			t.Fatalf("failed = %+v", fails)
		}
		if o, _ := fake.Order(2001); o.MarkedPaid != 0 {
			t.Fatalf("order marked paid despite the user error: %+v", o)
		}
		if n, err := mgr.RedeliverAll(t.Context()); err != nil || n != 1 {
			t.Fatalf("redeliver all: %d %v", n, err)
		}
		waitFor(t, "redelivered", 20*time.Second, func() bool { o, _ := fake.Order(2001); return o.MarkedPaid == 1 })
		waitFor(t, "failure cleared", 20*time.Second, func() bool { f, _ := mgr.FailedDeliveries(t.Context()); return len(f) == 0 })
		if err := mgr.Redeliver(t.Context(), 424242); err == nil {
			t.Fatal("redelivering an unknown failure should fail")
		}
		if st := fake.Stats(); len(st.RESTCalls) != 0 || st.TokensIssued != 0 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

type pluginsFailed struct {
	id       int64
	plugin   string
	event    string
	attempts int
	err      string
}
