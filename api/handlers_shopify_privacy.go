package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core/engine"
)

// shopifyPrivacyGuard protects the mandatory compliance webhooks. Shopify
// requires them to answer 401 to a request whose HMAC does not verify, so
// unlike shopifyGuard the HMAC is always checked (TPG_SHOPIFY_HMAC_CHECKS
// does not turn it off) and a failure is 401, not 403.
func (s *Server) shopifyPrivacyGuard(c *gin.Context) {
	body, ok := bufferRawBody(c)
	if !ok {
		return
	}
	secret := s.cfg.ShopifyHMACSecret
	sig := c.GetHeader("X-Shopify-Hmac-Sha256")
	if secret == "" || sig == "" || !validShopifyHMAC(secret, body, sig) {
		abortJSON(c, http.StatusUnauthorized, msgBadHMAC)
		return
	}
	c.Next()
}

// privacyCustomer is the customer block of customers/data_request and
// customers/redact.
type privacyCustomer struct {
	ID    flexID     `json:"id"`
	Email flexString `json:"email"`
}

// customerIDs are the ids this server may store the customer under: the
// Shopify customer id, or "guest:<email>" for guest checkouts (D22).
func (p privacyCustomer) customerIDs() []string {
	var ids []string
	if p.ID != "" {
		ids = append(ids, string(p.ID))
	}
	if e := strings.TrimSpace(p.Email.Value); e != "" {
		ids = append(ids, "guest:"+e)
	}
	return ids
}

// POST /shopify/webhook/customers_data_request: acknowledged and logged; the
// admin fetches the data with GET /api/customer_data/{customer_id} (or
// taritools customer-data) and sends it to the merchant's customer.
func (s *Server) shopifyCustomersDataRequest(c *gin.Context) {
	var p struct {
		Customer        privacyCustomer `json:"customer"`
		OrdersRequested []flexID        `json:"orders_requested"`
		DataRequest     struct {
			ID flexID `json:"id"`
		} `json:"data_request"`
	}
	if e := decodeJSON(rawBody(c), &p); e != nil {
		abortJSON(c, e.Status, e.Msg)
		return
	}
	ids := p.Customer.customerIDs()
	if len(ids) == 0 {
		e := errInvalidBody("Json deserialize error: missing field `customer`")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	s.log.Warn("Shopify customer data request: export the customer's data for the merchant",
		"data_request", string(p.DataRequest.ID), "customer_id", ids[0], "command", "taritools admin customer-data "+ids[0])
	c.Status(http.StatusOK)
}

// POST /shopify/webhook/customers_redact: erase the customer's personal data
// (engine.RedactCustomers says what is kept).
func (s *Server) shopifyCustomersRedact(c *gin.Context) {
	var p struct {
		Customer       privacyCustomer `json:"customer"`
		OrdersToRedact []flexID        `json:"orders_to_redact"`
	}
	if e := decodeJSON(rawBody(c), &p); e != nil {
		abortJSON(c, e.Status, e.Msg)
		return
	}
	r := engine.Redaction{CustomerIDs: p.Customer.customerIDs()}
	for _, o := range p.OrdersToRedact {
		if o != "" {
			r.OrderIDs = append(r.OrderIDs, string(o))
		}
	}
	if len(r.CustomerIDs) == 0 && len(r.OrderIDs) == 0 {
		e := errInvalidBody("Json deserialize error: missing field `customer`")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	res, err := s.eng.RedactCustomers(c.Request.Context(), r)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.log.Info("Shopify customer redacted", "orders", res.Orders, "events", res.Events)
	c.Status(http.StatusOK)
}

// POST /shopify/webhook/shop_redact: 48 hours after the store uninstalled
// the app, erase every customer's personal data.
func (s *Server) shopifyShopRedact(c *gin.Context) {
	var p struct {
		ShopDomain flexString `json:"shop_domain"`
	}
	if e := decodeJSON(rawBody(c), &p); e != nil {
		abortJSON(c, e.Status, e.Msg)
		return
	}
	res, err := s.eng.RedactCustomers(c.Request.Context(), engine.Redaction{All: true})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.log.Info("Shopify shop redacted", "shop", p.ShopDomain.Value, "orders", res.Orders, "customers", res.Customers)
	c.Status(http.StatusOK)
}

// GET /api/customer_data/:customer_id (read_all): everything stored about a
// customer, as JSON, for a customers/data_request.
func (s *Server) customerData(c *gin.Context) {
	id := strings.TrimSpace(c.Param("customer_id"))
	if id == "" {
		e := errInvalidBody("customer id is empty")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	d, err := s.eng.CustomerDataExport(c.Request.Context(), id)
	if err != nil {
		s.fail(c, fmt.Errorf("customer data: %w", err))
		return
	}
	writeJSON(c, http.StatusOK, d)
}
