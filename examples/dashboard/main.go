// Command dashboard is an example plugin: it keeps exact totals of paid
// orders and received payments, overall and per day, in plugin state, and
// serves them to admins (role read_all) as a page with server-drawn SVG
// charts at /plugins/dashboard/, as JSON at /plugins/dashboard/totals.json
// and as CSV at /plugins/dashboard/days.csv.
//
// Exactness comes from the host: state written by an event handler commits
// in the transaction that acknowledges the event, so an event delivered
// again (after a crash of the server, say) never counts twice, and one whose
// handler failed counts when it finally succeeds. The plugin needs no
// de-duplication of its own. Days are UTC days of the event's creation.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"math"
	"strings"
	"time"

	"github.com/tari-payment/tps/sdk"
)

// Totals are the overall counters (amounts in micro-Tari).
type Totals struct {
	OrdersPaid      int64 `json:"orders_paid"`
	OrdersPaidMicro int64 `json:"orders_paid_total"`
	Payments        int64 `json:"payments_received"`
	PaymentsMicro   int64 `json:"payments_received_total"`
	LastEventTime   int64 `json:"last_event_unix_ms,omitempty"`
}

// Day is one UTC day's counters.
type Day struct {
	Date          string `json:"date"` // YYYY-MM-DD
	OrdersPaid    int64  `json:"orders_paid"`
	OrdersMicro   int64  `json:"orders_paid_total"`
	Payments      int64  `json:"payments_received"`
	PaymentsMicro int64  `json:"payments_received_total"`
}

const (
	totalsKey = "totals"
	dayPrefix = "day/"
	chartDays = 31 // the charts show at most the last 31 days
)

func init() {
	sdk.OnOrderPaid(func(ev sdk.Event, e sdk.OrderEvent) error {
		return record(ev, func(t *Totals, d *Day) error {
			price := e.Order.TotalPrice
			return addAll(add{&t.OrdersPaid, 1}, add{&t.OrdersPaidMicro, price}, add{&d.OrdersPaid, 1}, add{&d.OrdersMicro, price})
		})
	})
	sdk.OnPaymentReceived(func(ev sdk.Event, e sdk.PaymentEvent) error {
		return record(ev, func(t *Totals, d *Day) error {
			amount := e.Payment.Amount
			return addAll(add{&t.Payments, 1}, add{&t.PaymentsMicro, amount}, add{&d.Payments, 1}, add{&d.PaymentsMicro, amount})
		})
	})
	sdk.HandleRoute("/", page)
	sdk.HandleRoute("/totals.json", totalsJSON)
	sdk.HandleRoute("/days.csv", daysCSV)
}

func main() {}

// record reads the totals and the event's day, applies the event and writes
// both back; the host commits the writes with the event's acknowledgement.
func record(ev sdk.Event, apply func(*Totals, *Day) error) error {
	var t Totals
	if err := load(totalsKey, &t); err != nil {
		return err
	}
	date := ev.CreatedAt.UTC().Format(time.DateOnly)
	d := Day{Date: date}
	if err := load(dayPrefix+date, &d); err != nil {
		return err
	}
	if err := apply(&t, &d); err != nil {
		return sdk.Permanent(fmt.Errorf("event %s: %w", ev.ID, err))
	}
	t.LastEventTime = max(t.LastEventTime, ev.CreatedAt.UnixMilli())
	if err := store(totalsKey, t); err != nil {
		return err
	}
	return store(dayPrefix+date, d)
}

var errOverflow = errors.New("a total would overflow")

// add is one counter and what to add to it.
type add struct {
	counter *int64
	delta   int64
}

// addAll applies every addition or, if one would overflow or is negative
// (amounts are never negative), none.
func addAll(adds ...add) error {
	for _, a := range adds {
		if a.delta < 0 || *a.counter > math.MaxInt64-a.delta {
			return errOverflow
		}
	}
	for _, a := range adds {
		*a.counter += a.delta
	}
	return nil
}

func load(key string, v any) error {
	b, ok, err := sdk.StateGet(key)
	if err != nil || !ok {
		return err
	}
	return json.Unmarshal(b, v)
}

func store(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return sdk.StateSet(key, b)
}

