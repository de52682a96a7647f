package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tari-payment/tps/core/tari"
)

// runOffline runs taritools in-process with args and returns its stdout.
func runOffline(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, _, err := runOfflineIO(t, "", args...)
	return out, err
}

// runOfflineIO runs taritools in-process with stdin and returns its stdout
// and stderr. Every call builds a fresh command tree, as main does, so no
// flag value carries over from an earlier call.
func runOfflineIO(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	rootCmd := newRootCommand()
	var out, errb bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&errb)
	rootCmd.SetIn(strings.NewReader(stdin))
	rootCmd.SetArgs(args)
	err := rootCmd.Execute()
	return out.String(), errb.String(), err
}

// The hot wallet and Alice of the reference e2e tests.
const (
	hotSecret   = "df158b8389c68aac01a91276b742d2527f951d3c7289e4ccdecfa0672947270e"
	hotAddress  = "14z3iHvgokZcXmokAYQKveeJ4rMqSGtPahrC2CPvx63UQmG"
	aliceSecret = "c63b5b436d007bec0566bff2f3512f3f962a6d43161fe48616e8dad58fd2b80d"
	aliceAddr   = "14wqR3rjyVbjgXDyLVaL97p3CksHc84cz9hLLMMTMYDjtBt"
)

func TestAddressCommand(t *testing.T) {
	out, err := runOffline(t, "address", "--json", "-n", "esmeralda")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	k, err := tari.ParseSecretKey(m["secret_key"])
	if err != nil {
		t.Fatal(err)
	}
	a := tari.NewAddress(tari.Esmeralda, k.PublicKey())
	if m["public_key"] != k.PublicKey().Hex() || m["base58"] != a.Base58() || m["emoji"] != a.Emoji() || m["hex"] != a.Hex() || m["network"] != "esmeralda" {
		t.Errorf("address output inconsistent with its key: %s", out)
	}
	for _, form := range []string{m["base58"], m["emoji"], m["hex"]} {
		if b, err := tari.ParseAddress(form); err != nil || !b.Equal(a) {
			t.Errorf("%q does not parse back: %v", form, err)
		}
	}
	// Two runs give two different keys.
	out2, _ := runOffline(t, "address", "--json")
	if out2 == out || strings.Contains(out2, m["secret_key"]) {
		t.Error("address does not generate a fresh key")
	}
	// Human output shows every form, and --seckey derives a known address.
	human, err := runOffline(t, "address", "-s", aliceSecret)
	if err != nil || !strings.Contains(human, aliceAddr) || !strings.Contains(human, "Emoji id:") {
		t.Errorf("human output: %v\n%s", err, human)
	}
}

func TestMemoCommandVerifies(t *testing.T) {
	out, err := runOffline(t, "memo", "-s", aliceSecret, "-o", "alice001", "--json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := tari.ParseMemoSignature(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("output is not a memo signature: %v\n%s", err, out)
	}
	if m.Address != aliceAddr || m.OrderID != "alice001" || !m.Verify() {
		t.Errorf("memo does not verify: %+v", m)
	}
	// The human form also carries the object, on its own line.
	human, err := runOffline(t, "memo", "--seckey", aliceSecret, "--order", "#1001", "-n", "nextnet")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(human), "\n")
	m, err = tari.ParseMemoSignature(lines[len(lines)-1])
	if err != nil || !m.Verify() || m.OrderID != "#1001" || m.ParsedAddress().Network != tari.Nextnet {
		t.Errorf("human memo: %v %+v", err, m)
	}
}

