package console

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
)

// exportLimit bounds one CSV export (rows), so a wide range cannot hold a
// request for long; the page says to narrow the range when it is reached.
const exportLimit = 100_000

func (c *Console) exportPage(ctx *gin.Context) {
	now := c.now().UTC()
	c.render(ctx, "export", viewerOf(ctx), gin.H{"Title": "Export",
		"From": now.AddDate(0, -1, 0).Format("2006-01-02"), "To": now.Format("2006-01-02"), "Limit": exportLimit})
}

// csvCell keeps a spreadsheet from reading a text cell as a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func exportRange(ctx *gin.Context) (*time.Time, *time.Time, error) {
	from, to := ctx.Query("from"), ctx.Query("to")
	if from == "" || to == "" {
		return nil, nil, fmt.Errorf("give both dates of the range (YYYY-MM-DD)")
	}
	since, err := dateParam(from, false)
	if err != nil {
		return nil, nil, err
	}
	until, err := dateParam(to, true)
	if err != nil {
		return nil, nil, err
	}
	if until.Before(*since) {
		return nil, nil, fmt.Errorf("the range ends before it starts")
	}
	return since, until, nil
}

func (c *Console) csvHeaders(ctx *gin.Context, name string) *csv.Writer {
	ctx.Header("Content-Type", "text/csv; charset=utf-8")
	ctx.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	return csv.NewWriter(ctx.Writer)
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// GET /console/export/orders.csv?from=&to= (created_at, UTC days, inclusive)
func (c *Console) exportOrders(ctx *gin.Context) {
	v := viewerOf(ctx)
	since, until, err := exportRange(ctx)
	if err != nil {
		c.bad(ctx, v, err.Error())
		return
	}
	n := exportLimit
	os, err := c.eng.SearchOrders(ctx.Request.Context(), core.OrderQuery{Since: since, Until: until, Page: core.Page{Count: &n}})
	if err != nil {
		c.internal(ctx, err)
		return
	}
	w := c.csvHeaders(ctx, "orders-"+ctx.Query("from")+"-"+ctx.Query("to")+".csv")
	_ = w.Write([]string{"order_id", "alt_id", "customer_id", "status", "total_price_microtari", "original_price", "currency", "memo", "created_at", "updated_at", "cancel_reason"})
	for _, o := range os {
		_ = w.Write([]string{csvCell(o.OrderID), csvCell(deref(o.AltID)), csvCell(o.CustomerID), string(o.Status), strconv.FormatInt(int64(o.TotalPrice), 10),
			csvCell(deref(o.OriginalPrice)), csvCell(o.Currency), csvCell(deref(o.Memo)), ts(o.CreatedAt), ts(o.UpdatedAt), csvCell(deref(o.CancelReason))})
	}
	w.Flush()
}

// GET /console/export/payments.csv?from=&to=
func (c *Console) exportPayments(ctx *gin.Context) {
	v := viewerOf(ctx)
	since, until, err := exportRange(ctx)
	if err != nil {
		c.bad(ctx, v, err.Error())
		return
	}
	q, _ := paymentQuery("", "", "", "", "")
	q.Since = since
	end := until.Add(time.Microsecond)
	q.Until = &end
	n := exportLimit
	q.Page = core.Page{Count: &n}
	ps, err := c.eng.SearchPayments(ctx.Request.Context(), q)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	w := c.csvHeaders(ctx, "payments-"+ctx.Query("from")+"-"+ctx.Query("to")+".csv")
	_ = w.Write([]string{"txid", "sender", "amount_microtari", "status", "payment_type", "order_id", "memo", "created_at", "updated_at"})
	for i := len(ps) - 1; i >= 0; i-- { // oldest first
		p := ps[i]
		_ = w.Write([]string{csvCell(p.TxID), csvCell(p.Sender), strconv.FormatInt(int64(p.Amount), 10), string(p.Status), string(p.PaymentType),
			csvCell(deref(p.OrderID)), csvCell(deref(p.Memo)), ts(p.CreatedAt), ts(p.UpdatedAt)})
	}
	w.Flush()
}
