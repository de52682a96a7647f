package console

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/tari"
)

const pageSize = 50

func viewerOf(ctx *gin.Context) viewer { return ctx.MustGet(viewerKey).(viewer) }

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
	open, err := c.eng.OpenOrders(rc)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	var soon []expiring
	for _, o := range open {
		at := c.eng.OrderExpiresAt(o)
		if at.Before(now.Add(24 * time.Hour)) {
			soon = append(soon, expiring{o, at})
		}
	}
	slices.SortFunc(soon, func(a, b expiring) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	soon = soon[:min(len(soon), 10)]
	data := gin.H{"Title": "Overview", "Periods": periods, "Chart": overviewChart(chartDays),
		"ChartEmpty": !slices.ContainsFunc(chartDays, func(d engine.DayVolume) bool { return d.PaidVolume != 0 }),
		"ChartFrom":  chartDays[0].Day, "ChartTo": chartDays[len(chartDays)-1].Day,
		"Awaiting": awaiting, "Expiring": soon, "OpenCount": len(open)}
	if v.CanWrite() && c.plugins != nil {
		ps, _, err := c.pluginState(ctx)
		if err != nil {
			c.internal(ctx, err)
			return
		}
		data["Plugins"] = ps
		data["PluginsOn"] = true
	}
	c.render(ctx, "overview", v, data)
}

// ---- Orders ----

// dateParam parses a YYYY-MM-DD form date (UTC midnight); end moves it to
// the next midnight, so a "to" date includes its whole day.
func dateParam(s string, end bool) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, fmt.Errorf("dates are YYYY-MM-DD, not %q", s)
	}
	if end {
		t = t.Add(24*time.Hour - time.Microsecond)
	}
	return &t, nil
}

func pageParam(ctx *gin.Context) int {
	p, err := strconv.Atoi(ctx.Query("page"))
	if err != nil || p < 1 || p > 1_000_000 {
		return 1
	}
	return p
}

// pager links the previous and next pages of a list, keeping its filters.
type pager struct {
	Page       int
	Prev, Next string
}

func newPager(ctx *gin.Context, page int, more bool) pager {
	link := func(p int) string {
		q := ctx.Request.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return ctx.Request.URL.Path + "?" + q.Encode()
	}
	pg := pager{Page: page}
	if page > 1 {
		pg.Prev = link(page - 1)
	}
	if more {
		pg.Next = link(page + 1)
	}
	return pg
}

var orderStatuses = []core.OrderStatus{core.OrderUnclaimed, core.OrderNew, core.OrderPaid, core.OrderCancelled, core.OrderExpired}

func (c *Console) orders(ctx *gin.Context) {
	v := viewerOf(ctx)
	f := struct{ ID, Customer, Address, Memo, From, To string }{
		strings.TrimSpace(ctx.Query("id")), strings.TrimSpace(ctx.Query("customer")), strings.TrimSpace(ctx.Query("address")),
		strings.TrimSpace(ctx.Query("memo")), ctx.Query("from"), ctx.Query("to")}
	var statuses []core.OrderStatus
	for _, s := range ctx.QueryArray("status") {
		st := core.OrderStatus(s)
		if !slices.Contains(orderStatuses, st) {
			c.bad(ctx, v, "Unknown order status "+s)
			return
		}
		statuses = append(statuses, st)
	}
	since, err := dateParam(f.From, false)
	if err == nil {
		var until *time.Time
		until, err = dateParam(f.To, true)
		if err == nil {
			page := pageParam(ctx)
			var found []core.Order
			found, err = c.searchOrders(ctx, f.ID, f.Customer, f.Address, f.Memo, since, until, statuses, page)
			if err == nil {
				more := len(found) > pageSize
				found = found[:min(len(found), pageSize)]
				c.render(ctx, "orders", v, gin.H{"Title": "Orders", "Orders": found, "F": f, "Statuses": orderStatuses,
					"Checked": statuses, "Pager": newPager(ctx, page, more)})
				return
			}
		}
	}
	if _, ok := err.(inputError); ok || strings.HasPrefix(err.Error(), "dates are") {
		c.bad(ctx, v, err.Error())
		return
	}
	c.internal(ctx, err)
}

