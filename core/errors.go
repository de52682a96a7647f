package core

import (
	"errors"
	"fmt"
)

// Engine errors. The API maps them to status codes and messages
// (http-api.md §0.2); the Error() texts are the reference's inner messages so
// the API can embed them as-is ("Cannot complete this request. " + err.Error()).
var (
	// 404 "The data was not found. " + text. Use errors.Is; the concrete
	// error is *OrderNotFoundError carrying the id.
	ErrOrderNotFound = errors.New("order not found")
	// 400 "Cannot complete this request. The requested order change is forbidden."
	// Also D2: claims of Paid/Expired/Cancelled orders, negative prices.
	ErrForbiddenChange = errors.New("The requested order change is forbidden.")
	// 400 "Cannot complete this request. The requested order change would result in a no-op."
	ErrNoOpChange = errors.New("The requested order change would result in a no-op.")
	// 400 (claim of a bad signature maps to 401 per http-api.md §3.1).
	ErrInvalidSignature = errors.New("Cannot claim order because the signature is invalid.")
	// checkout_create answers success "Order already exists." (D20).
	ErrOrderAlreadyExists = errors.New("Order already exists.")
	// incoming_payment answers success "Payment already exists." (D20).
	ErrPaymentAlreadyExists = errors.New("Payment already exists.")
	// tx_confirmation answers success "Payment already confirmed.".
	ErrPaymentAlreadyConfirmed = errors.New("Payment already confirmed.")
	// Unknown txid on confirm/cancel.
	ErrPaymentNotFound = errors.New("Payment not found.")
	// A confirmed or cancelled payment cannot change status.
	ErrPaymentStatusForbidden = errors.New("The requested payment status change is forbidden.")
	// An amount that cannot be real money: zero, negative or above the total
	// supply (D27). Payments, credits, order totals and prices.
	ErrInvalidAmount = errors.New("The amount must be more than zero and at most the total supply of 21 000 000 000 XTM.")
	// A sum that would leave an account total out of bounds (D27): the
	// operation is refused and changes nothing.
	ErrAmountOverflow = errors.New("The amount would take an account total out of bounds.")
	// Shopify conversion: no rate for the currency. Wrapped with the detail
	// "The requested exchange rate does not exist: USD".
	ErrUnsupportedCurrency = errors.New("Unsupported currency")
	// GET /api/exchange_rate/{cur} with nothing stored.
	ErrRateNotFound = errors.New("The requested exchange rate does not exist")
	// An order without an order id.
	ErrInvalidOrder = errors.New("Invalid order")
	// A price string that is not a decimal number, or overflows.
	ErrInvalidPrice = errors.New("Invalid price")
	// Login nonce not strictly increasing: 401 "Authentication Error. Login
	// token signature is invalid. Nonce is not strictly increasing."
	ErrInvalidNonce = errors.New("Nonce is not strictly increasing.")
	// Login asked for roles the address does not have: 403. Concrete error is
	// *RolesNotAllowedError.
	ErrRolesNotAllowed = errors.New("roles not allowed")
	// Wallet registry.
	ErrWalletExists   = errors.New("Wallet already registered")
	ErrWalletNotFound = errors.New("Wallet not found")
	// A hot-wallet request failed nonce/whitelist/IP checks: 401 empty body.
	ErrUnauthorizedWallet = errors.New("A request was made from an unauthorized wallet.")
	// Currency change of an order (reference "Multiple currencies").
	ErrUnsupportedAction = errors.New("Multiple currencies are not supported yet")
)

// OrderNotFoundError is ErrOrderNotFound for a given id.
type OrderNotFoundError struct{ OrderID string }

func (e *OrderNotFoundError) Error() string {
	return "The requested order " + e.OrderID + " does not exist"
}

// Is makes errors.Is(err, ErrOrderNotFound) true.
func (e *OrderNotFoundError) Is(target error) bool { return target == ErrOrderNotFound }

// OrderNotFound returns the not-found error for id.
func OrderNotFound(id string) error { return &OrderNotFoundError{OrderID: id} }

// RolesNotAllowedError says how many requested roles the address lacks.
type RolesNotAllowedError struct{ Count int }

func (e *RolesNotAllowedError) Error() string {
	return fmt.Sprintf("User requested at least %d roles that are not allowed", e.Count)
}

// Is makes errors.Is(err, ErrRolesNotAllowed) true.
func (e *RolesNotAllowedError) Is(target error) bool { return target == ErrRolesNotAllowed }
