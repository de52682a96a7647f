package main

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
	"github.com/tari-payment/tps/core/tari/seedwords"
)

// The official Tari test phrase (core/tari/seedwords/testdata/tari-seed-vectors.json,
// e2e#tari-wallet-official): its wallet's one-sided address is 12JVm6AR…,
// taritools' profile address 14JVm6AR….
const officialPhrase = "scare harsh invite normal satisfy subject similar excite dragon gap fence machine monster flavor spoon tape rice require risk sting health nurse orange stick"

const officialOneSided = "12JVm6ARPDg2GvBEpaKxADBW4SkacGRWZYhowEzoUvHrz9kFWCVv4QSYUE6JWiLFYcjEeZv43YJw8W7E8ynrMUWsDm5"
const officialProfileAddr = "14JVm6ARPDg2GvBEpaKxADBW4SkacGRWZYhowEzoUvHrz9kFWCVv4QSYUE6JWiLFYcjEeZv43YJw8W7E8ynrMUWsDkN"

func addr(k tari.SecretKey) string { return tari.NewAddress(tari.Mainnet, k.PublicKey()).Base58() }

// setupMerchant makes a super-admin profile "admin", the hot-wallet profile
// the notify script uses, authorises the hot wallet through taritools, and
// adds the customer profile "alice" from seed words.
func setupMerchant(t *testing.T, srv *testServer, c *cli) (adminAddr string) {
	t.Helper()
	admin := tari.GenerateSecretKey()
	adminAddr = addr(admin)
	c.ok("profile", "add", "--name", "admin", "--secret-key", admin.Hex(), "--server", srv.URL, "--roles", "user,super_admin")
	srv.grant(t, c, adminAddr, core.RoleSuperAdmin)
	c.ok("profile", "add", "--name", hotWalletProfile, "--secret-key", srv.Hot.Hex(), "--server", srv.URL)
	c.ok("admin", "wallets", "add", addr(srv.Hot), "--ip", "127.0.0.1", "--profile", "admin")
	out := c.ok("profile", "add", "--name", "alice", "--seed-words", officialPhrase, "--server", srv.URL)
	if !strings.Contains(out, officialProfileAddr) {
		t.Fatalf("seed-word profile address:\n%s", out)
	}
	return adminAddr
}

// runNotifyScript runs the shipped notify script as the console wallet would.
func runNotifyScript(t *testing.T, c *cli, args ...string) string {
	t.Helper()
	home := filepath.Dir(c.config)
	cmd := exec.Command("bash", append([]string{"scripts/tps_notify.sh"}, args...)...)
	cmd.Env = append(os.Environ(), "TARITOOLS_PATH="+binDir, "HOME="+home, "TARITOOLS_CONFIG="+c.config,
		"TPS_CONFIRM_DELAY=0.1", "TPG_SHOPIFY_ORDER_ID_FIELD=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("notify %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func orderStatus(t *testing.T, c *cli, id string) core.OrderStatus {
	t.Helper()
	var o *core.Order
	c.okJSON(&o, "admin", "order", id, "--profile", "admin")
	if o == nil {
		t.Fatalf("order %s not found", id)
	}
	return o.Status
}

// TestNotifyScriptPaysOrder is the hot wallet's path end to end: a customer
// claims with a seed-word profile, the console wallet's notify script reports
// the payment (received, then confirmation) from the wallet's one-sided
// address with the order in its payment id, and the order becomes Paid.
func TestNotifyScriptPaysOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		c := newCLI(t)
		setupMerchant(t, srv, c)
		const orderID = "5674593747156"
		srv.newOrder(t, 5674593747156, 7411837567188, "2.50")

		claim := c.ok("user", "claim", orderID, "--profile", "alice")
		for _, want := range []string{"Order id: " + orderID, "Status: New", "2.500000 XTR", addr(srv.Hot), "tari://pay?", "amount=2500000", "order_id=" + orderID, "█"} {
			if !strings.Contains(claim, want) {
				t.Fatalf("claim output lacks %q:\n%s", want, claim)
			}
		}

		pid := "data(" + hex.EncodeToString([]byte(orderID)) + ")"
		args := []string{"received", "2.500000 T", "987654321", "", officialOneSided, addr(srv.Hot), "Pending",
			"excess", "nonce", "sig", "0", "Inbound", pid}
		runNotifyScript(t, c, args...)
		var pays []core.Payment
		c.okJSON(&pays, "admin", "order-payments", orderID, "--profile", "admin")
		if len(pays) != 1 || pays[0].Status != core.PaymentReceived || pays[0].Amount != 2_500_000 || pays[0].Sender != officialOneSided {
			t.Fatalf("after received: %+v", pays)
		}
		if st := orderStatus(t, c, orderID); st != core.OrderNew {
			t.Fatalf("order %s after received, want New", st)
		}

		args[0] = "confirmation"
		runNotifyScript(t, c, args...)
		if st := orderStatus(t, c, orderID); st != core.OrderPaid {
			t.Fatalf("order %s after confirmation, want Paid", st)
		}
		c.okJSON(&pays, "admin", "order-payments", orderID, "--profile", "admin")
		if len(pays) != 1 || pays[0].Status != core.PaymentConfirmed {
			t.Fatalf("after confirmation: %+v", pays)
		}
	})
}