type inputError string

func (e inputError) Error() string { return string(e) }

// searchOrders finds one page (plus one row, to know whether more follow)
// of the orders matching every filter. id matches the order id, else the
// alt id; address lists the orders linked to that wallet's account.
func (c *Console) searchOrders(ctx *gin.Context, id, customer, address, memo string, since, until *time.Time, statuses []core.OrderStatus, page int) ([]core.Order, error) {
	rc := ctx.Request.Context()
	offset, count := (page-1)*pageSize, pageSize+1
	q := core.OrderQuery{Since: since, Until: until, Statuses: statuses, Page: core.Page{Count: &count, Offset: &offset}}
	if customer != "" {
		q.CustomerID = &customer
	}
	if memo != "" {
		q.Memo = &memo
	}
	if address != "" {
		a, err := tari.ParseAddress(address)
		if err != nil {
			return nil, inputError("That is not a Tari address: " + err.Error())
		}
		res, err := c.eng.OrdersForAddress(rc, a, false)
		if err != nil {
			return nil, err
		}
		var out []core.Order
		for _, o := range res.Orders {
			if (id == "" || o.OrderID == id || deref(o.AltID) == id) && (customer == "" || o.CustomerID == customer) &&
				(memo == "" || strings.Contains(strings.ToLower(deref(o.Memo)), strings.ToLower(memo))) &&
				(since == nil || !o.CreatedAt.Before(*since)) && (until == nil || !o.CreatedAt.After(*until)) &&
				(len(statuses) == 0 || slices.Contains(statuses, o.Status)) {
				out = append(out, o)
			}
		}
		return out[min(offset, len(out)):min(offset+count, len(out))], nil
	}
	if id == "" {
		return c.eng.SearchOrders(rc, q)
	}
	q.OrderID = &id
	found, err := c.eng.SearchOrders(rc, q)
	if err != nil || len(found) > 0 {
		return found, err
	}
	q.OrderID, q.AltID = nil, &id
	return c.eng.SearchOrders(rc, q)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (c *Console) orderPage(ctx *gin.Context) {
	v := viewerOf(ctx)
	rc := ctx.Request.Context()
	id := ctx.Param("order_id")
	o, err := c.eng.OrderByID(rc, id)
	if err != nil {
		c.fail(ctx, v, err)
		return
	}
	if o == nil {
		c.renderStatus(ctx, http.StatusNotFound, "message", v, gin.H{"Title": "No such order", "Message": "There is no order " + id + "."})
		return
	}
	pays, err := c.eng.PaymentsForOrder(rc, o.OrderID)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	sets, err := c.eng.SettlementsForOrder(rc, o.OrderID)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	audit, err := c.eng.OrderAudit(rc, *o)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	hist := make([]auditRow, len(audit))
	for i, a := range audit {
		hist[i] = auditRow{a, auditSummary(a.Snapshot)}
	}
	open := o.Status == core.OrderNew || o.Status == core.OrderUnclaimed
	c.render(ctx, "order", v, gin.H{"Title": "Order " + o.OrderID, "O": o, "Payments": pays, "Settlements": sets,
		"History": hist, "Open": open, "ExpiresAt": c.eng.OrderExpiresAt(*o),
		"Resettable": o.Status == core.OrderExpired || o.Status == core.OrderCancelled,
		"Priceable":  o.Status == core.OrderNew, // the engine reprices New orders only
		"Self":       ctx.Request.URL.EscapedPath()})
}

type auditRow struct {
	engine.AuditEntry
	Summary string
}

// auditSummary picks the fields a merchant reads from a snapshot.
func auditSummary(snapshot string) string {
	var m map[string]any
	if json.Unmarshal([]byte(snapshot), &m) != nil {
		return snapshot
	}
	var parts []string
	for _, k := range []string{"status", "total_price", "customer_id", "memo", "cancel_reason", "amount", "order_id"} {
		if val, ok := m[k]; ok && val != nil {
			s := fmt.Sprint(val)
			if f, ok := val.(float64); ok && (k == "total_price" || k == "amount") {
				s = money(core.MicroTari(int64(f)))
			}
			parts = append(parts, k+"="+s)
		}
	}
	return strings.Join(parts, ", ")
}

// POST /console/orders/:order_id/:action — fulfil, cancel, reset, price,
// memo, reassign; every one needs a reason and a confirmation.
func (c *Console) orderAction(ctx *gin.Context) {
	v := viewerOf(ctx)
	rc := ctx.Request.Context()
	id, action := ctx.Param("order_id"), ctx.Param("action")
	reason := strings.TrimSpace(ctx.PostForm("reason"))
	if reason == "" {
		c.bad(ctx, v, "Give a reason: it is kept with the order's history.")
		return
	}
	var what string
	var run func() error
	switch action {
	case "fulfil":
		what = "Mark order " + id + " as paid by hand (a credit note for its price is issued)."
		run = func() error { _, err := c.eng.FulfilOrder(rc, id, reason); return err }
	case "cancel":
		what = "Cancel order " + id + "."
		run = func() error { _, err := c.eng.CancelOrder(rc, id, reason); return err }
	case "reset":
		what = "Bring order " + id + " back to New."
		run = func() error { _, err := c.eng.ResetOrder(rc, id); return err }
	case "price":
		amt, err := parseAmount(ctx.PostForm("price"))
		if err != nil || amt <= 0 {
			c.bad(ctx, v, "The new price must be a positive amount: µT, or Tari as \"12.5 T\".")
			return
		}
		what = "Change the price of order " + id + " to " + money(amt) + "."
		run = func() error { _, err := c.eng.UpdateOrderPrice(rc, id, amt, reason); return err }
	case "memo":
		memo := ctx.PostForm("memo")
		if len(memo) > 1024 {
			c.bad(ctx, v, "A memo is at most 1024 bytes.")
			return
		}
		what = "Replace the memo of order " + id + " with \u201c" + memo + "\u201d."
		run = func() error { _, err := c.eng.UpdateOrderMemo(rc, id, memo, reason); return err }
	case "reassign":
		cust := strings.TrimSpace(ctx.PostForm("customer_id"))
		if cust == "" {
			c.bad(ctx, v, "Give the customer id to move the order to.")
			return
		}
		what = "Move order " + id + " to customer " + cust + "."
		run = func() error { _, err := c.eng.ReassignOrder(rc, id, cust, reason); return err }
	default:
		ctx.Status(http.StatusNotFound)
		return
	}
	if !c.confirmed(ctx, v, what+" Reason: "+reason) {
		return
	}
	if err := run(); err != nil {
		c.fail(ctx, v, err)
		return
	}
	c.log.Info("console: admin action", "action", action, "order_id", id, "by", v.Address(), "reason", reason)
	c.done(ctx, v, "Done: "+what)
}

// parseAmount reads µT ("1500000") or Tari ("1.5 T", "1.5T", "1.5 τ"),
// refusing more than six decimals and anything beyond the int64 range.
func parseAmount(s string) (core.MicroTari, error) {
	s = strings.TrimSpace(s)
	tari := false
	for _, suf := range []string{"T", "t", "τ", "XTR"} {
		if strings.HasSuffix(s, suf) {
			s, tari = strings.TrimSpace(strings.TrimSuffix(s, suf)), true
			break
		}
	}
	if !tari {
		n, err := strconv.ParseInt(s, 10, 64)
		return core.MicroTari(n), err
	}
	num, scale, err := core.ParseDecimal(s)
	if err != nil {
		return 0, err
	}
	if scale > 6 {
		return 0, fmt.Errorf("at most six decimals")
	}
	num.Mul(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(6-scale)), nil))
	if !num.IsInt64() || num.Int64() == math.MinInt64 {
		return 0, fmt.Errorf("amount out of range")
	}
	return core.MicroTari(num.Int64()), nil
}

