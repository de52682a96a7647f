package engine

import (
	"context"
	"math"
	"slices"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// RolesForAddress returns the roles assigned to addr's account, always
// including core.RoleUser.
func (e *Engine) RolesForAddress(ctx context.Context, addr tari.Address) ([]core.Role, error) {
	return rolesOf(e.reads.RoleNames(ctx, addr.AccountKey()))
}

// Login checks and consumes a login nonce for addr's account in one
// transaction (POST /auth, after the caller verified the token's signature):
// the nonce must be strictly greater than the last one (any nonce the first
// time) else core.ErrInvalidNonce; then every desired role other than user
// must be assigned, else *core.RolesNotAllowedError (errors.Is
// core.ErrRolesNotAllowed). The nonce is stored only when both pass (D24).
// Returns the granted roles (the desired ones).
func (e *Engine) Login(ctx context.Context, addr tari.Address, nonce uint64, desired []core.Role) ([]core.Role, error) {
	if nonce > math.MaxInt64 {
		// Stored as an int64 (as the reference): a larger nonce would wrap
		// to a negative one and let every later nonce log in again (D27).
		return nil, core.ErrInvalidNonce
	}
	var granted []core.Role
	_, err := e.write(ctx, func(t *txn) error {
		acct := addr.AccountKey()
		last, ok, err := t.LastLoginNonce(acct)
		switch {
		case err != nil:
			return err
		case ok && int64(nonce) <= last: // stored as i64 like the reference
			return core.ErrInvalidNonce
		}
		have, err := rolesOf(t.RoleNames(acct))
		if err != nil {
			return err
		}
		missing := map[core.Role]bool{}
		for _, r := range desired {
			if !slices.Contains(have, r) {
				missing[r] = true
			}
		}
		if len(missing) > 0 {
			return &core.RolesNotAllowedError{Count: len(missing)}
		}
		granted = append([]core.Role{}, desired...)
		return t.SetLoginNonce(acct, addr.Base58(), int64(nonce), t.now)
	})
	return granted, err
}

// AssignRoles applies then revokes roles for addr's account in one
// transaction. Applying an assigned role is a no-op; revoke-only works (D18).
// Routes: POST /api/roles, taritools setup add-user.
func (e *Engine) AssignRoles(ctx context.Context, addr tari.Address, apply, revoke []core.Role) error {
	_, err := e.write(ctx, func(t *txn) error {
		acct := addr.AccountKey()
		for _, r := range apply {
			if r == core.RoleUser {
				continue // implicit
			}
			if err := t.AssignRole(acct, addr.Base58(), r); err != nil {
				return err
			}
		}
		for _, r := range revoke {
			if err := t.RevokeRole(acct, r); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// rolesOf is the assigned role names as roles, core.RoleUser always first.
func rolesOf(names []string, err error) ([]core.Role, error) {
	if err != nil {
		return nil, err
	}
	roles := []core.Role{core.RoleUser}
	for _, n := range names {
		if r := core.Role(n); r != core.RoleUser {
			roles = append(roles, r)
		}
	}
	return roles, nil
}
