package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/config"
	"github.com/tari-payment/tps/core/tari"
)

// pathAddress parses an address path parameter in any of its three forms.
// A bad address is 404, as the reference's path extractor answers.
func pathAddress(c *gin.Context, name string) (tari.Address, bool) {
	a, err := tari.ParseAddress(c.Param(name))
	if err != nil {
		abortJSON(c, http.StatusNotFound, "Invalid Tari address: "+err.Error())
		return tari.Address{}, false
	}
	return a, true
}

// jsonOrNull answers v, or JSON null when v is nil.
func jsonOrNull[T any](c *gin.Context, v *T) {
	if v == nil {
		c.Data(http.StatusOK, "application/json", []byte("null"))
		return
	}
	writeJSON(c, http.StatusOK, v)
}

func (s *Server) bind(c *gin.Context, dst any) bool {
	if e := bindJSON(c, dst); e != nil {
		abortJSON(c, e.Status, e.Msg)
		return false
	}
	return true
}

type claimRequest struct {
	Address   *string `json:"address" required:"true"`
	OrderID   *string `json:"order_id" required:"true"`
	Signature *string `json:"signature" required:"true"`
}

// checkField validates address and signature where the body gives them
// (fieldChecker): a claim with a malformed signature and a misspelt order_id
// is told about the signature, as the reference does.
func (r *claimRequest) checkField(name string) error {
	switch name {
	case "address":
		if r.Address != nil {
			if _, err := tari.ParseAddress(*r.Address); err != nil {
				return fmt.Errorf("Invalid Tari address: %v", err)
			}
		}
	case "signature":
		if r.Signature != nil {
			if n := len(*r.Signature); n != 128 {
				return fmt.Errorf("Invalid signature length: expected 128 hex characters, got %d", n)
			}
			if _, err := tari.ParseSignature(*r.Signature); err != nil {
				return fmt.Errorf("Invalid signature: %v", err)
			}
		}
	}
	return nil
}

type claimedOrder struct {
	OrderID    string           `json:"order_id"`
	TotalPrice core.MicroTari   `json:"total_price"`
	ExpiresAt  string           `json:"expires_at"`
	Status     core.OrderStatus `json:"status"`
	SendTo     tari.RawAddress  `json:"send_to"`
}

// POST /order/claim (unauthenticated: the memo signature is the proof).
func (s *Server) claimOrder(c *gin.Context) {
	var req claimRequest
	if !s.bind(c, &req) {
		return
	}
	sig := tari.MemoSignature{Address: *req.Address, OrderID: *req.OrderID, Signature: *req.Signature}
	if _, err := tari.ParseMemoSignature(sig.JSON()); err != nil {
		e := errInvalidBody("Json deserialize error: " + err.Error())
		abortJSON(c, e.Status, e.Msg)
		return
	}
	res, err := s.eng.ClaimOrder(c.Request.Context(), sig)
	if err != nil {
		s.fail(c, err)
		return
	}
	sendTo, err := tari.ParseAddress(s.cfg.PaymentWalletAddress)
	if err != nil { // preflight checked it; fall back as the reference does
		sendTo, _ = tari.ParseAddress(config.DonationAddress)
	}
	writeJSON(c, http.StatusOK, claimedOrder{
		OrderID:    res.Order.OrderID,
		TotalPrice: res.Order.TotalPrice,
		ExpiresAt:  rfc3339(res.ExpiresAt),
		Status:     res.Order.Status,
		SendTo:     tari.RawAddress{Address: sendTo},
	})
}

type orderReasonRequest struct {
	OrderID *string `json:"order_id" required:"true"`
	Reason  *string `json:"reason" required:"true"`
}

// POST /api/fulfill
func (s *Server) fulfilOrder(c *gin.Context) {
	var req orderReasonRequest
	if !s.bind(c, &req) {
		return
	}
	o, err := s.eng.FulfilOrder(c.Request.Context(), *req.OrderID, *req.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, o)
}

// POST /api/cancel
func (s *Server) cancelOrder(c *gin.Context) {
	var req orderReasonRequest
	if !s.bind(c, &req) {
		return
	}
	o, err := s.eng.CancelOrder(c.Request.Context(), *req.OrderID, *req.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, o)
}