// ---- Payments and credit notes ----

var paymentStatuses = []core.PaymentStatus{core.PaymentReceived, core.PaymentConfirmed, core.PaymentCancelled}

func (c *Console) payments(ctx *gin.Context) {
	v := viewerOf(ctx)
	f := struct{ Status, Type, Sender, From, To string }{ctx.Query("status"), ctx.Query("type"), strings.TrimSpace(ctx.Query("sender")), ctx.Query("from"), ctx.Query("to")}
	q, err := paymentQuery(f.Status, f.Type, f.Sender, f.From, f.To)
	if err != nil {
		c.bad(ctx, v, err.Error())
		return
	}
	page := pageParam(ctx)
	offset, count := (page-1)*pageSize, pageSize+1
	q.Page = core.Page{Count: &count, Offset: &offset}
	ps, err := c.eng.SearchPayments(ctx.Request.Context(), q)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	more := len(ps) > pageSize
	ps = ps[:min(len(ps), pageSize)]
	title := "Payments"
	if f.Type == string(core.PaymentManual) {
		title = "Credit notes"
	}
	c.render(ctx, "payments", v, gin.H{"Title": title, "Payments": ps, "F": f, "Statuses": paymentStatuses, "Pager": newPager(ctx, page, more),
		"Credit": f.Type == string(core.PaymentManual)})
}