func TestTokenCommandParses(t *testing.T) {
	out, err := runOffline(t, "token", "-s", aliceSecret, "-r", "user,write", "-c", "1725298445", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	c, err := tari.ParseLoginToken(got.Token)
	if err != nil {
		t.Fatal(err)
	}
	if c.Address.Base58() != aliceAddr || c.Nonce != 1725298445 || strings.Join(c.DesiredRoles, ",") != "user,write" {
		t.Errorf("claims %+v", c)
	}
	// Default nonce is the current Unix time in seconds; default role user.
	out, err = runOffline(t, "token", "-s", aliceSecret)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	c, err = tari.ParseLoginToken(lines[len(lines)-1])
	if err != nil || c.Nonce < 1700000000 || c.Nonce > 1e11 || strings.Join(c.DesiredRoles, ",") != "user" {
		t.Errorf("default token: %v %+v", err, c)
	}
}

type walletBodyJSON struct {
	Payment *struct {
		Sender  string  `json:"sender"`
		Amount  int64   `json:"amount"`
		TxID    string  `json:"txid"`
		Memo    *string `json:"memo"`
		OrderID *string `json:"order_id"`
	} `json:"payment"`
	Confirmation *struct {
		TxID string `json:"txid"`
	} `json:"confirmation"`
	Auth struct {
		Address   string `json:"address"`
		Nonce     int64  `json:"nonce"`
		Signature string `json:"signature"`
	} `json:"auth"`
}

// verifyBody checks a body as the server does: parse, re-serialise the
// payload, verify against the auth address.
func verifyBody(t *testing.T, out string) walletBodyJSON {
	t.Helper()
	var b walletBodyJSON
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	wallet, err := tari.ParseAddress(b.Auth.Address)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := tari.ParseSignature(b.Auth.Signature)
	if err != nil {
		t.Fatal(err)
	}
	var payload []byte
	if b.Payment != nil {
		sender, err := tari.ParseAddress(b.Payment.Sender)
		if err != nil {
			t.Fatal(err)
		}
		payload = tari.PaymentPayloadJSON(sender, b.Payment.Amount, b.Payment.TxID, b.Payment.Memo, b.Payment.OrderID)
	} else {
		payload = tari.ConfirmationPayloadJSON(b.Confirmation.TxID)
	}
	if !tari.VerifyWallet(wallet, b.Auth.Nonce, payload, sig) {
		t.Fatalf("body does not verify: %s", out)
	}
	return b
}

func TestPaymentAndConfirmCommandsVerify(t *testing.T) {
	memo := `{"address":"x","order_id":"1"} </b> "quoted" ünï`
	out, err := runOffline(t, "payment", "-s", hotSecret, "-a", "2.5 T", "-t", "payment001", "-m", memo,
		"-x", tari.DummyAddress("1234").Emoji(), "-o", "#1001", "-c", "7", "--json")
	if err != nil {
		t.Fatal(err)
	}
	b := verifyBody(t, out)
	if b.Auth.Address != hotAddress || b.Auth.Nonce != 7 || b.Payment.Amount != 2500000 || *b.Payment.Memo != memo ||
		*b.Payment.OrderID != "#1001" || b.Payment.Sender != tari.DummyAddress("1234").Base58() {
		t.Errorf("body: %s", out)
	}
	// Optional fields left out are sent as null; the default nonce is the
	// time in milliseconds.
	out, err = runOffline(t, "payment", "-s", hotSecret, "-a", "2500000000", "-t", "payment001", "-x", aliceAddr, "--json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"memo":null,"order_id":null`) {
		t.Errorf("nulls missing: %s", out)
	}
	b = verifyBody(t, out)
	if b.Auth.Nonce < 1e12 {
		t.Errorf("default nonce %d is not in milliseconds", b.Auth.Nonce)
	}
	for _, amount := range []struct {
		in   string
		want int64
	}{{"100 µT", 100}, {"100uT", 100}, {"0.000001 T", 1}, {"42", 42}} {
		out, err := runOffline(t, "payment", "-s", hotSecret, "-a", amount.in, "-t", "x", "-x", aliceAddr, "--json")
		if err != nil {
			t.Fatalf("%s: %v", amount.in, err)
		}
		if b := verifyBody(t, out); b.Payment.Amount != amount.want {
			t.Errorf("%s → %d", amount.in, b.Payment.Amount)
		}
	}

	out, err = runOffline(t, "confirm", "-s", hotSecret, "-t", "payment001", "-c", "8", "--json")
	if err != nil {
		t.Fatal(err)
	}
	b = verifyBody(t, out)
	if b.Confirmation == nil || b.Confirmation.TxID != "payment001" || b.Auth.Nonce != 8 {
		t.Errorf("confirmation: %s", out)
	}
	human, err := runOffline(t, "confirm", "-s", hotSecret, "-t", "payment001")
	if err != nil || !strings.HasPrefix(human, "POST /wallet/tx_confirmation\n") {
		t.Errorf("human confirm: %v %q", err, human)
	}
	verifyBody(t, strings.SplitN(strings.TrimSpace(human), "\n", 2)[1])
}

func TestOfflineInputErrors(t *testing.T) {
	t.Setenv("TARITOOLS_CONFIG", filepath.Join(t.TempDir(), "profiles.json"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"memo", "-s", "abc", "-o", "1"}, "--seckey: not 64 hex characters"},
		{[]string{"memo", "-s", strings.Repeat("f", 64), "-o", "1"}, "--seckey: not a valid secret key"},
		{[]string{"memo", "-s", aliceSecret}, `required flag(s) "order" not set`},
		{[]string{"memo", "-s", aliceSecret, "-o", ""}, "--order: missing"},
		{[]string{"memo", "-s", aliceSecret, "-o", "1", "-n", "moon"}, `--network: unknown network "moon"`},
		{[]string{"token", "-s", aliceSecret, "-r", "user,god"}, `--roles: unknown role "god"`},
		{[]string{"token", "-s", aliceSecret, "-c", "soon"}, `--nonce: "soon" is not a non-negative integer`},
		{[]string{"token"}, "--seckey: missing"},
		{[]string{"payment", "-s", hotSecret, "-t", "t", "-x", aliceAddr}, `required flag(s) "amount" not set`},
		{[]string{"payment", "-s", hotSecret, "-a", "", "-t", "t", "-x", aliceAddr}, "--amount: missing"},
		{[]string{"payment", "-s", hotSecret, "-a", "1.5", "-t", "t", "-x", aliceAddr}, "--amount:"},
		{[]string{"payment", "-s", hotSecret, "-a", "0.0000001 T", "-t", "t", "-x", aliceAddr}, "more than six decimals"},
		{[]string{"payment", "-s", hotSecret, "-a", "1", "-x", aliceAddr}, `required flag(s) "txid" not set`},
		{[]string{"payment", "-s", hotSecret, "-a", "1", "-t", "t", "-x", "14notanaddress"}, "--sender: not a Tari address"},
		{[]string{"payment", "-s", hotSecret, "-a", "1", "-t", "t"}, `required flag(s) "sender" not set`},
		{[]string{"payment", "-s", hotSecret, "-a", "1", "-t", "t", "-x", " "}, "--sender: missing address"},
		{[]string{"confirm", "-s", hotSecret}, `required flag(s) "txid" not set`},
		{[]string{"confirm", "-s", hotSecret, "-t", ""}, "--txid: missing"},
		{[]string{"memo", "-s", aliceSecret, "-p", "me", "-o", "1"}, "none of the others can be"},
		{[]string{"memo", "--seckey-stdin", "-o", "1"}, "--seckey-stdin: nothing on standard input"},
		{[]string{"token", "-p", "nobody"}, "profile not found"},
		{[]string{"confirm", "-s", hotSecret, "-t", "x", "-c", "-1"}, "--nonce:"},
	} {
		t.Setenv(secKeyEnv, "")
		_, err := runOffline(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), strings.Repeat("f", 64)) {
			t.Errorf("error echoes the secret: %v", err)
		}
	}
	// The secret can come from the environment instead of the command line.
	t.Setenv(secKeyEnv, aliceSecret)
	out, err := runOffline(t, "memo", "-o", "o1", "--json")
	if err != nil || !strings.Contains(out, aliceAddr) {
		t.Errorf("env secret: %v %s", err, out)
	}
}

