package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store/enginestore"
)

// Redaction names whose personal data to erase (Shopify's customers/redact
// and shop/redact): customer ids as stored (a Shopify customer id, or
// "guest:<email>" for a guest), and order ids.
type Redaction struct {
	CustomerIDs []string
	OrderIDs    []string
	// All erases every customer's personal data (shop/redact).
	All bool
}

// RedactionResult says what was erased.
type RedactionResult struct {
	Orders    int `json:"orders"`
	Customers int `json:"customers"`
	Events    int `json:"events"`
}

// redactedPrefix marks a customer id replaced by a random pseudonym.
const redactedPrefix = "redacted:"

func pseudonym() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return redactedPrefix + hex.EncodeToString(b[:])
}

// RedactCustomers erases the personal data of the named customers and orders
// and keeps the financial records: each customer id becomes a random
// pseudonym (the same one everywhere, so balances, links to paying wallet
// addresses and settlements still add up, but nothing leads back to the
// person), and the order note text (memo) is removed; amounts, order and
// payment ids and times stay. Audit snapshots and event payloads are
// rewritten the same way. One transaction.
func (e *Engine) RedactCustomers(ctx context.Context, r Redaction) (RedactionResult, error) {
	var res RedactionResult
	_, err := e.write(ctx, func(t *txn) error {
		res = RedactionResult{}
		// The orders concerned and their customers.
		if !r.All && len(r.CustomerIDs) == 0 && len(r.OrderIDs) == 0 {
			return nil
		}
		hits, err := t.OrdersToRedact(redactedPrefix, r.CustomerIDs, r.OrderIDs, r.All)
		if err != nil {
			return err
		}
		pseudo := map[string]string{} // customer id → pseudonym
		for _, c := range r.CustomerIDs {
			if !strings.HasPrefix(c, redactedPrefix) {
				pseudo[c] = pseudonym()
			}
		}
		orderIDs := map[string]bool{}
		for _, h := range hits {
			if _, ok := pseudo[h.CustomerID]; !ok {
				pseudo[h.CustomerID] = pseudonym()
			}
			orderIDs[h.OrderID] = true
			if err := t.PseudonymiseOrder(h.ID, pseudo[h.CustomerID], t.now); err != nil {
				return err
			}
			res.Orders++
		}
		for c, p := range pseudo {
			if err := t.RenameCustomerLinks(c, p); err != nil {
				return err
			}
		}
		res.Customers = len(pseudo)
		if r.All {
			// shop/redact: one pass over every order snapshot and event.
			if err := t.scrubJSONRows(t.OrderSnapshots, t.SetSnapshot, pseudo, orderIDs, nil); err != nil {
				return err
			}
			return t.scrubJSONRows(t.EventPayloads, t.SetEventPayload, pseudo, orderIDs, &res.Events)
		}
		// Audit snapshots of these orders.
		for oid := range orderIDs {
			snapshots := func() ([]enginestore.JSONDoc, error) { return t.OrderSnapshotsOf(oid) }
			if err := t.scrubJSONRows(snapshots, t.SetSnapshot, pseudo, orderIDs, nil); err != nil {
				return err
			}
		}
		// Event payloads (the plugins' outbox) naming these customers or orders. A
		// % or _ in an id only widens the LIKE candidates; each is checked
		// exactly after parsing.
		for c := range pseudo {
			payloads := func() ([]enginestore.JSONDoc, error) { return t.EventPayloadsContaining(c) }
			if err := t.scrubJSONRows(payloads, t.SetEventPayload, pseudo, orderIDs, &res.Events); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// scrubJSONRows rewrites the JSON documents read lists: every object whose
// customer_id is one of pseudo's keys, or whose order_id is in orderIDs,
// gets the pseudonym and loses its memo.
func (t *txn) scrubJSONRows(read func() ([]enginestore.JSONDoc, error), write func(id int64, doc string) error, pseudo map[string]string, orderIDs map[string]bool, changed *int) error {
	all, err := read()
	if err != nil {
		return err
	}
	for _, r := range all {
		var v any
		if err := json.Unmarshal([]byte(r.Doc), &v); err != nil {
			return fmt.Errorf("redaction: row %d is not JSON: %w", r.ID, err)
		}
		if !scrub(v, pseudo, orderIDs) {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := write(r.ID, string(b)); err != nil {
			return err
		}
		if changed != nil {
			*changed++
		}
	}
	return nil
}

func scrub(v any, pseudo map[string]string, orderIDs map[string]bool) bool {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		cid, _ := x["customer_id"].(string)
		oid, _ := x["order_id"].(string)
		p, byCustomer := pseudo[cid]
		if byCustomer || (oid != "" && orderIDs[oid] && cid != "" && !strings.HasPrefix(cid, redactedPrefix)) {
			if !byCustomer {
				if p = pseudo[cid]; p == "" {
					p = pseudonym()
					pseudo[cid] = p
				}
			}
			x["customer_id"] = p
			if _, ok := x["memo"]; ok {
				x["memo"] = nil
			}
			changed = true
		}
		for _, child := range x {
			changed = scrub(child, pseudo, orderIDs) || changed
		}
	case []any:
		for _, child := range x {
			changed = scrub(child, pseudo, orderIDs) || changed
		}
	}
	return changed
}

// CustomerData is everything stored about one customer (Shopify's
// customers/data_request): balances, orders with their memos, settlements,
// and the wallet addresses that paid for them.
type CustomerData struct {
	core.CustomerHistory
	Addresses []string `json:"addresses"`
}

// CustomerDataExport returns the customer's stored data for an admin.
func (e *Engine) CustomerDataExport(ctx context.Context, customerID string) (CustomerData, error) {
	h, err := e.CustomerHistory(ctx, customerID)
	if err != nil {
		return CustomerData{}, err
	}
	addrs, err := e.reads.CustomerAddresses(ctx, customerID)
	if err != nil {
		return CustomerData{}, err
	}
	if addrs == nil {
		addrs = []string{}
	}
	return CustomerData{CustomerHistory: h, Addresses: addrs}, nil
}

// NoteShopifyCancelMismatch records on a Paid order that Shopify cancelled
// it: the order stays Paid (the money arrived), and the note in
// cancel_reason is what an admin sees on the order. Errors:
// core.ErrOrderNotFound, core.ErrForbiddenChange unless Paid.
func (e *Engine) NoteShopifyCancelMismatch(ctx context.Context, orderID, note string) (*core.Order, error) {
	var out core.Order
	_, err := e.write(ctx, func(t *txn) error {
		o, err := t.mustFindOrder(orderID)
		if err != nil {
			return err
		}
		if o.Status != core.OrderPaid {
			return core.ErrForbiddenChange
		}
		if err := t.SetOrderCancelReason(o.ID, note, t.now); err != nil {
			return err
		}
		o.CancelReason, o.UpdatedAt = &note, t.now
		out = *o
		return t.logOrder("shopify_cancelled_while_paid", o)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