func paymentQuery(status, typ, sender, from, to string) (engine.PaymentQuery, error) {
	var q engine.PaymentQuery
	if status != "" {
		st := core.PaymentStatus(status)
		if !slices.Contains(paymentStatuses, st) {
			return q, inputError("Unknown payment status " + status)
		}
		q.Statuses = []core.PaymentStatus{st}
	}
	if typ != "" {
		t := core.PaymentType(typ)
		if t != core.PaymentManual && t != core.PaymentOnChain {
			return q, inputError("Unknown payment type " + typ)
		}
		q.Type = &t
	}
	if sender != "" {
		q.Sender = &sender
	}
	var err error
	if q.Since, err = dateParam(from, false); err != nil {
		return q, err
	}
	if to != "" {
		t, err := time.Parse("2006-01-02", to)
		if err != nil {
			return q, fmt.Errorf("dates are YYYY-MM-DD, not %q", to)
		}
		t = t.Add(24 * time.Hour)
		q.Until = &t
	}
	return q, nil
}

// POST /console/credit: issue a credit note (a negative amount takes money away).
func (c *Console) credit(ctx *gin.Context) {
	v := viewerOf(ctx)
	cust := strings.TrimSpace(ctx.PostForm("customer_id"))
	reason := strings.TrimSpace(ctx.PostForm("reason"))
	amt, err := parseAmount(ctx.PostForm("amount"))
	switch {
	case cust == "":
		c.bad(ctx, v, "Give the customer id to credit.")
		return
	case err != nil || amt == 0:
		c.bad(ctx, v, "The amount must be a non-zero amount: µT, or Tari as \"12.5 T\" (negative takes money away).")
		return
	case reason == "":
		c.bad(ctx, v, "Give a reason: it is kept with the credit note.")
		return
	}
	if !c.confirmed(ctx, v, fmt.Sprintf("Credit %s to customer %s. Reason: %s", money(amt), cust, reason)) {
		return
	}
	res, err := c.eng.IssueCreditNote(ctx.Request.Context(), cust, amt, &reason)
	if err != nil {
		c.fail(ctx, v, err)
		return
	}
	c.log.Info("console: admin action", "action", "credit", "customer_id", cust, "amount", int64(amt), "by", v.Address(), "reason", reason)
	c.done(ctx, v, fmt.Sprintf("Credited %s to customer %s; %d order(s) paid from it.", money(amt), cust, len(res.OrdersPaid)))
}

// ---- Customers, addresses and balances ----

