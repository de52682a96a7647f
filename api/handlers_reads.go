package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// rfc3339 is the reference's timestamp form: UTC, Z, fraction only when non-zero.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func ok[T any](s *Server, c *gin.Context, v T, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, v)
}

func (s *Server) myBalance(c *gin.Context) {
	v, err := s.eng.AddressBalance(c.Request.Context(), claims(c).Address)
	ok(s, c, v, err)
}

// readsAll reports whether the caller holds read_all (or super_admin): its own
// views are then the admin's (every order of its linked customers); a plain
// user sees only the orders it claimed, paid or named in a payment (D26).
func readsAll(cl tari.AccessClaims) bool {
	return hasRole(cl, core.RoleReadAll) || hasRole(cl, core.RoleSuperAdmin)
}

func (s *Server) myHistory(c *gin.Context) {
	cl := claims(c)
	var v core.AddressHistory
	var err error
	if readsAll(cl) {
		v, err = s.eng.AddressHistory(c.Request.Context(), cl.Address)
	} else {
		v, err = s.eng.OwnHistory(c.Request.Context(), cl.Address)
	}
	ok(s, c, nonNilHistory(v), err)
}

func (s *Server) myOrderList(c *gin.Context, unfulfilledOnly bool) {
	cl := claims(c)
	var v core.OrderResult
	var err error
	if readsAll(cl) {
		v, err = s.eng.OrdersForAddress(c.Request.Context(), cl.Address, unfulfilledOnly)
	} else {
		v, err = s.eng.OwnOrders(c.Request.Context(), cl.Address, unfulfilledOnly)
	}
	ok(s, c, nonNilOrders(v), err)
}

func (s *Server) myOrders(c *gin.Context) { s.myOrderList(c, false) }

func (s *Server) myUnfulfilledOrders(c *gin.Context) { s.myOrderList(c, true) }

func (s *Server) myPayments(c *gin.Context) {
	v, err := s.eng.PaymentsForAddress(c.Request.Context(), claims(c).Address)
	ok(s, c, nonNilPayments(v), err)
}

