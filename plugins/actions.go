package plugins

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
)

// Actions are a plugin's calls back into the engine (ABI.md "Actions"): each
// one is granted by a manifest "actions" entry, runs as the plugin (the
// plugin_actions audit row names it), and is refused (and logged and
// audited) when not granted. The operations themselves live behind Engine,
// which the server wires (cmd/tari-payment-server), so this package knows
// neither the API nor Shopify.

// Engine is what plugin actions call. The server implements it with the
// payment engine and, for SetExchangeRate, the same function as the admin
// route POST /api/exchange_rate (which reprices the store's products).
type Engine interface {
	// SetExchangeRate stores a rate (µT per whole unit of currency) and
	// reprices the store's products as the admin route does. A stored rate
	// whose repricing failed is a RateChange with RepriceError set, not an
	// error.
	SetExchangeRate(ctx context.Context, currency string, rate core.MicroTari) (RateChange, error)
	// ExchangeRate is the latest rate of currency (core.ErrRateNotFound).
	ExchangeRate(ctx context.Context, currency string) (core.ExchangeRate, error)
	// Order is one order by its order id (core.ErrOrderNotFound).
	Order(ctx context.Context, orderID string) (*core.Order, error)
	// Orders lists orders matching q.
	Orders(ctx context.Context, q core.OrderQuery) ([]core.Order, error)
	// Payments lists payments matching f, newest first.
	Payments(ctx context.Context, f PaymentFilter) ([]core.Payment, error)
}

// RateChange is a stored exchange rate and what repricing the store did.
type RateChange struct {
	Rate         core.ExchangeRate `json:"rate"`
	Repriced     int               `json:"repriced"`                // product variants repriced
	RepriceError string            `json:"reprice_error,omitempty"` // the rate is stored; the store's prices are not
}

// PaymentFilter selects payments for the payments.list action; empty
// fields do not filter.
type PaymentFilter struct {
	TxID     string
	OrderID  string // payments made for this order (PaymentsForOrder)
	Sender   string
	Statuses []core.PaymentStatus
	Limit    int
}

// actionGrants maps each manifest grant to the actions it allows.
var actionGrants = map[string][]string{
	"rates:write":   {"rates.set", "rates.get"},
	"rates:read":    {"rates.get"},
	"orders:read":   {"orders.get", "orders.list"},
	"payments:read": {"payments.list"},
}

func knownGrants() string {
	var gs []string
	for g := range actionGrants {
		gs = append(gs, g)
	}
	sort.Strings(gs)
	return strings.Join(gs, ", ")
}

// grantFor lists the grants that allow action, any one of which is enough
// (none: an unknown action).
func grantFor(action string) []string {
	var out []string
	for g, as := range actionGrants {
		if slices.Contains(as, action) {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out
}

const (
	maxActionRequest = 64 << 10
	maxListLimit     = 500
	defaultListLimit = 100
	maxAuditRequest  = 2000
)

func init() { hostFuncs = append(hostFuncs, "action", "action_read") }

// actionHost is one plugin's side of the actions: what it may call, where it
// is audited, and the last answer for action_read.
type actionHost struct {
	engine Engine    // nil: the server offers no actions (every call fails)
	db     *store.DB // the audit trail; nil in tests without a database
	resp   []byte
}

// defineActionFuncs adds action and action_read to the tari_v1 host module.
func (p *plugin) defineActionFuncs(fn func(name string, f api.GoModuleFunc, params, results []api.ValueType)) {
	i32 := api.ValueTypeI32
	fn("action", p.hostAction, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	fn("action_read", p.hostActionRead, []api.ValueType{i32, i32}, []api.ValueType{i32})
}

// hostAction: (name_ptr, name_len, req_ptr, req_len) -> length of the answer
// document, read with action_read.
func (p *plugin) hostAction(ctx context.Context, m api.Module, stack []uint64) {
	nptr, nlen, rptr, rlen := api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	var doc []byte
	switch {
	case nlen > 64:
		doc = actionErrDoc("invalid", "action name over 64 bytes")
	case rlen > maxActionRequest:
		doc = actionErrDoc("invalid", fmt.Sprintf("request of %d bytes is over the %d-byte limit", rlen, maxActionRequest))
	default:
		doc = p.runAction(ctx, string(read(m, nptr, nlen)), read(m, rptr, rlen))
	}
	if p.act == nil {
		p.act = &actionHost{}
	}
	p.act.resp = doc
	stack[0] = api.EncodeI32(int32(len(doc)))
}

func (p *plugin) hostActionRead(_ context.Context, m api.Module, stack []uint64) {
	var doc []byte
	if p.act != nil {
		doc = p.act.resp
	}
	stack[0] = writeIfFits(m, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), doc)
}

// actionError is an action's failure as the plugin sees it.
type actionError struct {
	code string // refused, invalid, not_found, failed
	msg  string
}

func (e *actionError) Error() string { return e.msg }

func actionErrDoc(code, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"error": msg, "code": code})
	return b
}