func (c *Console) customers(ctx *gin.Context) {
	v := viewerOf(ctx)
	rc := ctx.Request.Context()
	page := pageParam(ctx)
	offset, count := (page-1)*pageSize, pageSize+1
	ids, err := c.eng.CustomerIDs(rc, core.Page{Count: &count, Offset: &offset})
	if err != nil {
		c.internal(ctx, err)
		return
	}
	more := len(ids) > pageSize
	ids = ids[:min(len(ids), pageSize)]
	creditors, err := c.eng.Creditors(rc)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	addrs, err := c.eng.Addresses(rc, core.Page{Count: &count, Offset: &offset})
	if err != nil {
		c.internal(ctx, err)
		return
	}
	c.render(ctx, "customers", v, gin.H{"Title": "Customers", "IDs": ids, "Creditors": creditors, "Addresses": addrs[:min(len(addrs), pageSize)],
		"Pager": newPager(ctx, page, more || len(addrs) > pageSize)})
}

func (c *Console) customerPage(ctx *gin.Context) {
	v := viewerOf(ctx)
	id := ctx.Param("customer_id")
	h, err := c.eng.CustomerHistory(ctx.Request.Context(), id)
	if err != nil {
		c.fail(ctx, v, err)
		return
	}
	c.render(ctx, "customer", v, gin.H{"Title": "Customer " + id, "H": h, "Self": ctx.Request.URL.EscapedPath()})
}

func (c *Console) addressPage(ctx *gin.Context) {
	v := viewerOf(ctx)
	a, err := tari.ParseAddress(ctx.Param("address"))
	if err != nil {
		c.bad(ctx, v, "That is not a Tari address: "+err.Error())
		return
	}
	rc := ctx.Request.Context()
	h, err := c.eng.AddressHistory(rc, a)
	if err != nil {
		c.fail(ctx, v, err)
		return
	}
	custs, err := c.eng.CustomerIDsForAddress(rc, a)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	c.render(ctx, "address", v, gin.H{"Title": "Address", "H": h, "Customers": custs, "Emoji": a.Emoji(), "Self": ctx.Request.URL.Path})
}

func (c *Console) settleCustomer(ctx *gin.Context) {
	v := viewerOf(ctx)
	id := ctx.Param("customer_id")
	if !c.confirmed(ctx, v, "Pay customer "+id+"'s open orders from their balances.") {
		return
	}
	res, err := c.eng.SettleCustomer(ctx.Request.Context(), id)
	if err != nil {
		c.fail(ctx, v, err)
		return
	}
	c.done(ctx, v, fmt.Sprintf("Settled: %d order(s) paid.", paidCount(res)))
}

func (c *Console) settleAddress(ctx *gin.Context) {
	v := viewerOf(ctx)
	a, err := tari.ParseAddress(ctx.Param("address"))
	if err != nil {
		c.bad(ctx, v, "That is not a Tari address: "+err.Error())
		return
	}
	if !c.confirmed(ctx, v, "Pay the open orders linked to "+a.Base58()+" from its balance.") {
		return
	}
	res, err := c.eng.SettleAddress(ctx.Request.Context(), a)
	if err != nil {
		c.fail(ctx, v, err)
		return
	}
	c.done(ctx, v, fmt.Sprintf("Settled: %d order(s) paid.", paidCount(res)))
}

func paidCount(r *core.MultiAccountPayment) int {
	if r == nil {
		return 0
	}
	return len(r.OrdersPaid)
}

// ---- Exchange rates ----

func (c *Console) rates(ctx *gin.Context) {
	v := viewerOf(ctx)
	rs, err := c.eng.ExchangeRates(ctx.Request.Context())
	if err != nil {
		c.internal(ctx, err)
		return
	}
	c.render(ctx, "rates", v, gin.H{"Title": "Exchange rates", "Rates": rs})
}

func (c *Console) setRate(ctx *gin.Context) {
	v := viewerOf(ctx)
	cur := strings.ToUpper(strings.TrimSpace(ctx.PostForm("currency")))
	if len(cur) < 3 || len(cur) > 8 || strings.IndexFunc(cur, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		c.bad(ctx, v, "A currency is a code of 3 to 8 letters, such as USD.")
		return
	}
	rate, err := parseAmount(ctx.PostForm("rate"))
	if err != nil || rate <= 0 {
		c.bad(ctx, v, "The rate is a positive amount of µT (or \"<decimal> T\") per one unit of the currency.")
		return
	}
	if !c.confirmed(ctx, v, fmt.Sprintf("Set 1 %s = %s (new orders are priced with it).", cur, money(rate))) {
		return
	}
	if _, err := c.eng.SetExchangeRate(ctx.Request.Context(), cur, rate); err != nil {
		c.fail(ctx, v, err)
		return
	}
	c.done(ctx, v, fmt.Sprintf("1 %s = %s from now on.", cur, money(rate)))
}

