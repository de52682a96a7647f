package console

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
)

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

// GET /console/payments/:txid: one payment and its audit history.
func (c *Console) paymentPage(ctx *gin.Context) {
	v := viewerOf(ctx)
	rc := ctx.Request.Context()
	txid := ctx.Param("txid")
	ps, err := c.eng.SearchPayments(rc, engine.PaymentQuery{TxID: &txid})
	if err != nil {
		c.internal(ctx, err)
		return
	}
	if len(ps) == 0 {
		c.renderStatus(ctx, http.StatusNotFound, "message", v, gin.H{"Title": "No such payment", "Message": "There is no payment " + txid + "."})
		return
	}
	audit, err := c.eng.PaymentAudit(rc, txid)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	hist := make([]auditRow, len(audit))
	for i, a := range audit {
		hist[i] = auditRow{a, auditSummary(a.Snapshot)}
	}
	c.render(ctx, "payment", v, gin.H{"Title": "Payment", "P": ps[0], "History": hist})
}
