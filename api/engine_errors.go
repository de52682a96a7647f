package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/tari-payment/tps/core"
)

// engineReply is how the API answers one engine refusal (a core.Code).
type engineReply struct {
	// answer wraps the inner text in the reference's ServerError variant:
	// its status and prefix. nil: fail answers a 500, as the reference does;
	// the routes that meet this refusal in normal use answer it themselves
	// (a Shopify order that already exists is a 200 success, for example).
	answer func(text string) *Error
	// text is the reference's inner message for err (http-api.md §0.2).
	text func(err error) string
}

// The reference's inner messages that handlers also write themselves.
const (
	msgOrderExists      = "Order already exists."
	msgPaymentExists    = "Payment already exists."
	msgPaymentConfirmed = "Payment already confirmed."
)

// engineReplies is the one table from engine error codes to the wire: every
// core.Code has an entry (TestEveryCoreCodeHasAWireMapping). The reference
// answers a missing rate or wallet, or a duplicate wallet, with a 500; here
// they are 404/400 (decisions.md §1).
var engineReplies = map[core.Code]engineReply{
	core.CodeOrderNotFound: {errNotFound, func(err error) string {
		var e *core.OrderNotFoundError
		if errors.As(err, &e) {
			return "The requested order " + e.OrderID + " does not exist"
		}
		return "The requested order does not exist"
	}},
	core.CodeForbiddenChange:   {errCannotComplete, fixed("The requested order change is forbidden.")},
	core.CodeNoOpChange:        {errCannotComplete, fixed("The requested order change would result in a no-op.")},
	core.CodeUnsupportedAction: {errCannotComplete, fixed("Multiple currencies are not supported yet")},
	core.CodeInvalidAmount:     {errCannotComplete, fixed("The amount must be more than zero and at most the total supply of 21 000 000 000 XTM.")},
	core.CodeAmountOverflow:    {errCannotComplete, fixed("The amount would take an account total out of bounds.")},
	core.CodeInvalidPrice:      {errCannotComplete, withDetail("Invalid price")},
	core.CodeWalletExists:      {errCannotComplete, fixed("Wallet already registered")},
	core.CodeInvalidSignature:  {errLoginSignature, fixed("Cannot claim order because the signature is invalid.")},
	core.CodeInvalidNonce:      {errLoginSignature, fixed("Nonce is not strictly increasing.")},
	core.CodeRolesNotAllowed: {errInsufficientPermissions, func(err error) string {
		var e *core.RolesNotAllowedError
		if errors.As(err, &e) {
			return "User requested at least " + strconv.Itoa(e.Count) + " roles that are not allowed"
		}
		return "User requested roles that are not allowed"
	}},
	core.CodeRateNotFound:    {errNotFound, withDetail("The requested exchange rate does not exist")},
	core.CodeWalletNotFound:  {errNotFound, fixed("Wallet not found")},
	core.CodePaymentNotFound: {errNotFound, fixed("Payment not found.")},
	core.CodeUnauthorizedWallet: {func(text string) *Error { return &Error{Status: http.StatusUnauthorized, Msg: text} },
		fixed("A request was made from an unauthorized wallet.")},

	// Answered by the routes that meet them (200 with success true or false).
	core.CodeOrderAlreadyExists:      {nil, fixed(msgOrderExists)},
	core.CodePaymentAlreadyExists:    {nil, fixed(msgPaymentExists)},
	core.CodePaymentAlreadyConfirmed: {nil, fixed(msgPaymentConfirmed)},
	core.CodeUnsupportedCurrency: {nil, func(err error) string {
		return "Unsupported currency: " + withDetail("The requested exchange rate does not exist")(err)
	}},
	// Never reach a client: tx_confirmation answers every failure alike, and
	// a Shopify order without an id is refused before the engine.
	core.CodePaymentStatusForbidden: {nil, fixed("The requested payment status change is forbidden.")},
	core.CodeInvalidOrder:           {nil, withDetail("Invalid order")},
}

func fixed(text string) func(error) string { return func(error) string { return text } }

// withDetail is text, then ": " and the refusal's detail when it has one.
func withDetail(text string) func(error) string {
	return func(err error) string {
		if d := core.DetailOf(err); d != "" {
			return text + ": " + d
		}
		return text
	}
}

// engineText is the reference's inner message for an engine refusal; ok is
// false for any other error (a bug or an outage: nothing of it goes on the wire).
func engineText(err error) (text string, ok bool) {
	code, ok := core.CodeOf(err)
	if !ok {
		return "", false
	}
	r, ok := engineReplies[code]
	if !ok {
		return "", false
	}
	return r.text(err), true
}

// mapEngineError turns an engine refusal into the reference's status code
// and message (http-api.md §0.2). Bad input never becomes a 500 here. nil
// means "unexpected": a 500.
func (s *Server) mapEngineError(err error) *Error {
	code, ok := core.CodeOf(err)
	if !ok {
		return nil
	}
	r, ok := engineReplies[code]
	if !ok || r.answer == nil {
		return nil
	}
	return r.answer(r.text(err))
}