// runAction checks the grant, runs the action and audits it.
func (p *plugin) runAction(ctx context.Context, name string, req []byte) []byte {
	start := time.Now()
	result, err := p.doAction(ctx, name, req)
	outcome, detail := "ok", ""
	var ae *actionError
	switch {
	case err == nil:
	case errors.As(err, &ae) && (ae.code == "refused" || ae.code == "invalid"):
		outcome, detail = "refused", ae.msg
	default:
		outcome, detail = "failed", err.Error()
	}
	p.audit(ctx, name, req, outcome, detail)
	switch outcome {
	case "ok":
		p.log.Debug("plugin action", "action", name, "took", time.Since(start))
		doc, merr := json.Marshal(map[string]any{"result": result})
		if merr != nil {
			return actionErrDoc("failed", "encoding the answer failed")
		}
		return doc
	case "refused":
		p.log.Warn("plugin action refused", "action", name, "reason", detail)
		return actionErrDoc(ae.code, ae.msg)
	}
	if errors.As(err, &ae) {
		p.log.Info("plugin action failed", "action", name, "err", err)
		return actionErrDoc(ae.code, ae.msg)
	}
	p.log.Warn("plugin action failed", "action", name, "err", err)
	return actionErrDoc("failed", "the server could not complete "+name)
}

