package api

import (
	"errors"
	"net/http"

	"github.com/tari-payment/tps/core"
)

// mapEngineError turns the engine's typed errors into the reference's status
// codes and texts (http-api.md §0.2). Bad input never becomes a 500 here:
// the reference's 500s for a missing rate or wallet, or a duplicate wallet,
// are 404/400 (decisions.md §1). nil means "unexpected": a 500.
func (s *Server) mapEngineError(err error) *Error {
	switch {
	case errors.Is(err, core.ErrOrderNotFound):
		return errNotFound(err.Error())
	case errors.Is(err, core.ErrForbiddenChange), errors.Is(err, core.ErrNoOpChange),
		errors.Is(err, core.ErrUnsupportedAction), errors.Is(err, core.ErrInvalidAmount), errors.Is(err, core.ErrAmountOverflow),
		errors.Is(err, core.ErrInvalidPrice), errors.Is(err, core.ErrWalletExists):
		return errCannotComplete(err.Error())
	case errors.Is(err, core.ErrInvalidSignature):
		return errLoginSignature(core.ErrInvalidSignature.Error())
	case errors.Is(err, core.ErrInvalidNonce):
		return errLoginSignature(core.ErrInvalidNonce.Error())
	case errors.Is(err, core.ErrRolesNotAllowed):
		return errInsufficientPermissions(err.Error())
	case errors.Is(err, core.ErrRateNotFound), errors.Is(err, core.ErrWalletNotFound),
		errors.Is(err, core.ErrPaymentNotFound):
		return errNotFound(err.Error())
	case errors.Is(err, core.ErrUnauthorizedWallet):
		return &Error{Status: http.StatusUnauthorized, Msg: core.ErrUnauthorizedWallet.Error()}
	}
	return nil
}
