package engine

import (
	"context"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

// RolesForAddress returns the roles assigned to addr's account, always
// including core.RoleUser.
func (e *Engine) RolesForAddress(ctx context.Context, addr tari.Address) ([]core.Role, error) {
	return nil, errNotImplemented
}

// Login checks and consumes a login nonce for addr's account in one
// transaction (POST /auth, after the caller verified the token's signature):
// the nonce must be strictly greater than the last one (any nonce the first
// time) else core.ErrInvalidNonce; then every desired role other than user
// must be assigned, else *core.RolesNotAllowedError (errors.Is
// core.ErrRolesNotAllowed). The nonce is stored only when both pass (D24).
// Returns the granted roles (the desired ones).
func (e *Engine) Login(ctx context.Context, addr tari.Address, nonce uint64, desired []core.Role) ([]core.Role, error) {
	return nil, errNotImplemented
}

// AssignRoles applies then revokes roles for addr's account in one
// transaction. Applying an assigned role is a no-op; revoke-only works (D18).
// Routes: POST /api/roles, taritools setup add-user.
func (e *Engine) AssignRoles(ctx context.Context, addr tari.Address, apply, revoke []core.Role) error {
	return errNotImplemented
}
