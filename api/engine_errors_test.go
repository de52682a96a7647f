package api

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tari-payment/tps/core"
)

// TestEveryCoreCodeHasAWireMapping fails when core gains an error code the
// API does not know how to answer.
func TestEveryCoreCodeHasAWireMapping(t *testing.T) {
	codes := core.Codes()
	if len(codes) == 0 {
		t.Fatal("core lists no codes")
	}
	for _, c := range codes {
		r, ok := engineReplies[c]
		if !ok || r.text == nil {
			t.Errorf("core.Code %q has no wire mapping in engineReplies", c)
			continue
		}
		if r.answer != nil {
			if e := r.answer("x"); e.Status < 400 || e.Status >= 500 {
				t.Errorf("%s answers %d: a refusal is a 4xx", c, e.Status)
			}
		}
	}
	if len(engineReplies) != len(codes) {
		t.Errorf("engineReplies has %d entries for %d codes", len(engineReplies), len(codes))
	}
}

// TestEngineErrorWireTexts pins what each refusal looks like on the wire
// (the reference's statuses and texts), independently of core's own texts.
func TestEngineErrorWireTexts(t *testing.T) {
	s := &Server{}
	for _, tc := range []struct {
		err    error
		status int // 0: not mapped, a 500
		msg    string
	}{
		{fmt.Errorf("in tx: %w", core.OrderNotFound("#1001")), 404, "The data was not found. The requested order #1001 does not exist"},
		{core.ErrForbiddenChange, 400, "Cannot complete this request. The requested order change is forbidden."},
		{core.ErrNoOpChange, 400, "Cannot complete this request. The requested order change would result in a no-op."},
		{core.ErrUnsupportedAction, 400, "Cannot complete this request. Multiple currencies are not supported yet"},
		{core.ErrInvalidAmount, 400, "Cannot complete this request. The amount must be more than zero and at most the total supply of 21 000 000 000 XTM."},
		{core.ErrAmountOverflow, 400, "Cannot complete this request. The amount would take an account total out of bounds."},
		{core.ErrInvalidPrice, 400, "Cannot complete this request. Invalid price"},
		{core.ErrWalletExists, 400, "Cannot complete this request. Wallet already registered"},
		{core.ErrInvalidSignature, 401, "Authentication Error. Login token signature is invalid. Cannot claim order because the signature is invalid."},
		{core.ErrInvalidNonce, 401, "Authentication Error. Login token signature is invalid. Nonce is not strictly increasing."},
		{&core.RolesNotAllowedError{Count: 2}, 403, "Insufficient Permissions. User requested at least 2 roles that are not allowed"},
		{core.ErrRateNotFound.With("USD"), 404, "The data was not found. The requested exchange rate does not exist: USD"},
		{core.ErrWalletNotFound, 404, "The data was not found. Wallet not found"},
		{core.ErrPaymentNotFound, 404, "The data was not found. Payment not found."},
		{core.ErrUnauthorizedWallet, 401, "A request was made from an unauthorized wallet."},
		{core.ErrOrderAlreadyExists, 0, ""},
		{core.ErrPaymentStatusForbidden, 0, ""},
		{errors.New("database is locked"), 0, ""},
	} {
		e := s.mapEngineError(tc.err)
		switch {
		case tc.status == 0 && e != nil:
			t.Errorf("%v: mapped to %d %q, want a 500", tc.err, e.Status, e.Msg)
		case tc.status != 0 && (e == nil || e.Status != tc.status || e.Msg != tc.msg):
			t.Errorf("%v: got %+v, want %d %q", tc.err, e, tc.status, tc.msg)
		}
	}
	// Texts the Shopify and wallet routes put in their 200 bodies.
	for err, want := range map[error]string{
		core.ErrUnsupportedCurrency.With("USD"):   "Unsupported currency: The requested exchange rate does not exist: USD",
		core.ErrInvalidPrice.With("not a number"): "Invalid price: not a number",
		core.ErrAmountOverflow:                    "The amount would take an account total out of bounds.",
	} {
		if got, ok := engineText(err); !ok || got != want {
			t.Errorf("%v: text %q, want %q", err, got, want)
		}
	}
	if _, ok := engineText(errors.New("pq: connection refused")); ok {
		t.Error("an uncoded error must not reach the wire")
	}
}
