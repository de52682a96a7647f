// Command email is an example plugin: it sends the merchant an email through
// an HTTP mail API (any service that accepts a JSON POST with a bearer key)
// when an order is paid and when a payment arrives.
//
// Settings (environment):
//
//	TPG_PLUGIN_EMAIL_API_URL   the mail API endpoint, e.g. https://api.mail.example/v1/send
//	TPG_PLUGIN_EMAIL_API_KEY   sent as "Authorization: Bearer <key>"
//	TPG_PLUGIN_EMAIL_TO        recipient
//	TPG_PLUGIN_EMAIL_FROM      sender (default shop@localhost)
//
// The request body is {"from","to","subject","text"}.
package main

import (
	"encoding/json"
	"fmt"

	"github.com/tari-payment/tps/sdk"
)

func init() {
	sdk.OnOrderPaid(func(ev sdk.Event, e sdk.OrderEvent) error {
		o := e.Order
		return send(fmt.Sprintf("Order %s paid", o.OrderID),
			fmt.Sprintf("Order %s (customer %s) is paid: %s.\nEvent %s at %s.", o.OrderID, o.CustomerID, tari(o.TotalPrice), ev.ID, ev.CreatedAt))
	})
	sdk.OnPaymentReceived(func(ev sdk.Event, e sdk.PaymentEvent) error {
		p := e.Payment
		order := "no order"
		if p.OrderID != nil {
			order = "order " + *p.OrderID
		}
		return send(fmt.Sprintf("Payment of %s received", tari(p.Amount)),
			fmt.Sprintf("Payment %s of %s from %s (%s) was received and awaits confirmation.\nEvent %s.", p.TxID, tari(p.Amount), p.Sender, order, ev.ID))
	})
}

func main() {}

// tari formats micro-Tari without floats.
func tari(ut int64) string {
	sign := ""
	if ut < 0 {
		sign, ut = "-", -ut
	}
	return fmt.Sprintf("%s%d.%06d XTR", sign, ut/1_000_000, ut%1_000_000)
}

func send(subject, text string) error {
	url, _ := sdk.Config("API_URL")
	key, _ := sdk.Config("API_KEY")
	to, _ := sdk.Config("TO")
	body, _ := json.Marshal(map[string]string{"from": sdk.ConfigOr("FROM", "shop@localhost"), "to": to, "subject": subject, "text": text})
	resp, err := sdk.Post(url, map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/json"}, body)
	if err != nil {
		return err
	}
	if resp.Retryable() {
		return fmt.Errorf("mail API answered %d", resp.Status)
	}
	if !resp.OK() {
		return sdk.Permanent(fmt.Errorf("mail API refused the message: %d %.200s", resp.Status, resp.Body))
	}
	sdk.Infof("sent %q to %s", subject, to)
	return nil
}