func (c *Console) rescanOrders(ctx *gin.Context) {
	v := viewerOf(ctx)
	if c.rescan == nil {
		c.renderStatus(ctx, http.StatusNotImplemented, "message", v, gin.H{"Title": "Not available", "Message": "Rescanning is not available on this server."})
		return
	}
	if !c.confirmed(ctx, v, "Fetch the store's open orders and add the ones the server missed.") {
		return
	}
	msg, err := c.rescan(ctx.Request.Context())
	if err != nil {
		c.renderStatus(ctx, http.StatusBadGateway, "message", v, gin.H{"Title": "Rescan failed", "Message": err.Error()})
		return
	}
	c.done(ctx, v, msg)
}

// ---- Hot wallets ----

func (c *Console) wallets(ctx *gin.Context) {
	v := viewerOf(ctx)
	ws, err := c.eng.Wallets(ctx.Request.Context())
	if err != nil {
		c.internal(ctx, err)
		return
	}
	c.render(ctx, "wallets", v, gin.H{"Title": "Hot wallets", "Wallets": ws})
}

func (c *Console) addWallet(ctx *gin.Context) {
	v := viewerOf(ctx)
	a, err := tari.ParseAddress(strings.TrimSpace(ctx.PostForm("address")))
	if err != nil {
		c.bad(ctx, v, "That is not a Tari address: "+err.Error())
		return
	}
	ip := strings.TrimSpace(ctx.PostForm("ip"))
	if ip == "" || len(ip) > 64 {
		c.bad(ctx, v, "Give the IP address the wallet's notifications come from.")
		return
	}
	nonce := int64(0)
	if s := strings.TrimSpace(ctx.PostForm("nonce")); s != "" {
		if nonce, err = strconv.ParseInt(s, 10, 64); err != nil || nonce < 0 {
			c.bad(ctx, v, "The initial nonce is a whole number, 0 or more.")
			return
		}
	}
	if !c.confirmed(ctx, v, "Authorise hot wallet "+a.Base58()+" from "+ip+".") {
		return
	}
	if err := c.eng.RegisterWallet(ctx.Request.Context(), a, ip, nonce); err != nil {
		c.fail(ctx, v, err)
		return
	}
	c.log.Info("console: admin action", "action", "wallet_add", "address", a.Base58(), "by", v.Address())
	c.done(ctx, v, "Hot wallet "+a.Base58()+" added.")
}

func (c *Console) removeWallet(ctx *gin.Context) {
	v := viewerOf(ctx)
	a, err := tari.ParseAddress(strings.TrimSpace(ctx.PostForm("address")))
	if err != nil {
		c.bad(ctx, v, "That is not a Tari address: "+err.Error())
		return
	}
	if !c.confirmed(ctx, v, "Remove hot wallet "+a.Base58()+": its notifications will be refused.") {
		return
	}
	if err := c.eng.DeregisterWallet(ctx.Request.Context(), a); err != nil {
		c.fail(ctx, v, err)
		return
	}
	c.log.Info("console: admin action", "action", "wallet_remove", "address", a.Base58(), "by", v.Address())
	c.done(ctx, v, "Hot wallet "+a.Base58()+" removed.")
}

// ---- Roles ----

var grantable = []core.Role{core.RoleReadAll, core.RoleWrite, core.RolePaymentWallet, core.RoleSuperAdmin}

