// Command dashboard is an example plugin: it keeps running totals of paid
// orders and received/confirmed payments and pushes them (JSON POST) to a
// dashboard URL after every event.
//
// Settings: TPG_PLUGIN_DASHBOARD_URL (required), TPG_PLUGIN_DASHBOARD_TOKEN
// (optional, sent as "Authorization: Bearer <token>").
//
// The totals live in the plugin instance's memory, so they count from the
// server's start (or from the last plugin crash); the pushed document says
// since when. Delivery is at least once, so recently seen event ids are
// remembered to avoid counting a redelivered event twice.
package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tari-payment/tps/sdk"
)

type totals struct {
	Since              time.Time `json:"since"`
	OrdersPaid         int64     `json:"orders_paid"`
	OrdersPaidMicro    int64     `json:"orders_paid_total"` // µT
	OrdersAnnulled     int64     `json:"orders_annulled"`
	PaymentsReceived   int64     `json:"payments_received"`
	ReceivedMicro      int64     `json:"payments_received_total"` // µT
	PaymentsConfirmed  int64     `json:"payments_confirmed"`
	ConfirmedMicro     int64     `json:"payments_confirmed_total"` // µT
	LastEventID        string    `json:"last_event_id"`
	LastEventType      string    `json:"last_event_type"`
	LastEventCreatedAt time.Time `json:"last_event_created_at"`
}

var (
	t      = totals{Since: time.Now().UTC()}
	seen   = map[string]bool{}
	recent []string
)

func init() {
	sdk.OnOrderPaid(func(ev sdk.Event, e sdk.OrderEvent) error {
		return count(ev, func() { t.OrdersPaid++; t.OrdersPaidMicro += e.Order.TotalPrice })
	})
	sdk.OnOrderAnnulled(func(ev sdk.Event, e sdk.OrderAnnulledEvent) error {
		return count(ev, func() { t.OrdersAnnulled++ })
	})
	sdk.OnPaymentReceived(func(ev sdk.Event, e sdk.PaymentEvent) error {
		return count(ev, func() { t.PaymentsReceived++; t.ReceivedMicro += e.Payment.Amount })
	})
	sdk.OnPaymentConfirmed(func(ev sdk.Event, e sdk.PaymentEvent) error {
		return count(ev, func() { t.PaymentsConfirmed++; t.ConfirmedMicro += e.Payment.Amount })
	})
}

func main() {}

// count applies an event once, then pushes the totals. A failed push is
// retried by the server; the event is not counted again.
func count(ev sdk.Event, apply func()) error {
	if !seen[ev.ID] {
		seen[ev.ID] = true
		recent = append(recent, ev.ID)
		if len(recent) > 1000 {
			delete(seen, recent[0])
			recent = recent[1:]
		}
		apply()
		t.LastEventID, t.LastEventType, t.LastEventCreatedAt = ev.ID, ev.Type, ev.CreatedAt
	}
	url, _ := sdk.Config("URL")
	body, _ := json.Marshal(t)
	h := map[string]string{"Content-Type": "application/json"}
	if tok, ok := sdk.Config("TOKEN"); ok && tok != "" {
		h["Authorization"] = "Bearer " + tok
	}
	resp, err := sdk.Post(url, h, body)
	if err != nil {
		return err
	}
	if !resp.OK() {
		return fmt.Errorf("dashboard answered %d", resp.Status)
	}
	return nil
}
