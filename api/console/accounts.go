package console

import (
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

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