func (c *Console) roles(ctx *gin.Context) {
	v := viewerOf(ctx)
	rc := ctx.Request.Context()
	holders, err := c.eng.RoleHolders(rc)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	data := gin.H{"Title": "Roles", "Holders": holders, "Grantable": grantable}
	if s := strings.TrimSpace(ctx.Query("address")); s != "" {
		a, err := tari.ParseAddress(s)
		if err != nil {
			c.bad(ctx, v, "That is not a Tari address: "+err.Error())
			return
		}
		rs, err := c.eng.RolesForAddress(rc, a)
		if err != nil {
			c.internal(ctx, err)
			return
		}
		data["Lookup"] = a.Base58()
		data["LookupRoles"] = rolesText(rs)
	}
	c.render(ctx, "roles", v, data)
}

func (c *Console) changeRoles(ctx *gin.Context) {
	v := viewerOf(ctx)
	a, err := tari.ParseAddress(strings.TrimSpace(ctx.PostForm("address")))
	if err != nil {
		c.bad(ctx, v, "That is not a Tari address: "+err.Error())
		return
	}
	role, ok := core.ParseRole(ctx.PostForm("role"))
	if !ok || !slices.Contains(grantable, role) {
		c.bad(ctx, v, "Pick one of the roles read_all, write, payment_wallet, super_admin.")
		return
	}
	op := ctx.PostForm("op")
	var apply, revoke []core.Role
	switch op {
	case "grant":
		apply = []core.Role{role}
	case "revoke":
		revoke = []core.Role{role}
	default:
		c.bad(ctx, v, "Choose grant or revoke.")
		return
	}
	if !c.confirmed(ctx, v, strings.ToUpper(op[:1])+op[1:]+" "+string(role)+" for "+a.Base58()+".") {
		return
	}
	if err := c.eng.AssignRoles(ctx.Request.Context(), a, apply, revoke); err != nil {
		c.fail(ctx, v, err)
		return
	}
	c.log.Info("console: admin action", "action", "roles_"+op, "role", string(role), "address", a.Base58(), "by", v.Address())
	c.done(ctx, v, "Role "+string(role)+" "+op+"ed for "+a.Base58()+". It takes effect on the address's next request.")
}

// ---- Plugins ----

// pluginView and failureView read the plugin host's JSON (the same the
// /api/plugins routes answer).
type pluginView struct {
	ID                 string     `json:"id"`
	Version            string     `json:"version"`
	Description        string     `json:"description"`
	Source             string     `json:"source"`
	Events             []string   `json:"events"`
	State              string     `json:"state"`
	Error              string     `json:"error"`
	Pending            int64      `json:"pending"`
	Failed             int64      `json:"failed"`
	Attempts           int        `json:"attempts"`
	NextAttemptAt      *time.Time `json:"next_attempt_at"`
	LastError          string     `json:"last_error"`
	ConsecutiveCrashes int        `json:"consecutive_crashes"`
}

