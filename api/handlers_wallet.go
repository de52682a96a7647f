package api

import (
	"errors"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/tari"
)

type walletAuth struct {
	Address   *string `json:"address" required:"true"`
	Nonce     *int64  `json:"nonce" required:"true"`
	Signature *string `json:"signature" required:"true"`
}

type jsonResponse struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

// walletAuthenticate checks a hot-wallet request (http-api.md §4): signature
// over emoji(address):nonce:payload, registered wallet, strictly increasing
// nonce and, unless TPG_DISABLE_WALLET_WHITELIST, the registered IP. Any
// failure answers 401 with an empty body.
func (s *Server) walletAuthenticate(c *gin.Context, a walletAuth, payload []byte) bool {
	deny := func(why string) bool {
		s.log.Warn("unauthorised wallet request", "path", c.Request.URL.Path, "reason", why, "wallet", *a.Address)
		c.AbortWithStatus(http.StatusUnauthorized)
		return false
	}
	checkIP := !s.cfg.DisableWalletWhitelist
	ip := remoteIP(c.Request, s.cfg.UseXForwardedFor, s.cfg.UseForwarded)
	if ip == nil && checkIP {
		return deny("no remote IP")
	}
	addr, err := tari.ParseAddress(*a.Address)
	if err != nil {
		return deny("bad address")
	}
	sig, err := tari.ParseSignature(*a.Signature)
	if err != nil {
		return deny("bad signature encoding")
	}
	if !tari.VerifyWallet(addr, *a.Nonce, payload, sig) {
		return deny("signature does not verify")
	}
	ipText := ""
	if ip != nil {
		ipText = ip.String()
	}
	if err := s.eng.UseWalletNonce(c.Request.Context(), addr, *a.Nonce, ipText, checkIP); err != nil {
		if errors.Is(err, core.ErrUnauthorizedWallet) {
			return deny("not registered, stale nonce or wrong IP")
		}
		s.fail(c, err)
		return false
	}
	return true
}

// GET /wallet/send_to
func (s *Server) walletSendTo(c *gin.Context) {
	ws, err := s.eng.Wallets(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Address
	}
	writeJSON(c, http.StatusOK, out)
}

// POST /wallet/incoming_payment
func (s *Server) walletIncomingPayment(c *gin.Context) {
	var req struct {
		Payment *struct {
			Sender  *string         `json:"sender" required:"true"`
			Amount  *core.MicroTari `json:"amount" required:"true"`
			TxID    *string         `json:"txid" required:"true"`
			Memo    *string         `json:"memo"`
			OrderID *string         `json:"order_id"`
		} `json:"payment" required:"true"`
		Auth *walletAuth `json:"auth" required:"true"`
	}
	if !s.bind(c, &req) {
		return
	}
	p := req.Payment
	sender, err := tari.ParseAddress(*p.Sender)
	if err != nil {
		e := errInvalidBody("Json deserialize error: invalid sender address: " + err.Error())
		abortJSON(c, e.Status, e.Msg)
		return
	}
	payload := tari.PaymentPayloadJSON(sender, int64(*p.Amount), *p.TxID, p.Memo, p.OrderID)
	if !s.walletAuthenticate(c, *req.Auth, payload) {
		return
	}
	pay, err := s.eng.ReceivePayment(c.Request.Context(), engine.IncomingPayment{Sender: sender, Amount: *p.Amount, TxID: *p.TxID, Memo: p.Memo, OrderID: walletOrderID(p.OrderID)})
	switch {
	case errors.Is(err, core.ErrPaymentAlreadyExists):
		writeJSON(c, http.StatusOK, jsonResponse{true, msgPaymentExists})
	case errors.Is(err, core.ErrInvalidAmount), errors.Is(err, core.ErrAmountOverflow):
		engineFailed(c)
		text, _ := engineText(err)
		writeJSON(c, http.StatusOK, jsonResponse{false, text})
	case err != nil:
		s.log.Error("incoming payment failed", "txid", *p.TxID, "err", err)
		engineFailed(c)
		writeJSON(c, http.StatusOK, jsonResponse{false, "Unexpected error handling payment."})
	default:
		b, _ := marshal(pay)
		writeJSON(c, http.StatusOK, jsonResponse{true, string(b)})
	}
}

// POST /wallet/tx_confirmation
func (s *Server) walletTxConfirmation(c *gin.Context) {
	var req struct {
		Confirmation *struct {
			TxID *string `json:"txid" required:"true"`
		} `json:"confirmation" required:"true"`
		Auth *walletAuth `json:"auth" required:"true"`
	}
	if !s.bind(c, &req) {
		return
	}
	txid := *req.Confirmation.TxID
	if !s.walletAuthenticate(c, *req.Auth, tari.ConfirmationPayloadJSON(txid)) {
		return
	}
	_, err := s.eng.ConfirmPayment(c.Request.Context(), txid)
	switch {
	case errors.Is(err, core.ErrPaymentAlreadyConfirmed):
		writeJSON(c, http.StatusOK, jsonResponse{true, msgPaymentConfirmed})
	case err != nil:
		s.log.Warn("payment confirmation failed", "txid", txid, "err", err)
		engineFailed(c)
		writeJSON(c, http.StatusOK, jsonResponse{false, "Could not confirm payment."})
	default:
		writeJSON(c, http.StatusOK, jsonResponse{true, "Payment " + txid + " confirmed successfully."})
	}
}

// GET /api/wallets (read_all)
func (s *Server) listWallets(c *gin.Context) {
	ws, err := s.eng.Wallets(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	if ws == nil {
		ws = []core.WalletInfo{}
	}
	writeJSON(c, http.StatusOK, ws)
}

// POST /api/wallets (super_admin)
func (s *Server) addWallet(c *gin.Context) {
	var req struct {
		Address      *string `json:"address" required:"true"`
		IPAddress    *string `json:"ip_address" required:"true"`
		InitialNonce *int64  `json:"initial_nonce"`
	}
	if !s.bind(c, &req) {
		return
	}
	a, err := tari.ParseAddress(*req.Address)
	if err != nil {
		e := errInvalidBody("Json deserialize error: invalid address: " + err.Error())
		abortJSON(c, e.Status, e.Msg)
		return
	}
	ip := net.ParseIP(*req.IPAddress)
	if ip == nil {
		e := errInvalidBody("Json deserialize error: invalid IP address syntax")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	var nonce int64
	if req.InitialNonce != nil {
		nonce = *req.InitialNonce
	}
	if err := s.eng.RegisterWallet(c.Request.Context(), a, ip.String(), nonce); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusOK)
}

// DELETE /api/wallets/{address} (super_admin)
func (s *Server) removeWallet(c *gin.Context) {
	a, ok := pathAddress(c, "address")
	if !ok {
		return
	}
	if err := s.eng.DeregisterWallet(c.Request.Context(), a); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusOK)
}

// walletOrderID is the order a hot wallet's order_id names. A wallet that
// passes the console wallet's display form of the payment id
// ("sender_address(…), …, data(1001)") names the order in its user data,
// the payment id of the address the customer paid (a pay page's address);
// the signature covers the field as sent.
func walletOrderID(id *string) *string {
	if id == nil {
		return nil
	}
	text, ok := tari.PaymentIDUserData(*id)
	if !ok {
		return id
	}
	if text == "" {
		return nil
	}
	return &text
}
