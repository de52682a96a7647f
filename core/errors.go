package core

import (
	"errors"
	"fmt"
)

// Code says which refusal an engine error is. Codes are stable: callers
// branch on them (the API maps each to an HTTP status and the reference's
// wire text, api/engine_errors.go), never on an error's text, which is for
// logs and people and may be reworded.
type Code string

// The engine's error codes. A new code needs a sentinel in the list below
// (TestEveryCodeHasASentinel) and a wire mapping in api (TestEveryCoreCodeHasAWireMapping).
const (
	CodeOrderNotFound           Code = "order_not_found"
	CodeForbiddenChange         Code = "forbidden_change"
	CodeNoOpChange              Code = "no_op_change"
	CodeInvalidSignature        Code = "invalid_signature"
	CodeOrderAlreadyExists      Code = "order_already_exists"
	CodePaymentAlreadyExists    Code = "payment_already_exists"
	CodePaymentAlreadyConfirmed Code = "payment_already_confirmed"
	CodePaymentNotFound         Code = "payment_not_found"
	CodePaymentStatusForbidden  Code = "payment_status_forbidden"
	CodeInvalidAmount           Code = "invalid_amount"
	CodeAmountOverflow          Code = "amount_overflow"
	CodeUnsupportedCurrency     Code = "unsupported_currency"
	CodeRateNotFound            Code = "rate_not_found"
	CodeInvalidOrder            Code = "invalid_order"
	CodeInvalidPrice            Code = "invalid_price"
	CodeInvalidNonce            Code = "invalid_nonce"
	CodeRolesNotAllowed         Code = "roles_not_allowed"
	CodeWalletExists            Code = "wallet_exists"
	CodeWalletNotFound          Code = "wallet_not_found"
	CodeUnauthorizedWallet      Code = "unauthorized_wallet"
	CodeUnsupportedAction       Code = "unsupported_action"
)

// Error is an engine refusal: the operation changed nothing. errors.Is
// matches any two Errors with the same Code, so a sentinel matches the same
// refusal carrying a Detail.
type Error struct {
	Code Code
	// Msg describes the refusal for logs and people (the console shows it).
	Msg string
	// Detail names what was refused, when that helps: a currency, an
	// order id, why a price did not parse.
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Msg
	}
	return e.Msg + ": " + e.Detail
}

// Is makes errors.Is(err, sentinel) true for the sentinel's Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// With returns the refusal e about detail (errors.Is(result, e) holds).
func (e *Error) With(detail string) *Error {
	c := *e
	c.Detail = detail
	return &c
}

// CodeOf returns the code of the engine error in err's chain, if any.
func CodeOf(err error) (Code, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, true
	}
	return "", false
}

// DetailOf returns the Detail of the engine error in err's chain ("" if none).
func DetailOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Detail
	}
	return ""
}

