package plugins_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
	"github.com/tari-payment/tps/plugins"
)

// A scheduled plugin granted rates:write and orders:read calls actions from
// its Tick on the real engine: granted ones run (the rate is stored, orders
// are read), the rest are refused with a reason, logged, and every call is
// in the plugin_actions audit trail with the plugin as actor.
func TestActionsGrantedAndRefused(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		eng := engine.New(db, engine.DefaultConfig())
		if _, err := eng.NewOrder(ctx, engine.NewOrder{OrderID: "A-1", CustomerID: "cust-1", TotalPrice: 5_000_000, Currency: "XTR", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		k := tari.GenerateSecretKey()
		if _, err := eng.ReceivePayment(ctx, engine.IncomingPayment{Sender: tari.NewAddress(tari.Mainnet, k.PublicKey()), Amount: 1_000_000, TxID: "tx-1", OrderID: str("A-1")}); err != nil {
			t.Fatal(err)
		}
		// A weekly schedule: the test sees one Tick (the current period's).
		actions := `[
			["rates.set", {"currency":"usd","rate":2500000}],
			["rates.get", {"currency":"USD"}],
			["orders.get", {"order_id":"A-1"}],
			["orders.list", {"customer_id":"cust-1"}],
			["payments.list", {"order_id":"A-1"}],
			["orders.get", {"order_id":"nope"}],
			["rates.set", {"currency":"USD","rate":0}],
			["orders.delete", {}],
			["orders.list", {"status":["Sold"]}]
		]`
		dir := t.TempDir()
		installPlugin(t, dir, buildOnce(t, "plugins/testdata/scheduled"), map[string]any{
			"id": "scheduled", "version": "1", "abi": 1, "schedule": map[string]string{"every": "168h"},
			"actions": []string{"rates:write", "orders:read"},
		})
		sink := &logSink{}
		cfg := baseConfig(db, envMap{"TPG_PLUGIN_SCHEDULED_ACTIONS": actions}, sink)
		cfg.Dir = dir
		cfg.ReloadInterval = -1
		cfg.Actions = plugins.EngineActions{Eng: eng}
		mgr := start(t, cfg)
		if p := pluginInfo(t, mgr, "scheduled"); p.Schedule != "168h" || strings.Join(p.Actions, ",") != "rates:write,orders:read" {
			t.Fatalf("plugin info %+v", p)
		}
		waitFor(t, "the Tick handled", 60*time.Second, func() bool { return stateInt(t, db, "scheduled", "ticks") == 1 })

		results := map[int]string{}
		for i := range 9 {
			v, _ := stateValue(t, db, "scheduled", "result/"+string(rune('0'+i)))
			results[i] = v
		}
		var rc plugins.RateChange
		if err := json.Unmarshal([]byte(results[0]), &rc); err != nil || rc.Rate.Currency != "USD" || rc.Rate.Rate != 2_500_000 {
			t.Fatalf("rates.set answered %s", results[0])
		}
		if r, err := eng.ExchangeRate(ctx, "USD"); err != nil || r.Rate != 2_500_000 {
			t.Fatalf("stored rate %+v, %v", r, err)
		}
		var rate core.ExchangeRate
		if json.Unmarshal([]byte(results[1]), &rate); rate.Rate != 2_500_000 {
			t.Fatalf("rates.get answered %s", results[1])
		}
		var o core.Order
		if json.Unmarshal([]byte(results[2]), &o); o.OrderID != "A-1" || o.CustomerID != "cust-1" || o.TotalPrice != 5_000_000 {
			t.Fatalf("orders.get answered %s", results[2])
		}
		var list struct{ Orders []core.Order }
		if json.Unmarshal([]byte(results[3]), &list); len(list.Orders) != 1 || list.Orders[0].OrderID != "A-1" {
			t.Fatalf("orders.list answered %s", results[3])
		}
		for i, want := range map[int]string{
			4: "error:refused:action payments.list is not granted to plugin scheduled",
			5: "error:not_found:",
			6: "error:invalid:",
			7: `error:refused:unknown action "orders.delete"`,
			8: `error:invalid:unknown order status "Sold"`,
		} {
			if !strings.HasPrefix(results[i], want) {
				t.Errorf("result %d = %q, want %q…", i, results[i], want)
			}
		}
		if !sink.contains("plugin action refused") {
			t.Error("a refused action was not logged")
		}
		rows, err := db.QueryContext(ctx, `SELECT plugin_id, action, outcome FROM plugin_actions ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var id, action, outcome string
			if err := rows.Scan(&id, &action, &outcome); err != nil {
				t.Fatal(err)
			}
			got = append(got, id+" "+action+" "+outcome)
		}
		want := []string{"scheduled rates.set ok", "scheduled rates.get ok", "scheduled orders.get ok", "scheduled orders.list ok",
			"scheduled payments.list refused", "scheduled orders.get failed", "scheduled rates.set refused",
			"scheduled orders.delete refused", "scheduled orders.list refused"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("audit trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
