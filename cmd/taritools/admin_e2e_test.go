package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tari-payment/tps/api/shopify/shopifytest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// TestUserAndAdminCommands runs every user and admin command against a real
// server and checks what the server then reports.
func TestUserAndAdminCommands(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		shop := shopifytest.New("cid", "csecret")
		t.Cleanup(shop.Close)
		srv := startServer(t, dbURL, "TPG_SHOPIFY_API_URL="+shop.APIURL(), "TPG_SHOPIFY_CLIENT_ID=cid", "TPG_SHOPIFY_CLIENT_SECRET=csecret")
		c := newCLI(t)
		setupMerchant(t, srv, c)
		alice := officialProfileAddr
		for _, o := range []struct {
			id, cust int64
			price    string
		}{{1001, 1, "2.00"}, {1002, 1, "5.00"}, {1003, 2, "1.00"}, {1004, 3, "4.00"}} {
			srv.newOrder(t, o.id, o.cust, o.price)
		}

		// A merchant with read_all and write, granted by the super admin.
		writer := tari.GenerateSecretKey()
		c.ok("profile", "add", "--name", "writer", "--secret-key", writer.Hex(), "--server", srv.URL, "--roles", "user,read_all,write")
		c.ok("admin", "roles", "--address", addr(writer), "--apply", "read_all,write", "--profile", "admin")
		adm := func(args ...string) []string {
			return append(append([]string{"admin"}, args...), "--profile", "writer")
		}

		// Roles are enforced, and the refusal says what to do.
		if e := c.fail("admin", "creditors", "--profile", "alice"); !strings.Contains(e, "403") || !strings.Contains(e, "taritools admin roles") {
			t.Fatalf("403 explanation: %s", e)
		}

		// Alice claims 1001 and pays 3 XTR: 1001 is paid, 1 XTR is left.
		c.ok("user", "claim", "1001", "--profile", "alice")
		c.ok("wallet", "received", "--profile", hotWalletProfile, "--amount", "3 T", "--txid", "pay-1", "--sender", alice)
		c.ok("wallet", "confirmed", "--profile", hotWalletProfile, "--txid", "pay-1")

		var bal core.AddressBalance
		c.okJSON(&bal, "user", "balance", "--profile", "alice")
		if bal.CurrentBalance != 1_000_000 || bal.TotalConfirmed != 3_000_000 || bal.TotalPaid != 2_000_000 {
			t.Fatalf("balance %+v", bal)
		}
		if out := c.ok("user", "balance", "--profile", "alice"); !strings.Contains(out, "1.000000 XTR") || !strings.Contains(out, "BALANCE") {
			t.Fatalf("balance table:\n%s", out)
		}
		// Alice sees the order she claimed and paid, not customer 1's other
		// order 1002 (D26; the reference listed it, so the orders of a
		// customer leaked to anyone who claimed one of them).
		var ors core.OrderResult
		c.okJSON(&ors, "user", "orders", "--profile", "alice")
		if len(ors.Orders) != 1 || ors.Orders[0].OrderID != "1001" || ors.TotalOrders != 2_000_000 {
			t.Fatalf("orders %+v", ors)
		}
		c.okJSON(&ors, "user", "open-orders", "--profile", "alice")
		if len(ors.Orders) != 0 {
			t.Fatalf("open orders %+v", ors)
		}
		var prs core.PaymentsResult
		c.okJSON(&prs, "user", "payments", "--profile", "alice")
		if len(prs.Payments) != 1 || prs.Payments[0].TxID != "pay-1" {
			t.Fatalf("payments %+v", prs)
		}
		var hist core.AddressHistory
		c.okJSON(&hist, "user", "history", "--profile", "alice")
		if len(hist.Settlements) != 1 || hist.Settlements[0].OrderID != "1001" {
			t.Fatalf("history %+v", hist)
		}
		if out := c.ok("user", "whoami", "--profile", "alice"); !strings.Contains(out, officialProfileAddr) || !strings.Contains(out, "Logged in") {
			t.Fatalf("whoami: %s", out)
		}
		if out := c.ok("user", "settle", "--profile", "alice"); !strings.Contains(out, "Nothing was paid") {
			t.Fatalf("settle: %s", out)
		}
		var one *core.Order
		c.okJSON(&one, "user", "order", "1001", "--profile", "alice")
		if one == nil || one.Status != core.OrderPaid {
			t.Fatalf("user order %+v", one)
		}
		var sendTo []string
		c.okJSON(&sendTo, "user", "send-to", "--profile", "alice")
		if len(sendTo) != 1 || sendTo[0] != addr(srv.Hot) {
			t.Fatalf("send-to %v", sendTo)
		}

		// A 4 XTR credit for customer 1 with Alice's 1 XTR pays 1002.
		var credit core.MultiAccountPayment
		c.okJSON(&credit, adm("credit", "1", "4 T", "--reason", "goodwill")...)
		var ch core.CustomerHistory
		c.okJSON(&ch, adm("history", "--customer", "1")...)
		if ch.Balance.TotalConfirmed != 7_000_000 {
			t.Fatalf("customer 1 after credit: %+v", ch.Balance)
		}
		c.ok(adm("settle", "--customer", "1")...)
		if st := orderStatus(t, c, "1002"); st != core.OrderPaid {
			t.Fatalf("1002 is %s after credit and settle", st)
		}

		var o core.Order
		c.okJSON(&o, adm("fulfil", "1003", "--reason", "voucher")...)
		if o.Status != core.OrderPaid {
			t.Fatalf("fulfil: %+v", o)
		}
		c.okJSON(&o, adm("cancel", "1004", "--reason", "out of stock")...)
		if o.Status != core.OrderCancelled {
			t.Fatalf("cancel: %+v", o)
		}
		if e := c.fail(adm("cancel", "1004", "--reason", "again")...); !strings.Contains(e, "400") || !strings.Contains(e, "forbidden") {
			t.Fatalf("second cancel: %s", e)
		}
		// reset takes --reason like fulfil and cancel, and says what changed.
		if e := c.fail(adm("reset", "1004")...); !strings.Contains(e, `required flag(s) "reason" not set`) {
			t.Fatalf("reset without a reason: %s", e)
		}
		if st := orderStatus(t, c, "1004"); st != core.OrderCancelled {
			t.Fatalf("1004 is %s after a refused reset", st)
		}
		if out := c.ok(adm("reset", "1004", "--reason", "back in stock")...); !strings.Contains(out, "Order 1004: Cancelled -> New") || strings.Contains(out, "{") {
			t.Fatalf("reset: %s", out)
		}
		c.okJSON(&o, adm("memo", "1004", "purple jelly beans")...)
		if o.Memo == nil || *o.Memo != "purple jelly beans" {
			t.Fatalf("memo: %+v", o)
		}
		c.okJSON(&o, adm("price", "1004", "3.5 T", "--reason", "discount")...)
		if o.TotalPrice != 3_500_000 {
			t.Fatalf("price: %+v", o)
		}
		var moved core.OrderMovedResult
		c.okJSON(&moved, adm("reassign", "1004", "5", "--reason", "new account")...)
		if moved.Orders.NewOrder.CustomerID != "5" || moved.Orders.OldOrder.CustomerID != "3" {
			t.Fatalf("reassign: %+v", moved)
		}
		if out := c.ok(adm("settle", "--address", alice)...); !strings.Contains(out, "Nothing was paid") && !strings.Contains(out, "orders paid") {
			t.Fatalf("settle address: %s", out)
		}

		var found []core.Order
		c.okJSON(&found, adm("search", "--customer", "1", "--status", "Paid")...)
		if len(found) != 2 {
			t.Fatalf("search: %+v", found)
		}
		c.okJSON(&one, adm("order", "1004")...)
		if one == nil || one.CustomerID != "5" {
			t.Fatalf("order: %+v", one)
		}
		c.okJSON(&ors, adm("orders", alice)...)
		if len(ors.Orders) != 2 {
			t.Fatalf("orders for alice: %+v", ors)
		}
		c.okJSON(&ors, adm("orders", alice, "--open")...)
		if len(ors.Orders) != 0 {
			t.Fatalf("open orders for alice: %+v", ors)
		}
		c.okJSON(&prs, adm("payments", alice)...)
		if len(prs.Payments) != 1 {
			t.Fatalf("payments for alice: %+v", prs)
		}
		var pays []core.Payment
		c.okJSON(&pays, adm("order-payments", "1001")...)
		c.okJSON(&bal, adm("balance", alice)...)
		if bal.Address == "" {
			t.Fatalf("balance for alice: %+v", bal)
		}
		c.okJSON(&hist, adm("history", "--address", alice)...)
		if len(hist.Payments) != 1 {
			t.Fatalf("history for alice: %+v", hist)
		}
		var creditors []core.CustomerOrders
		c.okJSON(&creditors, adm("creditors")...)
		if len(creditors) != 1 || creditors[0].CustomerID != "5" || creditors[0].TotalOrders != 3_500_000 {
			t.Fatalf("creditors: %+v", creditors)
		}
		var ids []string
		c.okJSON(&ids, adm("customers")...)
		if strings.Join(ids, ",") != "1,2,5" {
			t.Fatalf("customers: %v", ids)
		}
		c.okJSON(&ids, adm("customers", "--offset", "1", "--count", "1")...)
		if strings.Join(ids, ",") != "2" {
			t.Fatalf("customers page: %v", ids)
		}
		// A Shopify data request: everything stored about customer 1.
		var data struct {
			CustomerID string       `json:"customer_id"`
			Orders     []core.Order `json:"orders"`
			Addresses  []string     `json:"addresses"`
		}
		c.okJSON(&data, adm("customer-data", "1")...)
		if data.CustomerID != "1" || len(data.Orders) != 2 || !strings.Contains(strings.Join(data.Addresses, ","), alice) {
			t.Fatalf("customer data: %+v", data)
		}
		c.okJSON(&ids, adm("addresses")...)
		if len(ids) == 0 {
			t.Fatalf("addresses: %v", ids)
		}

		if out, errs, err := c.run(adm("rate", "set", "USD", "0.25 T")...); err != nil {
			t.Fatalf("rate set: %v\n%s%s\nShopify: %+v", err, out, errs, shop.Stats())
		}
		var rate core.ExchangeRate
		c.okJSON(&rate, adm("rate", "get", "USD")...)
		if rate.Rate != 250_000 {
			t.Fatalf("rate: %+v", rate)
		}
		if e := c.fail(adm("rate", "set", "USD", "0")...); !strings.Contains(e, "positive") {
			t.Fatalf("zero rate: %s", e)
		}
		// rate list shows every currency's latest rate.
		var set core.ExchangeRate
		c.okJSON(&set, adm("rate", "set", "eur", "300000")...)
		if set.Currency != "EUR" || set.Rate != 300_000 {
			t.Fatalf("rate set --json: %+v", set)
		}
		var rates []core.ExchangeRate
		c.okJSON(&rates, adm("rate", "list")...)
		if len(rates) != 2 || rates[0].Currency != "EUR" || rates[0].Rate != 300_000 || rates[1].Currency != "USD" || rates[1].Rate != 250_000 {
			t.Fatalf("rate list: %+v", rates)
		}
		if out := c.ok(adm("rate", "list")...); !strings.Contains(out, "CURRENCY") || !strings.Contains(out, "EUR") || !strings.Contains(out, "0.300000 XTR") {
			t.Fatalf("rate list table:\n%s", out)
		}
		if out := c.ok(adm("rescan")...); !strings.Contains(out, "0 orders scanned") {
			t.Fatalf("rescan: %s", out)
		}

		other := addr(tari.GenerateSecretKey())
		var added struct {
			Address   string `json:"address"`
			IPAddress string `json:"ip_address"`
		}
		c.okJSON(&added, "admin", "wallets", "add", other, "--ip", "10.1.2.3", "--profile", "admin")
		if added.Address != other || added.IPAddress != "10.1.2.3" {
			t.Fatalf("wallets add --json: %+v", added)
		}
		var ws []core.WalletInfo
		c.okJSON(&ws, adm("wallets", "list")...)
		if len(ws) != 2 {
			t.Fatalf("wallets: %+v", ws)
		}
		var removed struct {
			Address string
			Removed bool
		}
		c.okJSON(&removed, "admin", "wallets", "remove", other, "--profile", "admin")
		if removed.Address != other || !removed.Removed {
			t.Fatalf("wallets remove --json: %+v", removed)
		}
		c.okJSON(&ws, adm("wallets", "list")...)
		if len(ws) != 1 || ws[0].Address != addr(srv.Hot) {
			t.Fatalf("wallets after remove: %+v", ws)
		}

		// Plugin administration. A server built without plugins answers 501,
		// which taritools must show as such.
		if out, errs, err := c.run(adm("plugins", "list", "--json")...); err != nil {
			if !strings.Contains(errs, "501") {
				t.Fatalf("plugins list: %v\n%s%s", err, out, errs)
			}
		} else {
			var plugins []map[string]any
			if err := json.Unmarshal([]byte(out), &plugins); err != nil || len(plugins) == 0 || plugins[0]["id"] == nil {
				t.Fatalf("plugins list: %v\n%s", err, out)
			}
			if table := c.ok(adm("plugins", "list")...); !strings.Contains(table, "STATE") || !strings.Contains(table, fmt.Sprint(plugins[0]["id"])) {
				t.Fatalf("plugins table:\n%s", table)
			}
			var failed []map[string]any
			c.okJSON(&failed, adm("plugins", "failed")...)
			if out := c.ok(adm("plugins", "redeliver")...); !strings.Contains(out, "deliveries queued for redelivery.") || strings.Contains(out, "{") {
				t.Fatalf("redeliver all: %s", out)
			}
			var redelivered struct {
				Success bool
				Count   *int
			}
			c.okJSON(&redelivered, adm("plugins", "redeliver")...)
			if !redelivered.Success || redelivered.Count == nil {
				t.Fatalf("redeliver all --json: %+v", redelivered)
			}
			id := fmt.Sprint(plugins[0]["id"])
			if out := c.ok(adm("plugins", "enable", id)...); !strings.Contains(out, "Plugin "+id+" enabled.") || !strings.Contains(out, "STATE:") {
				t.Fatalf("plugins enable: %s", out)
			}
			var enabled map[string]any
			c.okJSON(&enabled, adm("plugins", "enable", id)...)
			if enabled["id"] != plugins[0]["id"] {
				t.Fatalf("plugins enable --json: %v", enabled)
			}
			if e := c.fail(adm("plugins", "enable", "no-such-plugin")...); !strings.Contains(e, "404") {
				t.Fatalf("enable unknown: %s", e)
			}
			if e := c.fail(adm("plugins", "redeliver", "987654")...); !strings.Contains(e, "404") {
				t.Fatalf("redeliver unknown: %s", e)
			}
			if table := c.ok(adm("plugins", "reload")...); !strings.Contains(table, "STATE") || !strings.Contains(table, fmt.Sprint(plugins[0]["id"])) {
				t.Fatalf("plugins reload:\n%s", table)
			}
			if e := c.fail(adm("plugins", "remove", "no-such-plugin")...); !strings.Contains(e, "404") {
				t.Fatalf("remove unknown: %s", e)
			}
		}
		if out := c.ok(adm("health")...); !strings.Contains(out, "is up") {
			t.Fatalf("health: %s", out)
		}
		var up struct {
			Server string
			Up     bool
		}
		c.okJSON(&up, adm("health")...)
		if !up.Up || up.Server != srv.URL {
			t.Fatalf("health --json: %+v", up)
		}

		// Errors: the server's message and status; 404 for an unknown order.
		if e := c.fail(adm("fulfil", "999999", "--reason", "x")...); !strings.Contains(e, "404") || !strings.Contains(e, "999999") {
			t.Fatalf("unknown order: %s", e)
		}

		// Revoking write takes effect at once for the token writer already
		// holds (D28; the reference honoured it until the token expired).
		c.ok("admin", "roles", "--address", addr(writer), "--revoke", "write", "--profile", "admin")
		if e := c.fail(adm("fulfil", "999999", "--reason", "x")...); !strings.Contains(e, "403") {
			t.Fatalf("revoked write still works: %s", e)
		}
		// roles show: what the address holds now (super_admin only).
		var held struct {
			Address string
			Roles   []string
		}
		c.okJSON(&held, "admin", "roles", "show", addr(writer), "--profile", "admin")
		if held.Address != addr(writer) || strings.Join(held.Roles, ",") != "user,read_all" {
			t.Fatalf("roles show: %+v", held)
		}
		if out := c.ok("admin", "roles", "show", addr(writer), "--profile", "admin"); !strings.Contains(out, addr(writer)+" has roles: user, read_all") {
			t.Fatalf("roles show text: %s", out)
		}
		if e := c.fail("admin", "roles", "show", addr(writer), "--profile", "alice"); !strings.Contains(e, "403") {
			t.Fatalf("roles show as a plain user: %s", e)
		}
	})
}

