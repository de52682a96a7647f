package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/client"
	"github.com/tari-payment/tps/cmd/taritools/internal/notify"
	"github.com/tari-payment/tps/cmd/taritools/internal/profiles"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// hotWalletProfile is the profile name the console wallet's notify script uses.
const hotWalletProfile = "TPS Hot Wallet"

type walletReceivedOpts struct {
	sessionOpts
	amount, txid, memo, sender, paymentID, idField string
}

func newWalletCommand() *cobra.Command {
	walletCmd := &cobra.Command{
		Use:   "wallet",
		Short: "Hot-wallet notifications (called by the console wallet's notify script)",
	}
	var ro walletReceivedOpts
	received := &cobra.Command{
		Use:   "received",
		Short: "Tell the server the hot wallet received a payment",
		Example: `  taritools wallet received --profile "TPS Hot Wallet" --amount "2.500000 T" --txid 123 \
      --memo "" --sender 14wqR3rjy... --payment_id "data(3132333435)"`,
		// The notify script passes the wallet's amount unquoted ("2.500000 T"),
		// so a lone unit may arrive as an extra argument.
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ro.json = newPrinter(c).json
			amount := ro.amount
			if len(args) == 1 {
				amount += " " + args[0]
			}
			return walletReceived(c, &ro, amount)
		},
	}
	f := received.Flags()
	f.StringVarP(&ro.profile, "profile", "p", "", `hot-wallet profile (default: the default profile, else "TPS Hot Wallet")`)
	f.StringVar(&ro.server, "server", "", "server URL (overrides the profile's)")
	f.StringVarP(&ro.amount, "amount", "a", "", "amount: µT integer, \"<decimal> T\", \"<int> uT\" or \"<int> µT\"")
	f.StringVarP(&ro.txid, "txid", "t", "", "transaction id")
	f.StringVarP(&ro.memo, "memo", "m", "", "the transfer's memo (may hold a signed order claim)")
	f.StringVar(&ro.memo, "message", "", "alias of --memo (older notify scripts)")
	f.StringVarP(&ro.sender, "sender", "s", "", "sender's address (base58, emoji or hex)")
	f.StringVar(&ro.paymentID, "payment_id", "", "the wallet's payment id: data(<hex>), address_and_data(<addr>,<hex>) or text")
	f.StringVar(&ro.paymentID, "payment-id", "", "alias of --payment_id")
	f.StringVar(&ro.idField, "order-id-field", "", "id or name (default $TPG_SHOPIFY_ORDER_ID_FIELD, else id)")
	_ = received.MarkFlagRequired("amount")
	_ = received.MarkFlagRequired("txid")
	_ = received.MarkFlagRequired("sender")

	var co sessionOpts
	var txid string
	confirmed := &cobra.Command{
		Use:     "confirmed",
		Aliases: []string{"confirmation"},
		Short:   "Tell the server a received payment is confirmed on chain",
		Example: `  taritools wallet confirmed --profile "TPS Hot Wallet" --txid 123`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			co.json = newPrinter(c).json
			s, err := walletSession(&co, c)
			if err != nil {
				return err
			}
			ctx, cancel := cmdContext(c)
			defer cancel()
			res, err := s.client.TxConfirmation(ctx, txid, walletNonce(s))
			return reportWallet(s, res, err, txid)
		},
	}
	cf := confirmed.Flags()
	cf.StringVarP(&co.profile, "profile", "p", "", `hot-wallet profile (default: the default profile, else "TPS Hot Wallet")`)
	cf.StringVar(&co.server, "server", "", "server URL (overrides the profile's)")
	cf.StringVarP(&txid, "txid", "t", "", "transaction id")
	_ = confirmed.MarkFlagRequired("txid")

	walletCmd.AddCommand(received, confirmed)
	return walletCmd
}

