package console

import (
	"fmt"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
)

// ---- Overview ----

type chartBar struct {
	X, Y, W, H int
	Label      string
}

// overviewChart draws paid volume per day as bars in a 600×160 box.
func overviewChart(days []engine.DayVolume) []chartBar {
	const width, height = 600, 140
	var peak core.MicroTari
	for _, d := range days {
		peak = max(peak, d.PaidVolume)
	}
	n := max(len(days), 1)
	w := width / n
	out := make([]chartBar, 0, len(days))
	for i, d := range days {
		h := 0
		if peak > 0 {
			h = int(float64(d.PaidVolume) / float64(peak) * height)
		}
		if d.PaidVolume > 0 {
			h = max(h, 2)
		}
		out = append(out, chartBar{X: i * w, Y: height - h, W: max(w-2, 1), H: h,
			Label: fmt.Sprintf("%s: %d orders, %d paid, %s", d.Day.Format("2006-01-02"), d.Orders, d.Paid, money(d.PaidVolume))})
	}
	return out
}

type periodTotals struct {
	Name       string
	Orders     int
	Paid       int
	PaidVolume core.MicroTari
}

type expiring struct {
	Order     core.Order
	ExpiresAt time.Time
}

func (c *Console) overview(ctx *gin.Context) {
	v := viewerOf(ctx)
	rc := ctx.Request.Context()
	now := c.now().UTC()
	today := now.Truncate(24 * time.Hour)
	weekStart := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7)) // Monday
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	since := today.AddDate(0, 0, -29)
	if monthStart.Before(since) {
		since = monthStart
	}
	days, err := c.eng.DailyVolume(rc, since, now)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	periods := []periodTotals{{Name: "Today"}, {Name: "This week"}, {Name: "This month"}}
	for _, d := range days {
		for i, start := range []time.Time{today, weekStart, monthStart} {
			if !d.Day.Before(start) {
				periods[i].Orders += d.Orders
				periods[i].Paid += d.Paid
				periods[i].PaidVolume += d.PaidVolume
			}
		}
	}
	chartDays := days[max(len(days)-30, 0):]
	count := 20
	awaiting, err := c.eng.SearchPayments(rc, engine.PaymentQuery{Statuses: []core.PaymentStatus{core.PaymentReceived}, Page: core.Page{Count: &count}})
	if err != nil {
		c.internal(ctx, err)
		return
	}
	openCount, err := c.eng.OpenOrderCount(rc)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	expiringOrders, err := c.eng.ExpiringOrders(rc, now.Add(24*time.Hour), 10)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	soon := make([]expiring, len(expiringOrders))
	for i, o := range expiringOrders {
		soon[i] = expiring{o, c.eng.OrderExpiresAt(o)}
	}
	data := gin.H{"Title": "Overview", "Periods": periods, "Chart": overviewChart(chartDays),
		"ChartEmpty": !slices.ContainsFunc(chartDays, func(d engine.DayVolume) bool { return d.PaidVolume != 0 }),
		"ChartFrom":  chartDays[0].Day, "ChartTo": chartDays[len(chartDays)-1].Day,
		"Awaiting": awaiting, "Expiring": soon, "OpenCount": openCount}
	if v.CanWrite() && c.plugins != nil {
		ps, err := c.pluginList(ctx)
		if err != nil {
			c.internal(ctx, err)
			return
		}
		data["Plugins"] = ps
		data["PluginsOn"] = true
	}
	c.render(ctx, "overview", v, data)
}