// TestSigningKeySources: memo, payment, confirm and token sign with a
// profile's key (-p) or a key on standard input, without a warning; a key
// given with -s still works but is warned about (it shows in ps).
func TestSigningKeySources(t *testing.T) {
	t.Setenv("TARITOOLS_CONFIG", filepath.Join(t.TempDir(), "profiles.json"))
	t.Setenv(secKeyEnv, "")
	if _, err := runOffline(t, "profile", "add", "--name", "hot", "--secret-key", hotSecret); err != nil {
		t.Fatal(err)
	}
	if _, err := runOffline(t, "profile", "add", "--name", "seed", "--seed-words", officialPhrase); err != nil {
		t.Fatal(err)
	}
	memoFrom := func(stdin string, args ...string) (tari.MemoSignature, string) {
		t.Helper()
		out, errs, err := runOfflineIO(t, stdin, append([]string{"memo", "-o", "o-7", "--json"}, args...)...)
		if err != nil {
			t.Fatalf("memo %v: %v", args, err)
		}
		m, err := tari.ParseMemoSignature(strings.TrimSpace(out))
		if err != nil || !m.Verify() || m.OrderID != "o-7" {
			t.Fatalf("memo %v: %v %q", args, err, out)
		}
		return m, errs
	}
	for _, c := range []struct {
		stdin string
		args  []string
		addr  string
	}{
		{"", []string{"-p", "hot"}, hotAddress},
		{"", []string{"--profile", "seed"}, officialProfileAddr},
		{aliceSecret + "\n", []string{"--seckey-stdin"}, aliceAddr},
		{aliceSecret + "\n", []string{"-s", "-"}, aliceAddr},
	} {
		m, errs := memoFrom(c.stdin, c.args...)
		if m.Address != c.addr {
			t.Errorf("memo %v signed as %s, want %s", c.args, m.Address, c.addr)
		}
		if errs != "" {
			t.Errorf("memo %v warned: %s", c.args, errs)
		}
	}
	if m, errs := memoFrom("", "-s", aliceSecret); m.Address != aliceAddr || !strings.Contains(errs, "ps") || !strings.Contains(errs, "--profile") {
		t.Errorf("-s: %s, warning %q", m.Address, errs)
	}
	t.Setenv(secKeyEnv, aliceSecret)
	if m, errs := memoFrom(""); m.Address != aliceAddr || errs != "" {
		t.Errorf("$%s: %s, warning %q", secKeyEnv, m.Address, errs)
	}
	t.Setenv(secKeyEnv, "")

	out, errs, err := runOfflineIO(t, "", "payment", "-p", "hot", "-a", "1 T", "-t", "tx-p", "-x", aliceAddr, "--json")
	if err != nil || errs != "" {
		t.Fatalf("payment -p: %v %s", err, errs)
	}
	if b := verifyBody(t, out); b.Auth.Address != hotAddress || b.Payment.Amount != 1_000_000 {
		t.Errorf("payment -p body: %s", out)
	}
	out, _, err = runOfflineIO(t, hotSecret+"\n", "confirm", "--seckey-stdin", "-t", "tx-p", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if b := verifyBody(t, out); b.Auth.Address != hotAddress || b.Confirmation.TxID != "tx-p" {
		t.Errorf("confirm stdin body: %s", out)
	}
	out, errs, err = runOfflineIO(t, "", "token", "-p", "seed", "-r", "user,read_all", "--json")
	if err != nil || errs != "" {
		t.Fatalf("token -p: %v %s", err, errs)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatal(err)
	}
	if c, err := tari.ParseLoginToken(tok.Token); err != nil || c.Address.Base58() != officialProfileAddr || strings.Join(c.DesiredRoles, ",") != "user,read_all" {
		t.Errorf("token -p: %v %+v", err, c)
	}
	// A profile is on one network; asking for another is an error, not a
	// silent change of address.
	if _, err := runOffline(t, "memo", "-p", "hot", "-o", "1", "-n", "nextnet"); err == nil || !strings.Contains(err.Error(), "mainnet") {
		t.Errorf("network mismatch: %v", err)
	}
}

// TestHelpShowsRequiredFlags: every flag cobra insists on says "(required)"
// in its command's help, the known required flags are enforced, and every
// command accepts --json.
func TestHelpShowsRequiredFlags(t *testing.T) {
	want := map[string][]string{
		"memo": {"order"}, "payment": {"amount", "txid", "sender"}, "confirm": {"txid"},
		"wallet received": {"amount", "txid", "sender"}, "wallet confirmed": {"txid"},
		"admin fulfil": {"reason"}, "admin cancel": {"reason"}, "admin reassign": {"reason"}, "admin reset": {"reason"},
		"admin wallets add": {"ip"}, "admin roles": {"address"}, "setup add-user": {"address", "roles"}, "profile add": {"name"},
	}
	seen := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" || c.Parent() != nil && c.Parent().Name() == "completion" {
			return
		}
		path := strings.TrimPrefix(c.CommandPath(), "taritools ")
		help, err := runOffline(t, append(strings.Fields(path), "--help")...)
		if c.Parent() == nil {
			help, err = runOffline(t, "--help")
		}
		if err != nil {
			t.Fatalf("%s --help: %v", path, err)
		}
		if c.Runnable() && c.Flag("json") == nil {
			t.Errorf("%s has no --json", path)
		}
		required := map[string]bool{}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if isRequired(f) {
				required[f.Name] = true
			}
		})
		for _, name := range want[path] {
			if !required[name] {
				t.Errorf("%s: --%s is not marked required", path, name)
			}
			seen++
		}
		for name := range required {
			line := ""
			for _, l := range strings.Split(help, "\n") {
				if strings.Contains(l, "--"+name+" ") {
					line = l
				}
			}
			if !strings.Contains(line, "(required)") {
				t.Errorf("%s --help does not say --%s is required:\n%s", path, name, help)
			}
		}
	}
	walk(newRootCommand())
	total := 0
	for _, names := range want {
		total += len(names)
	}
	if seen != total {
		t.Errorf("checked %d required flags, want %d (a command in the list was not found)", seen, total)
	}
	// The interactive mode is listed.
	help, _ := runOffline(t, "--help")
	if !strings.Contains(help, "interactive") || !strings.Contains(help, "Interactive mode: run taritools with no command") {
		t.Errorf("root help does not list the interactive mode:\n%s", help)
	}
	// Cobra refuses a missing required flag before anything runs.
	if _, err := runOffline(t, "admin", "reset", "1001"); err == nil || !strings.Contains(err.Error(), `"reason"`) {
		t.Errorf("admin reset without --reason: %v", err)
	}
}