// walletSession opens the named profile, falling back to the notify script's
// "TPS Hot Wallet" when no name is given and there is no default.
func walletSession(o *sessionOpts, c *cobra.Command) (*session, error) {
	if o.profile == "" {
		if f, err := profiles.Load(); err == nil {
			if _, err := f.Get(""); err != nil {
				if _, err := f.Get(hotWalletProfile); err == nil {
					o.profile = hotWalletProfile
				}
			}
		}
	}
	return openSession(o, c.OutOrStdout())
}

// walletNonce is the current time in milliseconds, strictly above the last
// nonce this profile used (two notifications in one millisecond still work).
func walletNonce(s *session) int64 {
	now := uint64(time.Now().UnixMilli())
	if ns, ok := s.client.Cache.(client.NonceSource); ok {
		return int64(ns.NextNonce(now))
	}
	return int64(now)
}

func walletReceived(c *cobra.Command, o *walletReceivedOpts, amountText string) error {
	amount, err := notify.ParseAmount(amountText)
	if err != nil {
		return err
	}
	s, err := walletSession(&o.sessionOpts, c)
	if err != nil {
		return err
	}
	sender, err := parseSender(o.sender, s)
	if err != nil {
		return err
	}
	p := client.NewPayment{Sender: sender, Amount: amount, TxID: o.txid}
	if o.memo != "" {
		memo := o.memo
		p.Memo = &memo
	}
	text, err := notify.DecodePaymentID(o.paymentID)
	if err != nil {
		warnf("warning: %v; sending the payment without an order id\n", err)
	}
	if text != "" {
		if _, err := tari.ParseMemoSignature(text); err == nil {
			// A signed claim in the payment id: let the server verify it as
			// the memo (it then sets the order id itself).
			if p.Memo == nil {
				p.Memo = &text
			}
		} else if id, ok := notify.OrderIDFromText(text, orderIDByName(o.idField)); ok {
			p.OrderID = &id
		} else {
			warnf("note: payment id %q does not name an order; sending the payment without an order id\n", text)
		}
	}
	ctx, cancel := cmdContext(c)
	defer cancel()
	res, err := s.client.IncomingPayment(ctx, p, walletNonce(s))
	return reportWallet(s, res, err, o.txid)
}

func orderIDByName(flag string) bool {
	v := flag
	if v == "" {
		v = os.Getenv("TPG_SHOPIFY_ORDER_ID_FIELD")
	}
	return strings.EqualFold(strings.TrimSpace(v), "name")
}

// parseSender accepts any address form, or a bare public key (older wallets
// pass the sender's public key), which becomes a single address on the
// profile's network.
func parseSender(text string, s *session) (string, error) {
	t := strings.TrimSpace(text)
	if a, err := tari.ParseAddress(t); err == nil {
		return a.Base58(), nil
	}
	if pk, err := tari.ParsePublicKey(t); err == nil {
		n, err := tari.ParseNetwork(s.profile.Network)
		if err != nil {
			return "", err
		}
		return tari.NewAddress(n, pk).Base58(), nil
	}
	return "", fmt.Errorf("sender %q is not a Tari address", text)
}

// walletResult is what wallet received/confirmed print with --json: the
// server's answer, with the recorded payment decoded when the server sent it
// (inside its message, as the reference does).
type walletResult struct {
	Success bool          `json:"success"`
	Message string        `json:"message"`
	TxID    string        `json:"txid"`
	Payment *core.Payment `json:"payment,omitempty"`
}

func reportWallet(s *session, res client.JSONResponse, err error, txid string) error {
	if err != nil {
		return s.explain(err)
	}
	if !res.Success {
		return fmt.Errorf("the server did not record it: %s", res.Message)
	}
	out := walletResult{Success: true, Message: res.Message, TxID: txid}
	var p core.Payment
	if strings.HasPrefix(strings.TrimSpace(res.Message), "{") && json.Unmarshal([]byte(res.Message), &p) == nil && p.TxID != "" {
		out.Payment = &p
	}
	return s.result(out, func(w io.Writer) {
		if out.Payment == nil {
			fmt.Fprintln(w, res.Message)
			return
		}
		fmt.Fprintf(w, "Payment %s recorded.\n", p.TxID)
		paymentsTable(w, []core.Payment{p})
	})
}