type failureView struct {
	ID        int64     `json:"id"`
	PluginID  string    `json:"plugin_id"`
	EventID   string    `json:"event_id"`
	EventType string    `json:"event_type"`
	EventSeq  int64     `json:"event_seq"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	State     string    `json:"state"`
	FailedAt  time.Time `json:"failed_at"`
}

func reshape(v any, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func (c *Console) pluginState(ctx *gin.Context) ([]pluginView, []failureView, error) {
	rc := ctx.Request.Context()
	raw, err := c.plugins.Plugins(rc)
	if err != nil {
		return nil, nil, err
	}
	var ps []pluginView
	if err := reshape(raw, &ps); err != nil {
		return nil, nil, err
	}
	raw, err = c.plugins.FailedDeliveries(rc)
	if err != nil {
		return nil, nil, err
	}
	var fs []failureView
	if err := reshape(raw, &fs); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(ps, func(a, b pluginView) int { return cmp.Compare(a.ID, b.ID) })
	return ps, fs, nil
}

func (c *Console) pluginsPage(ctx *gin.Context) {
	v := viewerOf(ctx)
	if c.plugins == nil {
		c.render(ctx, "plugins", v, gin.H{"Title": "Plugins"})
		return
	}
	ps, fs, err := c.pluginState(ctx)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	_, canEnable := c.plugins.(PluginEnabler)
	c.render(ctx, "plugins", v, gin.H{"Title": "Plugins", "On": true, "Plugins": ps, "Failures": fs, "CanEnable": canEnable})
}

func (c *Console) needPlugins(ctx *gin.Context, v viewer) bool {
	if c.plugins == nil {
		c.renderStatus(ctx, http.StatusNotImplemented, "message", v, gin.H{"Title": "Plugins are off", "Message": "Plugins are not enabled on this server."})
		return false
	}
	return true
}

func (c *Console) redeliver(ctx *gin.Context) {
	v := viewerOf(ctx)
	id, err := strconv.ParseInt(ctx.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		c.bad(ctx, v, "A delivery id is a positive whole number.")
		return
	}
	if !c.needPlugins(ctx, v) {
		return
	}
	if err := c.plugins.Redeliver(ctx.Request.Context(), id); err != nil {
		if strings.Contains(err.Error(), "not found") {
			c.renderStatus(ctx, http.StatusNotFound, "message", v, gin.H{"Title": "No such delivery", "Message": "Delivery " + ctx.Param("id") + " does not exist."})
			return
		}
		c.internal(ctx, err)
		return
	}
	c.redirectWith(ctx, Prefix+"/plugins", url.Values{"done": {"redeliver"}, "id": {strconv.FormatInt(id, 10)}})
}

func (c *Console) redeliverAll(ctx *gin.Context) {
	v := viewerOf(ctx)
	if !c.needPlugins(ctx, v) {
		return
	}
	if !c.confirmed(ctx, v, "Redeliver every failed delivery.") {
		return
	}
	n, err := c.plugins.RedeliverAll(ctx.Request.Context())
	if err != nil {
		c.internal(ctx, err)
		return
	}
	c.redirectWith(ctx, Prefix+"/plugins", url.Values{"done": {"redeliver-all"}, "n": {strconv.Itoa(n)}})
}

func (c *Console) enablePlugin(ctx *gin.Context) {
	v := viewerOf(ctx)
	id := ctx.Param("id")
	if !pluginIDPattern.MatchString(id) {
		c.bad(ctx, v, "A plugin id is lower-case letters, digits and '-'.")
		return
	}
	if !c.needPlugins(ctx, v) {
		return
	}
	en, ok := c.plugins.(PluginEnabler)
	if !ok {
		c.renderStatus(ctx, http.StatusNotImplemented, "message", v, gin.H{"Title": "Not available", "Message": "This plugin host cannot re-enable plugins."})
		return
	}
	if _, err := en.EnablePlugin(ctx.Request.Context(), id); err != nil {
		if strings.Contains(err.Error(), "not found") || strings.Contains(err.Error(), "does not exist") {
			c.renderStatus(ctx, http.StatusNotFound, "message", v, gin.H{"Title": "No such plugin", "Message": "Plugin " + id + " does not exist."})
			return
		}
		c.internal(ctx, err)
		return
	}
	c.redirectWith(ctx, Prefix+"/plugins", url.Values{"done": {"enable"}, "id": {id}})
}

// redirectWith answers a POST with 303 to a page that says what was done
// (post/redirect/get, so a reload does not repeat the action). The page
// builds the sentence from a known code and numbers (doneMessage), so a
// crafted link cannot put words in the console's mouth.
func (c *Console) redirectWith(ctx *gin.Context, path string, q url.Values) {
	ctx.Redirect(http.StatusSeeOther, path+"?"+q.Encode())
}

var pluginIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// doneMessage is the sentence for a redirectWith code, or "".
func doneMessage(q url.Values) string {
	num := func(k string) (string, bool) {
		n, err := strconv.ParseInt(q.Get(k), 10, 64)
		return strconv.FormatInt(n, 10), err == nil && n >= 0
	}
	switch q.Get("done") {
	case "redeliver":
		if id, ok := num("id"); ok {
			return "Delivery " + id + " queued for redelivery."
		}
	case "redeliver-all":
		if n, ok := num("n"); ok {
			return n + " deliveries queued for redelivery."
		}
	case "enable":
		if id := q.Get("id"); pluginIDPattern.MatchString(id) {
			return "Plugin " + id + " enabled."
		}
	}
	return ""
}