// audit records one action call; a failure to record it is logged (the
// action already ran or was refused).
func (p *plugin) audit(ctx context.Context, name string, req []byte, outcome, detail string) {
	if p.act == nil || p.act.db == nil {
		return
	}
	if len(req) > maxAuditRequest {
		req = append(bytes.Clone(req[:maxAuditRequest]), "…"...)
	}
	if !json.Valid(req) {
		req = []byte(fmt.Sprintf("%q", req))
	}
	if len(name) > 64 {
		name = name[:64]
	}
	_, err := p.act.db.ExecContext(context.WithoutCancel(ctx), `INSERT INTO plugin_actions (plugin_id, action, request, outcome, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.m.ID, strings.ToValidUTF8(name, "?"), strings.ToValidUTF8(string(req), "?"), outcome, truncateDetail(detail), time.Now().UTC())
	if err != nil {
		p.log.Error("recording a plugin action in the audit trail failed", "action", name, "outcome", outcome, "err", err)
	}
}

func truncateDetail(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

func refused(format string, a ...any) error {
	return &actionError{code: "refused", msg: fmt.Sprintf(format, a...)}
}

func invalid(format string, a ...any) error {
	return &actionError{code: "invalid", msg: fmt.Sprintf(format, a...)}
}

// decodeStrict decodes an action's request: unknown fields are an error,
// as in manifests.
func decodeStrict(req []byte, v any) error {
	if len(bytes.TrimSpace(req)) == 0 {
		req = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(req))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("bad request document: %v", err)
	}
	if dec.More() {
		return invalid("bad request document: trailing data")
	}
	return nil
}

// engineError maps the engine's refusals to codes the plugin can act on; any
// other error is returned as is (logged, and answered without its text).
func engineError(err error) error {
	switch {
	case errors.Is(err, core.ErrOrderNotFound), errors.Is(err, core.ErrRateNotFound), errors.Is(err, core.ErrPaymentNotFound):
		return &actionError{code: "not_found", msg: err.Error()}
	case errors.Is(err, core.ErrInvalidPrice), errors.Is(err, core.ErrInvalidAmount), errors.Is(err, core.ErrAmountOverflow):
		return &actionError{code: "invalid", msg: err.Error()}
	}
	return err
}

func (p *plugin) doAction(ctx context.Context, name string, req []byte) (any, error) {
	needs := grantFor(name)
	if len(needs) == 0 {
		return nil, refused("unknown action %q", name)
	}
	granted := false
	for _, g := range needs {
		if slices.Contains(p.m.Actions, g) {
			granted = true
		}
	}
	if !granted {
		return nil, refused("action %s is not granted to plugin %s (manifest \"actions\" needs %s)", name, p.m.ID, strings.Join(needs, " or "))
	}
	var eng Engine
	if p.act != nil {
		eng = p.act.engine
	}
	if eng == nil {
		return nil, &actionError{code: "failed", msg: "this server offers no plugin actions"}
	}
	switch name {
	case "rates.set":
		var r struct {
			Currency string `json:"currency"`
			Rate     int64  `json:"rate"`
		}
		if err := decodeStrict(req, &r); err != nil {
			return nil, err
		}
		cur := strings.TrimSpace(r.Currency)
		if cur == "" || len(cur) > 10 || !core.ValidAmount(core.MicroTari(r.Rate)) {
			return nil, invalid("currency must be a code of at most 10 characters and rate a positive integer of µT at most the total supply")
		}
		ch, err := eng.SetExchangeRate(ctx, cur, core.MicroTari(r.Rate))
		if err != nil {
			return nil, engineError(err)
		}
		p.log.Info("plugin set an exchange rate", "currency", ch.Rate.Currency, "rate", int64(ch.Rate.Rate), "repriced", ch.Repriced, "reprice_error", ch.RepriceError)
		return ch, nil
	case "rates.get":
		var r struct {
			Currency string `json:"currency"`
		}
		if err := decodeStrict(req, &r); err != nil {
			return nil, err
		}
		rate, err := eng.ExchangeRate(ctx, r.Currency)
		if err != nil {
			return nil, engineError(err)
		}
		return rate, nil
	case "orders.get":
		var r struct {
			OrderID string `json:"order_id"`
		}
		if err := decodeStrict(req, &r); err != nil {
			return nil, err
		}
		if r.OrderID == "" {
			return nil, invalid("order_id is required")
		}
		o, err := eng.Order(ctx, r.OrderID)
		if err != nil {
			return nil, engineError(err)
		}
		return o, nil
	case "orders.list":
		var r struct {
			Status     []string `json:"status"`
			CustomerID string   `json:"customer_id"`
			Limit      int      `json:"limit"`
			Offset     int      `json:"offset"`
		}
		if err := decodeStrict(req, &r); err != nil {
			return nil, err
		}
		var q core.OrderQuery
		for _, s := range r.Status {
			st, ok := core.ParseOrderStatus(s)
			if !ok {
				return nil, invalid("unknown order status %q", s)
			}
			q.Statuses = append(q.Statuses, st)
		}
		if len(q.Statuses) == 0 && r.CustomerID == "" {
			return nil, invalid("orders.list needs status or customer_id")
		}
		if r.CustomerID != "" {
			q.CustomerID = &r.CustomerID
		}
		limit, err := listLimit(r.Limit)
		if err != nil {
			return nil, err
		}
		if r.Offset < 0 {
			return nil, invalid("offset must not be negative")
		}
		q.Count, q.Offset = &limit, &r.Offset
		os, err := eng.Orders(ctx, q)
		if err != nil {
			return nil, engineError(err)
		}
		if os == nil {
			os = []core.Order{}
		}
		return map[string]any{"orders": os}, nil
	case "payments.list":
		var r struct {
			TxID    string   `json:"txid"`
			OrderID string   `json:"order_id"`
			Sender  string   `json:"sender"`
			Status  []string `json:"status"`
			Limit   int      `json:"limit"`
		}
		if err := decodeStrict(req, &r); err != nil {
			return nil, err
		}
		if r.TxID == "" && r.OrderID == "" && r.Sender == "" && len(r.Status) == 0 {
			return nil, invalid("payments.list needs txid, order_id, sender or status")
		}
		f := PaymentFilter{TxID: r.TxID, OrderID: r.OrderID, Sender: r.Sender}
		for _, s := range r.Status {
			st := core.PaymentStatus(s)
			if st != core.PaymentReceived && st != core.PaymentConfirmed && st != core.PaymentCancelled {
				return nil, invalid("unknown payment status %q", s)
			}
			f.Statuses = append(f.Statuses, st)
		}
		var err error
		if f.Limit, err = listLimit(r.Limit); err != nil {
			return nil, err
		}
		ps, err := eng.Payments(ctx, f)
		if err != nil {
			return nil, engineError(err)
		}
		if ps == nil {
			ps = []core.Payment{}
		}
		return map[string]any{"payments": ps}, nil
	}
	return nil, refused("unknown action %q", name)
}

func listLimit(n int) (int, error) {
	switch {
	case n == 0:
		return defaultListLimit, nil
	case n < 0 || n > maxListLimit:
		return 0, invalid("limit must be between 1 and %d", maxListLimit)
	}
	return n, nil
}
