package tari

import (
	"regexp"
	"strings"
)

// paymentIDDisplay matches the console wallet's Display of a transfer's
// payment id since 2025 (minotari PaymentId: Open, AddressAndData,
// TransactionInfo), e.g.
// "sender_address(12…), sender_one_sided(true), fee(25), type(PaymentToOther), data(1001)":
// labelled fields without parentheses inside, then the user data, last, as
// text (String::from_utf8_lossy), not hex.
var paymentIDDisplay = regexp.MustCompile(`(?s)^(?:(?:sender_address|recipient_address|sender_one_sided|amount|fee|type)\([^()]*\),\s*)+data\((.*)\)$`)

// paymentIDU256 is the Display of a numeric payment id.
var paymentIDU256 = regexp.MustCompile(`^u256\(([0-9]+)\)$`)

// PaymentIDUserData reads the user data out of the console wallet's display
// form of a payment id (what its notify script passes): for a transfer to an
// address with a payment id, that is the address's payment id, e.g. an order
// id. "None" and Raw(…) give "" (no user data); ok is false when s is not a
// display form at all (then s may be the payment id itself).
func PaymentIDUserData(s string) (text string, ok bool) {
	p := strings.TrimSpace(s)
	if p == "None" || strings.HasPrefix(p, "Raw(") && strings.HasSuffix(p, ")") {
		return "", true
	}
	if m := paymentIDDisplay.FindStringSubmatch(p); m != nil {
		return strings.TrimSpace(m[1]), true
	}
	if m := paymentIDU256.FindStringSubmatch(p); m != nil {
		return m[1], true
	}
	return "", false
}
