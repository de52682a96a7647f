package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/cmd/taritools/internal/notify"
	"github.com/tari-payment/tps/core/tari"
)

// walletBody builds a signed hot-wallet notification body. The payload is
// written in the server's canonical form so that the bytes sent are the
// bytes signed.
func walletBody(k tari.SecretKey, wallet tari.Address, nonce int64, field string, payload []byte) []byte {
	sig := tari.SignWallet(k, wallet, nonce, payload)
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"%s":%s,"auth":{"address":"%s","nonce":%d,"signature":"%s"}}`, field, payload, wallet.Base58(), nonce, sig.Hex())
	return b.Bytes()
}

// printWalletBody prints the body (alone with --json, as it was signed).
func printWalletBody(c *cobra.Command, route string, body []byte) error {
	return emit(c, json.RawMessage(body), func(w io.Writer) {
		fmt.Fprintf(w, "POST %s\n%s\n", route, body)
	})
}

// newPaymentCommands builds pay and confirm, which share their key flags.
func newPaymentCommands() []*cobra.Command {
	var (
		keys                                     keyFlags
		amount, txid, memo, sender, order, nonce string
	)
	pay := &cobra.Command{
		Use:   "payment",
		Short: "Make a signed /wallet/incoming_payment body",
		Long: `Prints the JSON body a hot wallet POSTs to /wallet/incoming_payment, signed
with the hot wallet's key (from --profile, standard input, $TARITOOLS_SECKEY
or --seckey). The nonce defaults to the current time in
milliseconds and must exceed the last nonce the server saw from this wallet.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			k, wallet, err := keys.resolve(c)
			if err != nil {
				return err
			}
			if err := requireFlag("amount", amount); err != nil {
				return err
			}
			micro, err := notify.ParseAmount(amount)
			if err != nil {
				return fmt.Errorf("--amount: %v", err)
			}
			if err := requireFlag("txid", txid); err != nil {
				return err
			}
			from, err := parseAddressFlag("sender", sender)
			if err != nil {
				return err
			}
			n, err := parseNonceFlag(c, nonce, nowMillis())
			if err != nil {
				return err
			}
			var memoP, orderP *string
			if c.Flags().Changed("memo") {
				memoP = &memo
			}
			if c.Flags().Changed("order") {
				orderP = &order
			}
			payload := tari.PaymentPayloadJSON(from, micro, txid, memoP, orderP)
			return printWalletBody(c, "/wallet/incoming_payment", walletBody(k, wallet, n, "payment", payload))
		},
	}
	addKeyFlags(pay, &keys)
	f := pay.Flags()
	f.StringVarP(&amount, "amount", "a", "", `amount: µT integer, "<decimal> T", "<int> uT" or "<int> µT" (required)`)
	f.StringVarP(&txid, "txid", "t", "", "transaction id (required)")
	f.StringVarP(&memo, "memo", "m", "", "payment memo (omitted: null)")
	f.StringVarP(&sender, "sender", "x", "", "sender's address, any form (required)")
	f.StringVarP(&order, "order", "o", "", "order id (omitted: null)")
	f.StringVarP(&nonce, "nonce", "c", "", "nonce (default: current time in milliseconds)")
	for _, name := range []string{"amount", "txid", "sender"} {
		_ = pay.MarkFlagRequired(name)
	}

	var (
		ckeys         keyFlags
		ctxid, cnonce string
	)
	confirm := &cobra.Command{
		Use:   "confirm",
		Short: "Make a signed /wallet/tx_confirmation body",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			k, wallet, err := ckeys.resolve(c)
			if err != nil {
				return err
			}
			if err := requireFlag("txid", ctxid); err != nil {
				return err
			}
			n, err := parseNonceFlag(c, cnonce, nowMillis())
			if err != nil {
				return err
			}
			body := walletBody(k, wallet, n, "confirmation", tari.ConfirmationPayloadJSON(ctxid))
			return printWalletBody(c, "/wallet/tx_confirmation", body)
		},
	}
	addKeyFlags(confirm, &ckeys)
	confirm.Flags().StringVarP(&ctxid, "txid", "t", "", "transaction id (required)")
	confirm.Flags().StringVarP(&cnonce, "nonce", "c", "", "nonce (default: current time in milliseconds)")
	_ = confirm.MarkFlagRequired("txid")
	return []*cobra.Command{pay, confirm}
}