// PATCH /api/order_memo
func (s *Server) updateMemo(c *gin.Context) {
	var req struct {
		OrderID *string `json:"order_id" required:"true"`
		NewMemo *string `json:"new_memo" required:"true"`
		Reason  *string `json:"reason"`
	}
	if !s.bind(c, &req) {
		return
	}
	o, err := s.eng.UpdateOrderMemo(c.Request.Context(), *req.OrderID, *req.NewMemo, deref(req.Reason))
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, o)
}

// PATCH /api/order_price
func (s *Server) updatePrice(c *gin.Context) {
	var req struct {
		OrderID  *string         `json:"order_id" required:"true"`
		NewPrice *core.MicroTari `json:"new_price" required:"true"`
		Reason   *string         `json:"reason"`
	}
	if !s.bind(c, &req) {
		return
	}
	o, err := s.eng.UpdateOrderPrice(c.Request.Context(), *req.OrderID, *req.NewPrice, deref(req.Reason))
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, o)
}

// PATCH /api/reassign_order
func (s *Server) reassignOrder(c *gin.Context) {
	var req struct {
		OrderID       *string `json:"order_id" required:"true"`
		NewCustomerID *string `json:"new_customer_id" required:"true"`
		Reason        *string `json:"reason" required:"true"`
	}
	if !s.bind(c, &req) {
		return
	}
	res, err := s.eng.ReassignOrder(c.Request.Context(), *req.OrderID, *req.NewCustomerID, *req.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	if res.Settlements == nil {
		res.Settlements = []core.SettlementJournalEntry{}
	}
	writeJSON(c, http.StatusOK, res)
}

// PATCH /api/reset_order/{order_id} (D19: works, unlike the reference's 501).
func (s *Server) resetOrder(c *gin.Context) {
	res, err := s.eng.ResetOrder(c.Request.Context(), c.Param("order_id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, res)
}

// POST /api/settle (the caller's own address).
func (s *Server) mySettle(c *gin.Context) {
	cl := claims(c)
	res, err := s.eng.SettleAddress(c.Request.Context(), cl.Address)
	if err != nil {
		s.fail(c, err)
		return
	}
	if res != nil && !readsAll(cl) {
		// Settling pays every open order of the linked customers (who pays
		// what is unchanged), but a plain user is told only about the orders
		// it may see (D26).
		own, err := s.eng.OwnOrders(c.Request.Context(), cl.Address, false)
		if err != nil {
			s.fail(c, err)
			return
		}
		visible := map[string]bool{}
		for _, o := range own.Orders {
			visible[o.OrderID] = true
		}
		res.OrdersPaid = slices.DeleteFunc(res.OrdersPaid, func(o core.Order) bool { return !visible[o.OrderID] })
		res.Settlements = slices.DeleteFunc(res.Settlements, func(st core.SettlementJournalEntry) bool { return !visible[st.OrderID] })
	}
	jsonOrNull(c, res)
}

// POST /api/settle/address/{address}
func (s *Server) settleAddress(c *gin.Context) {
	a, ok := pathAddress(c, "address")
	if !ok {
		return
	}
	res, err := s.eng.SettleAddress(c.Request.Context(), a)
	if err != nil {
		s.fail(c, err)
		return
	}
	jsonOrNull(c, res)
}

// POST /api/settle/customer/{customer_id}
func (s *Server) settleCustomer(c *gin.Context) {
	res, err := s.eng.SettleCustomer(c.Request.Context(), c.Param("customer_id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	jsonOrNull(c, res)
}

// POST /api/credit
func (s *Server) issueCredit(c *gin.Context) {
	var req struct {
		CustomerID *string         `json:"customer_id" required:"true"`
		Amount     *core.MicroTari `json:"amount" required:"true"`
		Reason     *string         `json:"reason"`
	}
	if !s.bind(c, &req) {
		return
	}
	if strings.TrimSpace(*req.CustomerID) == "" {
		e := errCannotComplete("customer_id must not be empty")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	res, err := s.eng.IssueCreditNote(c.Request.Context(), *req.CustomerID, *req.Amount, req.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	if res.OrdersPaid == nil {
		res.OrdersPaid = []core.Order{}
	}
	if res.Settlements == nil {
		res.Settlements = []core.SettlementJournalEntry{}
	}
	writeJSON(c, http.StatusOK, res)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
