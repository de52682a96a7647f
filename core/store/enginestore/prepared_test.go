package enginestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store/storetest"
)

// TestPostgresWritesExecutePreparedStatements runs every method with a
// prepared statement on PostgreSQL, in one transaction, and then asks that
// session which prepared statements ran: each registered one must have, so
// a method whose SQL no longer matches its registration (and silently went
// back to parse and plan) fails here, as does a store that stopped
// preparing them. The same calls must keep their results.
func TestPostgresWritesExecutePreparedStatements(t *testing.T) {
	db := storetest.Postgres(t)
	if !db.PreparedStatements() {
		t.Fatal("a PostgreSQL database opened with store.Open does not report prepared statements")
	}
	now := time.Date(2026, 12, 7, 6, 0, 0, 123456000, time.UTC)
	const account, address, customer, bound = "acct1", "addr1", "cust1", core.MicroTari(1 << 50)
	var ran []string
	err := Write(context.Background(), db, false, func(tx *Tx) error {
		alt := "alt-1"
		o := &core.Order{OrderID: "order-1", AltID: &alt, CustomerID: customer, TotalPrice: 500, Currency: "XTR",
			CreatedAt: now, UpdatedAt: now, Status: core.OrderUnclaimed, StatusChangedAt: now}
		id, err := tx.InsertOrder(o)
		if err != nil {
			return fmt.Errorf("InsertOrder: %w", err)
		}
		if got, err := tx.OrderByOrderID("order-1"); err != nil || got == nil || got.ID != id || !got.CreatedAt.Equal(now) || *got.AltID != alt {
			return fmt.Errorf("OrderByOrderID = %+v, %v", got, err)
		}
		if got, err := tx.OrderByIDOrAlt("alt-1"); err != nil || got == nil || got.ID != id {
			return fmt.Errorf("OrderByIDOrAlt = %+v, %v", got, err)
		}
		if err := tx.Link(account, address, customer, now); err != nil {
			return err
		}
		if ok, err := tx.BumpBalance(account, address, 700, 0, 0, bound, false, now); !ok || err != nil {
			return fmt.Errorf("BumpBalance (new row) = %v, %v", ok, err)
		}
		if ok, err := tx.BumpBalance(account, address, bound, 0, 0, bound, true, now); ok || err != nil {
			return fmt.Errorf("BumpBalance past the bound = %v, %v; want false", ok, err)
		}
		if ok, err := tx.BumpBalance(account, address, 0, 0, -5, bound, true, now); !ok || err != nil {
			return fmt.Errorf("BumpBalance (known row) = %v, %v", ok, err)
		}
		if b, ok, err := tx.Balance(account); !ok || err != nil || b.TotalConfirmed != 700 || b.Pending != -5 || !b.LastUpdate.Equal(now) {
			return fmt.Errorf("Balance = %+v, %v, %v", b, ok, err)
		}
		// A new order of the linked customer, inserted with its auto-claim
		// candidate, by its id and by its alt id too.
		for i, alt := range []*string{nil, &alt} {
			n := fmt.Sprint("order-claim-", i)
			o := &core.Order{OrderID: n, CustomerID: customer, TotalPrice: 500, Currency: "XTR",
				CreatedAt: now, UpdatedAt: now, Status: core.OrderPaid, StatusChangedAt: now}
			if id, got, err := tx.InsertOrderAutoClaim(o, alt); err != nil || id == 0 || got != address {
				return fmt.Errorf("InsertOrderAutoClaim = %d, %q, %v", id, got, err)
			}
			if _, _, err := tx.InsertOrderAutoClaim(o, alt); !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("InsertOrderAutoClaim of a known order: %v, want sql.ErrNoRows", err)
			}
		}
		if orders, b, err := tx.Payable(account); err != nil || len(orders) != 1 || b == nil || b.TotalConfirmed != 700 {
			return fmt.Errorf("Payable = %v, %+v, %v", orders, b, err)
		}
		if err := tx.ClaimOrder(id, account, now); err != nil {
			return err
		}
		if by, err := tx.OrderClaimant(id); err != nil || by == nil || *by != account {
			return fmt.Errorf("OrderClaimant = %v, %v", by, err)
		}
		if err := tx.SetOrderStatus(id, core.OrderPaid, now); err != nil {
			return err
		}
		if err := tx.CancelOrder(id, "test", now); err != nil {
			return err
		}
		p := &core.Payment{TxID: "tx-1", CreatedAt: now, UpdatedAt: now, Sender: address, SenderAccount: account, Amount: 700,
			PaymentType: core.PaymentOnChain, Status: core.PaymentReceived}
		if ok, err := tx.InsertPayment(p); !ok || err != nil {
			return fmt.Errorf("InsertPayment = %v, %v", ok, err)
		}
		if s, err := tx.PaymentStatus("tx-1"); err != nil || s != core.PaymentReceived {
			return fmt.Errorf("PaymentStatus = %v, %v", s, err)
		}
		if got, err := tx.LeaveReceived("tx-1", core.PaymentConfirmed, now); err != nil || got.Status != core.PaymentConfirmed || got.OrderID != nil {
			return fmt.Errorf("LeaveReceived = %+v, %v", got, err)
		}
		if _, err := tx.InsertSettlement(core.SettlementJournalEntry{CreatedAt: now, OrderID: "order-1", PaymentAddress: address,
			Account: account, SettlementType: core.SettlementSingle, Amount: 500}); err != nil {
			return fmt.Errorf("InsertSettlement: %w", err)
		}
		if ok, err := tx.InsertWallet("wallet1", "127.0.0.1", 1, now); !ok || err != nil {
			return fmt.Errorf("InsertWallet = %v, %v", ok, err)
		}
		ip, otherIP := "127.0.0.1", "10.0.0.1"
		for _, c := range []struct {
			nonce int64
			ip    *string
			want  bool
		}{{2, nil, true}, {2, nil, false}, {3, &otherIP, false}, {3, &ip, true}} {
			if ok, err := tx.UseWalletNonce("wallet1", c.nonce, c.ip, now); ok != c.want || err != nil {
				return fmt.Errorf("UseWalletNonce(%d) = %v, %v; want %v", c.nonce, ok, err, c.want)
			}
		}
		// Every batch size of events and audit rows, with and without a
		// subscriber (NULL).
		for n := 1; n <= 8; n++ {
			var evs []core.Event
			var audit []any
			for i := range n {
				ev := core.Event{ID: fmt.Sprintf("ev-%d-%d", n, i), Type: core.EventOrderPaid, CreatedAt: now, Payload: []byte(`{}`)}
				if i%2 == 1 {
					ev.Subscriber = "plugin"
				}
				evs = append(evs, ev)
				audit = append(audit, "order", "order-1", "update", now, "{}")
			}
			if err := tx.AppendEvents(evs, audit); err != nil {
				return err
			}
		}
		rows, err := tx.Query("SELECT name FROM pg_prepared_statements WHERE generic_plans + custom_plans > 0")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			ran = append(ran, name)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	for _, n := range ran {
		done[n] = true
	}
	var missing []string
	for _, s := range pgPrepared {
		if !done[s.Name] {
			missing = append(missing, s.Name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("registered statements never executed on the transaction's connection: %v (ran: %v)", missing, ran)
	}
	var events int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM events WHERE id LIKE 'ev-%'").Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 36 {
		t.Errorf("%d events in the outbox, want 36", events)
	}
}
