package console

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/tari"
)

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