// TestWalletCommandLines runs the documented command lines directly: a
// memo-signed claim in --memo, µT amounts, repeated calls, and failures.
func TestWalletCommandLines(t *testing.T) {
	srv := startServer(t, storetest.SQLiteURL(t))
	c := newCLI(t)
	setupMerchant(t, srv, c)
	srv.newOrder(t, 2002, 42, "1.00")

	// Alice pays with a signed claim as the memo (one-step flow).
	cs, err := seedwords.FromMnemonic(officialPhrase, nil)
	if err != nil {
		t.Fatal(err)
	}
	spend := cs.SpendKey()
	key, _ := tari.ParseSecretKey(hex.EncodeToString(spend[:]))
	profileAddr, _ := tari.ParseAddress(officialProfileAddr)
	memo := tari.SignMemo(key, profileAddr, "2002")
	memoJSON := `{"address":"` + memo.Address + `","order_id":"2002","signature":"` + memo.Signature + `"}`

	// Human text by default: a sentence and the payment as a table.
	out := c.ok("wallet", "received", "--profile", hotWalletProfile, "--amount", "1000000", "--txid", "tx-a",
		"--memo", memoJSON, "--sender", officialProfileAddr, "--payment_id", "")
	if !strings.Contains(out, "Payment tx-a recorded.") || !strings.Contains(out, "1.000000 XTR") || !strings.Contains(out, "TXID") || strings.Contains(out, `"txid"`) {
		t.Fatalf("received output: %s", out)
	}
	// A duplicate notification is acknowledged and changes nothing.
	out = c.ok("wallet", "received", "--profile", hotWalletProfile, "--amount", "1000000 uT", "--txid", "tx-a",
		"--memo", memoJSON, "--sender", officialProfileAddr)
	if !strings.Contains(out, "Payment already exists.") {
		t.Fatalf("duplicate: %s", out)
	}
	var wr walletResult
	c.okJSON(&wr, "wallet", "confirmed", "--profile", hotWalletProfile, "--txid", "tx-a")
	if !wr.Success || wr.TxID != "tx-a" || wr.Message != "Payment tx-a confirmed successfully." || wr.Payment != nil {
		t.Fatalf("confirmed --json: %+v", wr)
	}
	if st := orderStatus(t, c, "2002"); st != core.OrderPaid {
		t.Fatalf("2002 is %s, want Paid", st)
	}
	out = c.ok("wallet", "confirmed", "--profile", hotWalletProfile, "--txid", "tx-a")
	if !strings.Contains(out, "already confirmed") {
		t.Fatalf("second confirmation: %s", out)
	}

	// Newer wallets carry the signed claim in the payment id instead of the
	// memo: taritools hands it to the server as the memo.
	srv.newOrder(t, 2003, 43, "1.00")
	claim3 := tari.SignMemo(key, profileAddr, "2003")
	claimJSON := `{"address":"` + claim3.Address + `","order_id":"2003","signature":"` + claim3.Signature + `"}`
	c.okJSON(&wr, "wallet", "received", "--profile", hotWalletProfile, "--amount", "1 T", "--txid", "tx-c",
		"--sender", officialProfileAddr, "--payment_id", "data("+hex.EncodeToString([]byte(claimJSON))+")")
	if wr.Payment == nil || wr.Payment.OrderID == nil || *wr.Payment.OrderID != "2003" || wr.Payment.TxID != "tx-c" {
		t.Fatalf("claim in payment id: %+v", wr)
	}
	if st := orderStatus(t, c, "2003"); st != core.OrderNew {
		t.Fatalf("2003 is %s, want New (claimed by the payment)", st)
	}

	// Unknown txid: the server answers success=false; taritools fails.
	if e := c.fail("wallet", "confirmed", "--profile", hotWalletProfile, "--txid", "nope"); !strings.Contains(e, "Could not confirm payment.") {
		t.Fatalf("unknown txid: %s", e)
	}
	// A wallet the server does not know: 401, explained.
	stranger := tari.GenerateSecretKey()
	c.ok("profile", "add", "--name", "stranger", "--secret-key", stranger.Hex(), "--server", srv.URL)
	e := c.fail("wallet", "received", "--profile", "stranger", "--amount", "5 T", "--txid", "tx-x", "--sender", officialOneSided)
	if !strings.Contains(e, "401") || !strings.Contains(e, "authorised wallet") {
		t.Fatalf("stranger: %s", e)
	}
	// Bad input is refused before anything is sent.
	if e := c.fail("wallet", "received", "--profile", hotWalletProfile, "--amount", "1.0000001 T", "--txid", "t", "--sender", officialOneSided); !strings.Contains(e, "six decimals") {
		t.Fatalf("amount: %s", e)
	}
	if e := c.fail("wallet", "received", "--profile", hotWalletProfile, "--amount", "1 T", "--txid", "t", "--sender", "nonsense"); !strings.Contains(e, "not a Tari address") {
		t.Fatalf("sender: %s", e)
	}
	// The unquoted amount of older notify scripts ("2.5" "T") still works.
	wr = walletResult{}
	c.okJSON(&wr, "wallet", "received", "--profile", hotWalletProfile, "--amount", "2.5", "T", "--txid", "tx-b", "--sender", officialOneSided,
		"--payment_id", "address_and_data("+officialOneSided+","+hex.EncodeToString([]byte("+1 555 123 4567"))+")")
	if wr.Payment == nil || wr.Payment.Amount != 2_500_000 || wr.Payment.OrderID != nil {
		t.Fatalf("split amount / phone payment id: %+v", wr)
	}
}