// The engine's refusals, one per Code.
var (
	// Use errors.Is; the concrete error is *OrderNotFoundError carrying the id.
	ErrOrderNotFound = &Error{CodeOrderNotFound, "order not found", ""}
	// An order change its status forbids. Also D2: claims of
	// Paid/Expired/Cancelled orders, and (D26) of unknown or claimed ones.
	ErrForbiddenChange = &Error{CodeForbiddenChange, "The requested order change is forbidden.", ""}
	// A change that would leave the order as it is.
	ErrNoOpChange = &Error{CodeNoOpChange, "The requested order change would result in a no-op.", ""}
	// A claim whose memo signature does not verify.
	ErrInvalidSignature = &Error{CodeInvalidSignature, "Cannot claim order because the signature is invalid.", ""}
	// A new order whose id is known (D20): nothing changes.
	ErrOrderAlreadyExists = &Error{CodeOrderAlreadyExists, "Order already exists.", ""}
	// A payment whose txid is known (D20): nothing changes.
	ErrPaymentAlreadyExists = &Error{CodePaymentAlreadyExists, "Payment already exists.", ""}
	// A confirmation of a confirmed payment.
	ErrPaymentAlreadyConfirmed = &Error{CodePaymentAlreadyConfirmed, "Payment already confirmed.", ""}
	// Unknown txid on confirm/cancel.
	ErrPaymentNotFound = &Error{CodePaymentNotFound, "Payment not found.", ""}
	// A confirmed or cancelled payment cannot change status.
	ErrPaymentStatusForbidden = &Error{CodePaymentStatusForbidden, "The requested payment status change is forbidden.", ""}
	// An amount that cannot be real money: zero, negative or above the total
	// supply (D27). Payments, credits, order totals and prices.
	ErrInvalidAmount = &Error{CodeInvalidAmount, "The amount must be more than zero and at most the total supply of 21 000 000 000 XTM.", ""}
	// A sum that would leave an account total out of bounds (D27): the
	// operation is refused and changes nothing.
	ErrAmountOverflow = &Error{CodeAmountOverflow, "The amount would take an account total out of bounds.", ""}
	// A storefront price in a currency without a rate; Detail is the currency.
	ErrUnsupportedCurrency = &Error{CodeUnsupportedCurrency, "Unsupported currency", ""}
	// No rate stored for a currency; Detail is the currency.
	ErrRateNotFound = &Error{CodeRateNotFound, "The requested exchange rate does not exist", ""}
	// An order without an order id.
	ErrInvalidOrder = &Error{CodeInvalidOrder, "Invalid order", ""}
	// A price string that is not a decimal number, or overflows; a rate
	// that is not an amount.
	ErrInvalidPrice = &Error{CodeInvalidPrice, "Invalid price", ""}
	// A login nonce that is not strictly increasing.
	ErrInvalidNonce = &Error{CodeInvalidNonce, "Nonce is not strictly increasing.", ""}
	// A login asking for roles the address does not hold. The concrete error
	// is *RolesNotAllowedError.
	ErrRolesNotAllowed = &Error{CodeRolesNotAllowed, "roles not allowed", ""}
	// Wallet registry.
	ErrWalletExists   = &Error{CodeWalletExists, "Wallet already registered", ""}
	ErrWalletNotFound = &Error{CodeWalletNotFound, "Wallet not found", ""}
	// A hot-wallet request that failed the nonce, registration or IP checks.
	ErrUnauthorizedWallet = &Error{CodeUnauthorizedWallet, "A request was made from an unauthorized wallet.", ""}
	// Currency change of an order (reference "Multiple currencies").
	ErrUnsupportedAction = &Error{CodeUnsupportedAction, "Multiple currencies are not supported yet", ""}
)

// sentinels lists every refusal; Codes is read from it.
var sentinels = []*Error{
	ErrOrderNotFound, ErrForbiddenChange, ErrNoOpChange, ErrInvalidSignature, ErrOrderAlreadyExists,
	ErrPaymentAlreadyExists, ErrPaymentAlreadyConfirmed, ErrPaymentNotFound, ErrPaymentStatusForbidden,
	ErrInvalidAmount, ErrAmountOverflow, ErrUnsupportedCurrency, ErrRateNotFound, ErrInvalidOrder,
	ErrInvalidPrice, ErrInvalidNonce, ErrRolesNotAllowed, ErrWalletExists, ErrWalletNotFound,
	ErrUnauthorizedWallet, ErrUnsupportedAction,
}

// Codes lists every engine error code.
func Codes() []Code {
	out := make([]Code, len(sentinels))
	for i, e := range sentinels {
		out[i] = e.Code
	}
	return out
}

// OrderNotFoundError is ErrOrderNotFound for a given id.
type OrderNotFoundError struct{ OrderID string }

func (e *OrderNotFoundError) Error() string {
	return "The requested order " + e.OrderID + " does not exist"
}

// Unwrap makes errors.Is(err, ErrOrderNotFound) and CodeOf work.
func (e *OrderNotFoundError) Unwrap() error { return ErrOrderNotFound }

// OrderNotFound returns the not-found error for id.
func OrderNotFound(id string) error { return &OrderNotFoundError{OrderID: id} }

// RolesNotAllowedError says how many requested roles the address lacks.
type RolesNotAllowedError struct{ Count int }

func (e *RolesNotAllowedError) Error() string {
	return fmt.Sprintf("User requested at least %d roles that are not allowed", e.Count)
}

// Unwrap makes errors.Is(err, ErrRolesNotAllowed) and CodeOf work.
func (e *RolesNotAllowedError) Unwrap() error { return ErrRolesNotAllowed }
