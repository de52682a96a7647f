package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
)

// POST /shopify/webhook/order_cancelled (orders/cancelled): the merchant
// cancelled the order in Shopify. An open order is cancelled here too; a
// Paid order stays Paid (the money arrived) and the mismatch is logged and
// noted on the order for an admin; an order unknown here is ignored.
func (s *Server) shopifyOrderCancelled(c *gin.Context) {
	var p struct {
		ID           flexID     `json:"id"`
		Name         flexString `json:"name"`
		CancelReason flexString `json:"cancel_reason"`
	}
	if e := decodeJSON(rawBody(c), &p); e != nil {
		abortJSON(c, e.Status, e.Msg)
		return
	}
	if p.ID == "" {
		e := errInvalidBody("Json deserialize error: missing field `id`")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	ctx := c.Request.Context()
	o, err := s.eng.OrderByID(ctx, string(p.ID))
	if err == nil && o == nil && p.Name.Value != "" {
		o, err = s.eng.OrderByID(ctx, p.Name.Value)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if o == nil {
		c.Status(http.StatusOK)
		return
	}
	reason := "cancelled in Shopify"
	if r := strings.TrimSpace(p.CancelReason.Value); r != "" {
		reason += " (" + r + ")"
	}
	switch {
	case o.Status.Open():
		if _, err := s.eng.CancelOrder(ctx, o.OrderID, reason); err != nil && !errors.Is(err, core.ErrForbiddenChange) {
			s.fail(c, err)
			return
		}
		s.log.Info("order cancelled in Shopify; cancelled here", "order_id", o.OrderID)
	case o.Status == core.OrderPaid:
		note := "Shopify cancelled this order, but it is paid here: " + reason
		s.log.Warn("order cancelled in Shopify is paid here; it stays Paid (refund or restore it by hand)", "order_id", o.OrderID)
		if o.CancelReason == nil || *o.CancelReason != note {
			if _, err := s.eng.NoteShopifyCancelMismatch(ctx, o.OrderID, note); err != nil {
				s.fail(c, err)
				return
			}
		}
	}
	c.Status(http.StatusOK)
}
