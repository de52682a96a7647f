package engine_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tari-payment/tps/core"
)

func TestRolesAndLogin(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		if r, _ := x.e.RolesForAddress(x.ctx, w.addr); fmt.Sprint(r) != "[user]" {
			t.Fatalf("roles = %v", r)
		}
		// First login with any nonce; empty desired roles are fine.
		if _, err := x.e.Login(x.ctx, w.addr, 100, nil); err != nil {
			t.Fatal(err)
		}
		_, err := x.e.Login(x.ctx, w.addr, 100, nil)
		wantErr(t, err, core.ErrInvalidNonce)
		// Role check fails: 2 roles missing, and the nonce is NOT consumed (D24).
		_, err = x.e.Login(x.ctx, w.addr, 101, []core.Role{core.RoleUser, core.RoleWrite, core.RoleReadAll, core.RoleWrite})
		var rn *core.RolesNotAllowedError
		if !errors.As(err, &rn) || rn.Count != 2 || !errors.Is(err, core.ErrRolesNotAllowed) {
			t.Fatalf("err = %v", err)
		}
		if err := x.e.AssignRoles(x.ctx, w.addr, []core.Role{core.RoleWrite, core.RoleReadAll}, nil); err != nil {
			t.Fatal(err)
		}
		// D18: assigning again is a no-op success.
		if err := x.e.AssignRoles(x.ctx, w.addr, []core.Role{core.RoleWrite}, nil); err != nil {
			t.Fatal(err)
		}
		// The same wallet in its dual form is the same account (D25).
		got, err := x.e.Login(x.ctx, w.dual(), 101, []core.Role{core.RoleWrite, core.RoleReadAll})
		if err != nil || len(got) != 2 {
			t.Fatalf("login = %v %v", got, err)
		}
		if r, _ := x.e.RolesForAddress(x.ctx, w.addr); fmt.Sprint(r) != "[user read_all write]" {
			t.Fatalf("roles = %v", r)
		}
		// D18: revoke-only works.
		if err := x.e.AssignRoles(x.ctx, w.addr, nil, []core.Role{core.RoleWrite}); err != nil {
			t.Fatal(err)
		}
		if r, _ := x.e.RolesForAddress(x.ctx, w.addr); fmt.Sprint(r) != "[user read_all]" {
			t.Fatalf("roles = %v", r)
		}
		_, err = x.e.Login(x.ctx, w.addr, 101, nil)
		wantErr(t, err, core.ErrInvalidNonce)
	})
}

func TestWalletRegistry(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		if err := x.e.RegisterWallet(x.ctx, w.addr, "10.0.0.1", 5); err != nil {
			t.Fatal(err)
		}
		wantErr(t, x.e.RegisterWallet(x.ctx, w.addr, "10.0.0.2", 0), core.ErrWalletExists)
		ws, err := x.e.Wallets(x.ctx)
		if err != nil || len(ws) != 1 || ws[0].Address != w.addr.Base58() || ws[0].IPAddress != "10.0.0.1" || ws[0].LastNonce != 5 {
			t.Fatalf("wallets = %+v %v", ws, err)
		}
		wantErr(t, x.e.UseWalletNonce(x.ctx, w.addr, 5, "10.0.0.1", true), core.ErrUnauthorizedWallet)
		wantErr(t, x.e.UseWalletNonce(x.ctx, w.addr, 6, "10.0.0.9", true), core.ErrUnauthorizedWallet)
		// Authorised wallets keep their exact address: another form is unknown.
		wantErr(t, x.e.UseWalletNonce(x.ctx, w.dual(), 6, "10.0.0.1", true), core.ErrUnauthorizedWallet)
		if err := x.e.UseWalletNonce(x.ctx, w.addr, 6, "10.0.0.1", true); err != nil {
			t.Fatal(err)
		}
		if err := x.e.UseWalletNonce(x.ctx, w.addr, 8, "anything", false); err != nil {
			t.Fatal(err)
		}
		wantErr(t, x.e.UseWalletNonce(x.ctx, w.addr, 7, "10.0.0.1", true), core.ErrUnauthorizedWallet)
		if ws, _ := x.e.Wallets(x.ctx); ws[0].LastNonce != 8 {
			t.Fatalf("nonce = %d", ws[0].LastNonce)
		}
		if err := x.e.DeregisterWallet(x.ctx, w.addr); err != nil {
			t.Fatal(err)
		}
		wantErr(t, x.e.DeregisterWallet(x.ctx, w.addr), core.ErrWalletNotFound)
		if ws, _ := x.e.Wallets(x.ctx); len(ws) != 0 {
			t.Fatalf("wallets = %+v", ws)
		}
	})
}

// Concurrent requests with the same nonce: exactly one wins.
func TestWalletNonceRace(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		w := newWallet()
		x.e.RegisterWallet(x.ctx, w.addr, "ip", 0)
		errs := make(chan error, 8)
		for range 8 {
			go func() { errs <- x.e.UseWalletNonce(x.ctx, w.addr, 1, "ip", true) }()
		}
		ok := 0
		for range 8 {
			if err := <-errs; err == nil {
				ok++
			} else if !errors.Is(err, core.ErrUnauthorizedWallet) {
				t.Fatal(err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d winners", ok)
		}
	})
}

func TestShopifyTransactionsAndWebhookDedupe(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		tx := core.ShopifyTransaction{ID: 9001, OrderID: 5001, Amount: "12.50", Currency: "USD", Test: true}
		for range 2 { // idempotent
			if err := x.e.RecordShopifyTransaction(x.ctx, tx); err != nil {
				t.Fatal(err)
			}
		}
		x.e.RecordShopifyTransaction(x.ctx, core.ShopifyTransaction{ID: 9002, OrderID: 5001, Amount: "1", Currency: "USD"})
		got, err := x.e.ShopifyTransactionsForOrder(x.ctx, 5001)
		if err != nil || len(got) != 2 || got[0].Amount != "12.50" || !got[0].Test || got[0].Captured {
			t.Fatalf("%+v %v", got, err)
		}
		if err := x.e.MarkShopifyTransactionCaptured(x.ctx, 9001); err != nil {
			t.Fatal(err)
		}
		if got, _ := x.e.ShopifyTransactionsForOrder(x.ctx, 5001); len(got) != 1 || got[0].ID != 9002 {
			t.Fatalf("uncaptured = %+v", got)
		}
		first, err := x.e.MarkWebhookSeen(x.ctx, "evt-1")
		if err != nil || !first {
			t.Fatalf("%v %v", first, err)
		}
		if again, _ := x.e.MarkWebhookSeen(x.ctx, "evt-1"); again {
			t.Fatal("duplicate reported as first")
		}
	})
}
