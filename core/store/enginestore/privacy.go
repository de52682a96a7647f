package enginestore

import (
	"strings"
	"time"
)

// OrderRef names an order and its customer.
type OrderRef struct {
	ID         int64
	OrderID    string
	CustomerID string
}

// OrdersToRedact lists the orders whose customer id does not start with
// redactedPrefix and, unless all, whose customer is one of customerIDs or
// whose order_id is one of orderIDs.
func (t *Tx) OrdersToRedact(redactedPrefix string, customerIDs, orderIDs []string, all bool) ([]OrderRef, error) {
	var conds []string
	args := []any{redactedPrefix + "%"}
	if !all {
		if len(customerIDs) > 0 {
			conds = append(conds, "customer_id IN ("+placeholders(len(customerIDs))+")")
			for _, c := range customerIDs {
				args = append(args, c)
			}
		}
		if len(orderIDs) > 0 {
			conds = append(conds, "order_id IN ("+placeholders(len(orderIDs))+")")
			for _, o := range orderIDs {
				args = append(args, o)
			}
		}
		if len(conds) == 0 {
			return nil, nil
		}
	}
	q := "SELECT id, order_id, customer_id FROM orders WHERE customer_id NOT LIKE ?"
	if len(conds) > 0 {
		q += " AND (" + strings.Join(conds, " OR ") + ")"
	}
	rows, err := t.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OrderRef
	for rows.Next() {
		var h OrderRef
		if err := rows.Scan(&h.ID, &h.OrderID, &h.CustomerID); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// PseudonymiseOrder gives an order another customer id and drops its memo.
func (t *Tx) PseudonymiseOrder(id int64, customerID string, now time.Time) error {
	return t.Exec("UPDATE orders SET customer_id = ?, memo = NULL, updated_at = ? WHERE id = ?", customerID, now, id)
}

// RenameCustomerLinks moves a customer's account links to another id.
func (t *Tx) RenameCustomerLinks(from, to string) error {
	return t.Exec("UPDATE address_links SET customer_id = ? WHERE customer_id = ?", to, from)
}

// JSONDoc is a row holding a JSON document: an audit snapshot (ID is the
// audit row's id) or an event payload (ID is the event's seq).
type JSONDoc struct {
	ID  int64
	Doc string
}

// OrderSnapshots lists the audit snapshots of every order.
func (t *Tx) OrderSnapshots() ([]JSONDoc, error) {
	return t.jsonDocs("SELECT id, snapshot FROM audit_log WHERE entity = 'order'")
}

// OrderSnapshotsOf lists the audit snapshots of one order.
func (t *Tx) OrderSnapshotsOf(orderID string) ([]JSONDoc, error) {
	return t.jsonDocs("SELECT a.id, a.snapshot FROM audit_log a JOIN orders o ON a.entity = 'order' AND a.entity_key = CAST(o.id AS TEXT) WHERE o.order_id = ?", orderID)
}

// EventPayloads lists every event payload.
func (t *Tx) EventPayloads() ([]JSONDoc, error) {
	return t.jsonDocs("SELECT seq, payload FROM events")
}

// EventPayloadsContaining lists the event payloads that contain s (a % or
// _ in s only widens the candidates).
func (t *Tx) EventPayloadsContaining(s string) ([]JSONDoc, error) {
	return t.jsonDocs("SELECT seq, payload FROM events WHERE payload LIKE ?", "%"+s+"%")
}

// SetSnapshot rewrites an audit snapshot.
func (t *Tx) SetSnapshot(id int64, doc string) error {
	return t.Exec("UPDATE audit_log SET snapshot = ? WHERE id = ?", doc, id)
}

// SetEventPayload rewrites an event's payload.
func (t *Tx) SetEventPayload(seq int64, doc string) error {
	return t.Exec("UPDATE events SET payload = ? WHERE seq = ?", doc, seq)
}

func (t *Tx) jsonDocs(q string, args ...any) ([]JSONDoc, error) {
	rows, err := t.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []JSONDoc
	for rows.Next() {
		var r JSONDoc
		if err := rows.Scan(&r.ID, &r.Doc); err != nil {
			return nil, err
		}
		all = append(all, r)
	}
	return all, rows.Err()
}