// TestNotifyScriptPaymentIDNoClaim: the console wallet (2025 argument order,
// payment id fifth in its Display form) reports a transfer to the order's
// payment-id address; nobody claimed the order, and it is paid.
func TestNotifyScriptPaymentIDNoClaim(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		c := newCLI(t)
		setupMerchant(t, srv, c)
		const orderID = "5674593747157"
		srv.newOrder(t, 5674593747157, 7411837567189, "2.50")

		pid := "sender_address(" + officialOneSided + "), sender_one_sided(true), fee(25), type(PaymentToOther), data(" + orderID + ")"
		args := []string{"received", "2.600000 T", "987654322", "", pid, officialOneSided, addr(srv.Hot), "Completed",
			"excess", "nonce", "sig", "", "Inbound"}
		runNotifyScript(t, c, args...)
		var pays []core.Payment
		c.okJSON(&pays, "admin", "order-payments", orderID, "--profile", "admin")
		if len(pays) != 1 || pays[0].Status != core.PaymentReceived || pays[0].Sender != officialOneSided {
			t.Fatalf("after received: %+v", pays)
		}
		args[0] = "confirmation"
		runNotifyScript(t, c, args...)
		if st := orderStatus(t, c, orderID); st != core.OrderPaid {
			t.Fatalf("order %s after confirmation, want Paid", st)
		}
	})
}