// days returns every recorded day, oldest first.
func days() ([]Day, error) {
	keys, err := sdk.StateList(dayPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]Day, 0, len(keys))
	for _, k := range keys {
		d := Day{Date: strings.TrimPrefix(k, dayPrefix)}
		if err := load(k, &d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// chartRange is the last chartDays days up to the latest recorded one,
// without gaps (a day without events is a zero bar).
func chartRange(all []Day) []Day {
	if len(all) == 0 {
		return nil
	}
	byDate := map[string]Day{}
	for _, d := range all {
		byDate[d.Date] = d
	}
	last, err := time.Parse(time.DateOnly, all[len(all)-1].Date)
	if err != nil {
		return all
	}
	first, _ := time.Parse(time.DateOnly, all[0].Date)
	start := last.AddDate(0, 0, -(chartDays - 1))
	if first.After(start) {
		start = first
	}
	var out []Day
	for t := start; !t.After(last); t = t.AddDate(0, 0, 1) {
		date := t.Format(time.DateOnly)
		d, ok := byDate[date]
		if !ok {
			d = Day{Date: date}
		}
		out = append(out, d)
	}
	return out
}

// xtr formats micro-Tari as XTR with six decimals.
func xtr(micro int64) string {
	sign := ""
	if micro < 0 {
		sign, micro = "-", -micro
	}
	return fmt.Sprintf("%s%d.%06d", sign, micro/1_000_000, micro%1_000_000)
}

func totalsJSON(*sdk.RouteRequest) (*sdk.RouteResponse, error) {
	var t Totals
	if err := load(totalsKey, &t); err != nil {
		return nil, err
	}
	d, err := days()
	if err != nil {
		return nil, err
	}
	return sdk.JSON(200, map[string]any{"totals": t, "days": d})
}

func daysCSV(*sdk.RouteRequest) (*sdk.RouteResponse, error) {
	all, err := days()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("date,orders_paid,orders_paid_xtr,payments_received,payments_received_xtr\n")
	for _, d := range all {
		fmt.Fprintf(&b, "%s,%d,%s,%d,%s\n", d.Date, d.OrdersPaid, xtr(d.OrdersMicro), d.Payments, xtr(d.PaymentsMicro))
	}
	resp := sdk.Respond(200, "text/csv; charset=utf-8", []byte(b.String()))
	resp.Header["Content-Disposition"] = `attachment; filename="dashboard-days.csv"`
	return resp, nil
}

func page(req *sdk.RouteRequest) (*sdk.RouteResponse, error) {
	var t Totals
	if err := load(totalsKey, &t); err != nil {
		return nil, err
	}
	all, err := days()
	if err != nil {
		return nil, err
	}
	shown := chartRange(all)
	var b strings.Builder
	e := html.EscapeString
	fmt.Fprintf(&b, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dashboard</title><link rel="icon" href="data:,">
<style nonce="%s">
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2733;background:#fafbfc}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
dl{display:grid;grid-template-columns:max-content max-content;gap:.3rem 1.5rem}
dt{color:#5b6773}dd{margin:0;font-variant-numeric:tabular-nums;font-weight:600}
svg{background:#fff;border:1px solid #dde3e9;max-width:100%%;height:auto}
.bar-orders{fill:#3b7dd8}.bar-payments{fill:#2f9e6e}.axis{stroke:#8a96a3}
.label{font-size:10px;fill:#5b6773}.value{font-size:10px;fill:#1d2733}
.empty{color:#5b6773}
</style></head><body>
<h1>Dashboard</h1>
<dl>
<dt>Paid orders</dt><dd id="orders-paid">%d</dd>
<dt>Paid orders, total</dt><dd id="orders-paid-total">%s XTR</dd>
<dt>Payments received</dt><dd id="payments-received">%d</dd>
<dt>Payments received, total</dt><dd id="payments-received-total">%s XTR</dd>
</dl>
`, e(req.Nonce), t.OrdersPaid, xtr(t.OrdersPaidMicro), t.Payments, xtr(t.PaymentsMicro))
	if len(shown) == 0 {
		b.WriteString(`<p class="empty">No paid orders or payments yet.</p>`)
	} else {
		b.WriteString("<h2>Paid orders per day</h2>\n")
		chart(&b, "chart-orders", "bar-orders", shown, func(d Day) (int64, string) {
			return d.OrdersPaid, fmt.Sprintf("%s: %d paid orders, %s XTR", d.Date, d.OrdersPaid, xtr(d.OrdersMicro))
		}, func(v int64) string { return fmt.Sprint(v) })
		b.WriteString("<h2>Payments received per day (XTR)</h2>\n")
		chart(&b, "chart-payments", "bar-payments", shown, func(d Day) (int64, string) {
			return d.PaymentsMicro, fmt.Sprintf("%s: %d payments, %s XTR", d.Date, d.Payments, xtr(d.PaymentsMicro))
		}, xtr)
	}
	b.WriteString(`<p><a href="totals.json">JSON</a> · <a href="days.csv">CSV</a></p></body></html>` + "\n")
	return sdk.HTML(200, b.String()), nil
}

// chart draws one bar per day, scaled to the largest value, with the day
// under each bar and the exact figure in the bar's <title>.
func chart(b *strings.Builder, id, class string, ds []Day, value func(Day) (int64, string), label func(int64) string) {
	const w, h, left, bottom, top = 640, 220, 8, 30, 20
	var peak int64
	for _, d := range ds {
		v, _ := value(d)
		peak = max(peak, v)
	}
	slot := float64(w-2*left) / float64(len(ds))
	barW := min(max(slot*0.7, 1), 48)
	fmt.Fprintf(b, `<svg id="%s" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`+"\n",
		id, w, h, w, h, id)
	fmt.Fprintf(b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", left, h-bottom, w-left, h-bottom)
	for i, d := range ds {
		v, title := value(d)
		bh := 0.0
		if peak > 0 {
			bh = float64(v) / float64(peak) * float64(h-bottom-top)
		}
		x := float64(left) + float64(i)*slot + (slot-barW)/2
		fmt.Fprintf(b, `<rect class="%s" data-date="%s" data-value="%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`+"\n",
			class, d.Date, v, x, float64(h-bottom)-bh, barW, bh, html.EscapeString(title))
		if len(ds) <= 12 || i%5 == 0 || i == len(ds)-1 {
			fmt.Fprintf(b, `<text class="label" x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x+barW/2, h-bottom+14, d.Date[5:])
		}
		if v > 0 && len(ds) <= 12 {
			fmt.Fprintf(b, `<text class="value" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x+barW/2, float64(h-bottom)-bh-4, label(v))
		}
	}
	b.WriteString("</svg>\n")
}