// GET /api/order/id/{order_id}: admins (read_all) see any order by order_id,
// or by alt_id when strict mode is off (D5); others only their own (D26), by
// exact order_id; otherwise null (D12).
func (s *Server) orderByID(c *gin.Context) {
	cl := claims(c)
	id := c.Param("order_id")
	var o *core.Order
	var err error
	if readsAll(cl) {
		o, err = s.eng.OrderByIDStrict(c.Request.Context(), id)
	} else {
		o, err = s.eng.OrderForAddress(c.Request.Context(), cl.Address, id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	jsonOrNull(c, o)
}

func (s *Server) withAddress(c *gin.Context, f func(a tari.Address) (any, error)) {
	a, okA := pathAddress(c, "address")
	if !okA {
		return
	}
	v, err := f(a)
	ok(s, c, v, err)
}

func (s *Server) balanceFor(c *gin.Context) {
	s.withAddress(c, func(a tari.Address) (any, error) { return s.eng.AddressBalance(c.Request.Context(), a) })
}

func (s *Server) historyForAddress(c *gin.Context) {
	s.withAddress(c, func(a tari.Address) (any, error) {
		v, err := s.eng.AddressHistory(c.Request.Context(), a)
		return nonNilHistory(v), err
	})
}

func (s *Server) historyForCustomer(c *gin.Context) {
	v, err := s.eng.CustomerHistory(c.Request.Context(), c.Param("id"))
	if v.Orders == nil {
		v.Orders = []core.Order{}
	}
	if v.Settlements == nil {
		v.Settlements = []core.SettlementJournalEntry{}
	}
	if v.Balance.Addresses == nil {
		v.Balance.Addresses = []core.AddressBalance{}
	}
	ok(s, c, v, err)
}

func (s *Server) ordersFor(c *gin.Context) {
	s.withAddress(c, func(a tari.Address) (any, error) {
		v, err := s.eng.OrdersForAddress(c.Request.Context(), a, false)
		return nonNilOrders(v), err
	})
}

func (s *Server) unfulfilledOrdersFor(c *gin.Context) {
	s.withAddress(c, func(a tari.Address) (any, error) {
		v, err := s.eng.OrdersForAddress(c.Request.Context(), a, true)
		return nonNilOrders(v), err
	})
}

func (s *Server) paymentsFor(c *gin.Context) {
	s.withAddress(c, func(a tari.Address) (any, error) {
		v, err := s.eng.PaymentsForAddress(c.Request.Context(), a)
		return nonNilPayments(v), err
	})
}

func (s *Server) paymentsForOrder(c *gin.Context) {
	v, err := s.eng.PaymentsForOrder(c.Request.Context(), c.Param("order_id"))
	if v == nil {
		v = []core.Payment{}
	}
	ok(s, c, v, err)
}

func (s *Server) creditors(c *gin.Context) {
	v, err := s.eng.Creditors(c.Request.Context())
	if v == nil {
		v = []core.CustomerOrders{}
	}
	ok(s, c, v, err)
}

func queryError(c *gin.Context, format string, args ...any) {
	abortJSON(c, http.StatusBadRequest, "Query deserialize error: "+fmt.Sprintf(format, args...))
}

// page reads count/offset (each optional, D10) and rejects other parameters.
func page(c *gin.Context, allowed ...string) (core.Page, bool) {
	var p core.Page
	for k, vs := range c.Request.URL.Query() {
		switch k {
		case "count", "offset":
			n, err := strconv.Atoi(vs[len(vs)-1])
			if err != nil || n < 0 {
				queryError(c, "invalid digit found in string for `%s`", k)
				return p, false
			}
			if k == "count" {
				p.Count = &n
			} else {
				p.Offset = &n
			}
		default:
			if !contains(allowed, k) {
				queryError(c, "unknown field `%s`", k)
				return p, false
			}
		}
	}
	return p, true
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (s *Server) customerIDs(c *gin.Context) {
	p, okP := page(c)
	if !okP {
		return
	}
	v, err := s.eng.CustomerIDs(c.Request.Context(), p)
	if v == nil {
		v = []string{}
	}
	ok(s, c, v, err)
}

func (s *Server) addresses(c *gin.Context) {
	p, okP := page(c)
	if !okP {
		return
	}
	v, err := s.eng.Addresses(c.Request.Context(), p)
	if v == nil {
		v = []string{}
	}
	ok(s, c, v, err)
}

// lenientTime parses since/until as chrono does: single-digit fields are fine
// ("2024-03-11T0:0:0Z").
var lenientTime = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})[Tt ](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d{1,9})?([Zz]|[+-]\d{2}:?\d{2})$`)

func parseLenientTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	m := lenientTime.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	pad := func(v string) string {
		if len(v) == 1 {
			return "0" + v
		}
		return v
	}
	zone := strings.ToUpper(m[8])
	if len(zone) == 5 {
		zone = zone[:3] + ":" + zone[3:]
	}
	norm := fmt.Sprintf("%s-%s-%sT%s:%s:%s%s%s", m[1], pad(m[2]), pad(m[3]), pad(m[4]), pad(m[5]), pad(m[6]), m[7], zone)
	t, err := time.Parse(time.RFC3339Nano, norm)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// GET /api/search/orders
func (s *Server) searchOrders(c *gin.Context) {
	p, okP := page(c, "memo", "order_id", "alt_id", "customer_id", "currency", "since", "until", "status")
	if !okP {
		return
	}
	q := core.OrderQuery{Page: p}
	qs := c.Request.URL.Query()
	str := func(k string) *string {
		if vs, has := qs[k]; has {
			v := vs[len(vs)-1]
			return &v
		}
		return nil
	}
	q.Memo, q.OrderID, q.AltID, q.CustomerID, q.Currency = str("memo"), str("order_id"), str("alt_id"), str("customer_id"), str("currency")
	for _, k := range []string{"since", "until"} {
		if v := str(k); v != nil {
			t, good := parseLenientTime(*v)
			if !good {
				queryError(c, "invalid timestamp for `%s`: %q", k, *v)
				return
			}
			if k == "since" {
				q.Since = &t
			} else {
				q.Until = &t
			}
		}
	}
	if v := str("status"); v != nil {
		for _, name := range strings.Split(*v, ",") {
			if st, good := core.ParseOrderStatus(strings.TrimSpace(name)); good {
				q.Statuses = append(q.Statuses, st)
			}
		}
		if len(q.Statuses) == 0 { // only unknown names: nothing can match
			writeJSON(c, http.StatusOK, []core.Order{})
			return
		}
	}
	v, err := s.eng.SearchOrders(c.Request.Context(), q)
	if v == nil {
		v = []core.Order{}
	}
	ok(s, c, v, err)
}

type exchangeRateResult struct {
	Currency  string         `json:"currency"`
	Rate      core.MicroTari `json:"rate"`
	UpdatedAt string         `json:"updated_at"`
}

// GET /api/exchange_rate/{currency}
func (s *Server) getExchangeRate(c *gin.Context) {
	r, err := s.eng.ExchangeRate(c.Request.Context(), c.Param("currency"))
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, exchangeRateResult{
		Currency: r.Currency, Rate: r.Rate,
		UpdatedAt: r.UpdatedAt.UTC().Format("2006-01-02T15:04:05.999999999") + "+00:00",
	})
}

func nonNilOrders(v core.OrderResult) core.OrderResult {
	if v.Orders == nil {
		v.Orders = []core.Order{}
	}
	return v
}

func nonNilPayments(v core.PaymentsResult) core.PaymentsResult {
	if v.Payments == nil {
		v.Payments = []core.Payment{}
	}
	return v
}

func nonNilHistory(v core.AddressHistory) core.AddressHistory {
	if v.Orders == nil {
		v.Orders = []core.Order{}
	}
	if v.Payments == nil {
		v.Payments = []core.Payment{}
	}
	if v.Settlements == nil {
		v.Settlements = []core.SettlementJournalEntry{}
	}
	return v
}