// TestErrorsAndProfiles covers the profile store and the messages that say
// how to fix a missing profile or an unreachable server.
func TestErrorsAndProfiles(t *testing.T) {
	c := newCLI(t)
	if e := c.fail(); !strings.Contains(e, "interactive mode needs a terminal") {
		t.Fatalf("no command without a terminal: %s", e)
	}
	if e := c.fail("user", "balance"); !strings.Contains(e, "taritools profile add") {
		t.Fatalf("no profile: %s", e)
	}
	key := tari.GenerateSecretKey()
	c.ok("profile", "add", "--name", "p1", "--secret-key", key.Hex(), "--server", "http://127.0.0.1:1")
	out := c.ok("profile", "add", "--name", "seed", "--seed-words", officialPhrase, "--network", "mainnet")
	if !strings.Contains(out, officialProfileAddr) {
		t.Fatalf("seed profile: %s", out)
	}
	st, err := os.Stat(c.config)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("profiles file mode %v %v", st.Mode(), err)
	}
	raw, _ := os.ReadFile(c.config)
	if !strings.Contains(string(raw), key.Hex()) {
		t.Fatal("key not stored")
	}
	for _, args := range [][]string{{"profile", "list"}, {"profile", "show", "p1"}, {"profile", "show", "seed"}, {"profile", "list", "--json"}} {
		out := c.ok(args...)
		if strings.Contains(out, key.Hex()) || strings.Contains(out, "scare harsh") || strings.Contains(out, "ef5d6881f2b1") {
			t.Fatalf("%v printed a secret:\n%s", args, out)
		}
	}
	if out := c.ok("profile", "show", "seed", "--reveal"); !strings.Contains(out, "ef5d6881f2b1ff65dd6d62a77f73be2179cad40c6d587d5ff9f4ed49b5378b05") || !strings.Contains(out, "scare harsh") {
		t.Fatalf("--reveal: %s", out)
	}
	if e := c.fail("profile", "add", "--name", "p1", "--secret-key", tari.GenerateSecretKey().Hex()); !strings.Contains(e, "--force") {
		t.Fatalf("overwrite without --force: %s", e)
	}
	c.ok("profile", "add", "--name", "p1", "--secret-key", key.Hex(), "--server", "http://127.0.0.1:1", "--force")
	if out := c.ok("profile", "default"); strings.TrimSpace(out) != "p1" {
		t.Fatalf("default: %q", out)
	}
	if e := c.fail("user", "balance"); !strings.Contains(e, "is the server running") {
		t.Fatalf("unreachable: %s", e)
	}
	if e := c.fail("user", "balance", "--profile", "nope"); !strings.Contains(e, "known profiles: p1, seed") {
		t.Fatalf("unknown profile: %s", e)
	}
	c.ok("profile", "default", "seed")
	c.ok("profile", "remove", "p1")
	var views []profileView
	c.okJSON(&views, "profile", "list")
	if len(views) != 1 || views[0].Name != "seed" || !views[0].Default || views[0].Key != "seed words" || views[0].Address != officialProfileAddr {
		t.Fatalf("after remove: %+v", views)
	}
	// Bad input is refused with the reason.
	if e := c.fail("profile", "add", "--name", "bad", "--seed-words", strings.Replace(officialPhrase, "stick", "zebra", 1)); !strings.Contains(e, "seed words") {
		t.Fatalf("bad seed: %s", e)
	}
	if e := c.fail("profile", "add", "--name", "bad", "--secret-key", "xyz"); !strings.Contains(e, "secret key") {
		t.Fatalf("bad key: %s", e)
	}
	if e := c.fail("profile", "add", "--name", "bad", "--secret-key", key.Hex(), "--roles", "boss"); !strings.Contains(e, "unknown role") {
		t.Fatalf("bad role: %s", e)
	}
	// Secrets from standard input stay out of the command line.
	cmd := c.cmd("profile", "add", "--name", "stdin", "--secret-key", "-")
	cmd.Stdin = strings.NewReader(key.Hex() + "\n")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), addr(key)) || strings.Contains(string(out), "warning") {
		t.Fatalf("key on stdin: %v %s", err, out)
	}
	// A key typed on the command line still works, with a warning.
	if _, errs, err := c.run("profile", "add", "--name", "argv", "--secret-key", key.Hex()); err != nil || !strings.Contains(errs, "warning") || !strings.Contains(errs, "ps") {
		t.Fatalf("key on the command line: %v %q", err, errs)
	}
	cmd = c.cmd("profile", "add", "--name", "stdin-seed", "--seed-words-stdin")
	cmd.Stdin = strings.NewReader(officialPhrase + "\n")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), officialProfileAddr) {
		t.Fatalf("seed on stdin: %v %s", err, out)
	}
	// A key from the environment.
	c.env = append(c.env, "MY_TPS_KEY="+key.Hex())
	out = c.ok("profile", "add", "--name", "env", "--secret-key-env", "MY_TPS_KEY")
	if !strings.Contains(out, addr(key)) {
		t.Fatalf("env profile: %s", out)
	}
}

// TestShopifyCommands checks the connection, installs webhooks and gets,
// cancels and marks paid an order through the fake Shopify, with the app's
// client credentials (GraphQL only).
func TestShopifyCommands(t *testing.T) {
	shop := shopifytest.New("cid", "csecret")
	t.Cleanup(shop.Close)
	shop.AddOrder(shopifytest.Order{ID: 5001, Total: "15.90"})
	shop.AddOrder(shopifytest.Order{ID: 5002, Total: "1.00"})
	c := newCLI(t)
	c.env = append(c.env, "TPG_SHOPIFY_API_URL="+shop.APIURL(), "TPG_SHOPIFY_CLIENT_ID=cid", "TPG_SHOPIFY_CLIENT_SECRET=csecret", "TPG_SHOPIFY_ADMIN_ACCESS_TOKEN=")
	if out := c.ok("shopify", "webhooks", "list"); !strings.Contains(out, "No webhooks") {
		t.Fatalf("empty list: %s", out)
	}
	// Before the webhooks are installed, check names what is missing.
	if e := c.fail("shopify", "check"); !strings.Contains(e, "ORDERS_CANCELLED not subscribed") {
		t.Fatalf("check before install: %s", e)
	}
	out := c.ok("shopify", "webhooks", "install", "https://pay.example.com/")
	if strings.Count(out, "installed") != 5 {
		t.Fatalf("install: %s", out)
	}
	want := map[string]string{
		"ORDERS_CREATE":             "https://pay.example.com/shopify/webhook/checkout_create",
		"PRODUCTS_UPDATE":           "https://pay.example.com/shopify/webhook/product_updated",
		"ORDER_TRANSACTIONS_CREATE": "https://pay.example.com/shopify/webhook/transaction_create",
		"ORDERS_UPDATED":            "https://pay.example.com/shopify/webhook/no_op",
		"ORDERS_CANCELLED":          "https://pay.example.com/shopify/webhook/order_cancelled",
	}
	hooks := shop.Webhooks()
	if len(hooks) != 5 {
		t.Fatalf("hooks: %+v", hooks)
	}
	for _, h := range hooks {
		if want[h.Topic] != h.URI {
			t.Fatalf("hook %+v", h)
		}
	}
	if out := c.ok("shopify", "webhooks", "install", "https://pay.example.com"); strings.Count(out, "already installed") != 5 {
		t.Fatalf("reinstall: %s", out)
	}
	if out := c.ok("shopify", "webhooks", "install", "https://new.example.com"); strings.Count(out, "updated →") != 5 {
		t.Fatalf("repoint: %s", out)
	}
	out = c.ok("shopify", "check")
	for _, w := range []string{"client-credentials", "write_orders", "currency:   USD", "ORDERS_CANCELLED", "Shopify connection OK"} {
		if !strings.Contains(out, w) {
			t.Fatalf("check output lacks %q:\n%s", w, out)
		}
	}

	if out := c.ok("shopify", "orders", "get", "5001"); !strings.Contains(out, "#5001") || !strings.Contains(out, "15.90") {
		t.Fatalf("get: %s", out)
	}
	if out := c.ok("shopify", "orders", "pay", "5001"); !strings.Contains(out, "marked paid") {
		t.Fatalf("pay: %s", out)
	}
	if o, _ := shop.Order(5001); o.MarkedPaid != 1 || o.FinancialStatus != "PAID" {
		t.Fatalf("after pay: %+v", o)
	}
	// A second mark-as-paid is refused by Shopify: the user error is shown.
	if e := c.fail("shopify", "orders", "pay", "5001"); !strings.Contains(e, "cannot be marked as paid") {
		t.Fatalf("pay twice: %s", e)
	}
	if out := c.ok("shopify", "orders", "cancel", "5002"); !strings.Contains(out, "cancelled") {
		t.Fatalf("cancel: %s", out)
	}
	if o, _ := shop.Order(5002); o.Cancels != 1 || !o.Restocked || o.Refunded {
		t.Fatalf("after cancel: %+v", o)
	}
	if e := c.fail("shopify", "orders", "get", "9999"); !strings.Contains(e, "no order 9999") {
		t.Fatalf("missing order: %s", e)
	}
	if e := c.fail("shopify", "orders", "get", "../webhooks"); !strings.Contains(e, "must be a number") {
		t.Fatalf("path injection: %s", e)
	}
	if e := c.fail("shopify", "orders", "get", "5001", "--token", "wrong"); !strings.Contains(e, "401") {
		t.Fatalf("bad token: %s", e)
	}
	if st := shop.Stats(); len(st.RESTCalls) != 0 || st.TokensIssued == 0 {
		t.Fatalf("Shopify stats: %+v", st)
	}
	c.env = []string{"TPG_SHOPIFY_API_URL=", "TPG_SHOPIFY_ADMIN_ACCESS_TOKEN=", "TPG_SHOPIFY_SHOP=", "TPG_SHOPIFY_CLIENT_ID=", "TPG_SHOPIFY_CLIENT_SECRET="}
	if e := c.fail("shopify", "webhooks", "list", "--shop", "x.myshopify.com"); !strings.Contains(e, "TPG_SHOPIFY_CLIENT_ID") {
		t.Fatalf("no credentials: %s", e)
	}
}
