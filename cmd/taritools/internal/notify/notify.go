// Package notify holds the parsing behind `taritools wallet received`: the
// amount forms the console wallet's notify script passes (http-api.md §1.1)
// and the payment-id decoding that turns a wallet payment id into an order id
// (http-api.md §4.4). Amounts are exact decimals, never floats.
package notify

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tari-payment/tps/core/tari"
)

// ParseAmount reads an amount in micro-Tari. Accepted forms: a bare integer
// (µT); "<decimal> T" / "<decimal> XTR" / "<decimal> τ" (whole Tari, at most
// six decimals); "<int> uT" / "<int> µT" / "<int> μT" / "<int> μτ" (µT). The
// space before the unit is optional.
func ParseAmount(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("empty amount")
	}
	num, unit := splitUnit(t)
	switch strings.ToLower(unit) {
	case "":
		return parseInt(num, s)
	case "ut", "µt", "μt", "μτ", "µτ", "microtari", "microminotari":
		return parseInt(num, s)
	case "t", "xtr", "txtr", "τ", "tari", "minotari":
		return parseTari(num, s)
	}
	return 0, fmt.Errorf("amount %q: unknown unit %q (use µT, uT or T)", s, unit)
}

func splitUnit(t string) (num, unit string) {
	i := strings.LastIndexFunc(t, func(r rune) bool { return (r >= '0' && r <= '9') || r == '.' })
	if i < 0 {
		return "", t
	}
	_, w := utf8.DecodeRuneInString(t[i:])
	return strings.TrimSpace(t[:i+w]), strings.TrimSpace(t[i+w:])
}

var intRe = regexp.MustCompile(`^[+-]?[0-9]+$`)

func parseInt(num, orig string) (int64, error) {
	num = strings.ReplaceAll(num, ",", "")
	if !intRe.MatchString(num) {
		return 0, fmt.Errorf("amount %q: micro-Tari must be a whole number", orig)
	}
	v, ok := new(big.Int).SetString(strings.TrimPrefix(num, "+"), 10)
	if !ok || !v.IsInt64() {
		return 0, fmt.Errorf("amount %q is out of range", orig)
	}
	return v.Int64(), nil
}

var decRe = regexp.MustCompile(`^([+-]?)([0-9]*)(?:\.([0-9]*))?$`)

func parseTari(num, orig string) (int64, error) {
	num = strings.ReplaceAll(num, ",", "")
	m := decRe.FindStringSubmatch(num)
	if m == nil || (m[2] == "" && m[3] == "") {
		return 0, fmt.Errorf("amount %q: not a decimal number", orig)
	}
	frac := strings.TrimRight(m[3], "0")
	if len(frac) > 6 {
		return 0, fmt.Errorf("amount %q has more than six decimals (1 µT = 0.000001 T)", orig)
	}
	frac += strings.Repeat("0", 6-len(frac))
	v, ok := new(big.Int).SetString("0"+m[2]+frac, 10)
	if !ok || !v.IsInt64() {
		return 0, fmt.Errorf("amount %q is out of range", orig)
	}
	if m[1] == "-" {
		v.Neg(v)
	}
	return v.Int64(), nil
}

// FormatMicroTari writes µT as whole Tari with six decimals, e.g. "2.500000 XTR".
func FormatMicroTari(v int64) string {
	sign := ""
	u := new(big.Int).SetInt64(v)
	if u.Sign() < 0 {
		sign = "-"
		u.Neg(u)
	}
	q, r := new(big.Int).QuoRem(u, big.NewInt(1_000_000), new(big.Int))
	return fmt.Sprintf("%s%s.%06d XTR", sign, q.String(), r.Int64())
}

var (
	dataRe    = regexp.MustCompile(`^(?i)data\(\s*([^()]*?)\s*\)$`)
	addrDatRe = regexp.MustCompile(`^(?i)address_and_data\(\s*[^,()]*,\s*([^()]*?)\s*\)$`)
	// order_id: 12345, order id=12345, order #12345, id: 12345
	labelRe = regexp.MustCompile(`^(?i)(?:order[ _-]?(?:id|no|number)?|id)(?:\s*[:=#]\s*|\s+)(.+)$`)
	digitRe = regexp.MustCompile(`[0-9]+`)
	// Phone numbers: a leading '+' or digit groups split by spaces, dots,
	// dashes or parentheses (order ids are one unbroken token).
	phoneRe = regexp.MustCompile(`^\+?[0-9 ().-]{7,}$`)
)

// DecodePaymentID returns the text a wallet payment id carries: the user
// data of the current console wallet's Display form (tari.PaymentIDUserData), the
// number of u256(<n>), the UTF-8 of the older data(<hex>) or
// address_and_data(<address>,<hex>), or the id itself when it is not
// wrapped. Empty, "None" or Raw(…) gives "".
func DecodePaymentID(pid string) (string, error) {
	p := strings.TrimSpace(pid)
	switch strings.ToLower(p) {
	case "", "none", "empty", "null", "n/a", "-":
		return "", nil
	}
	if text, ok := tari.PaymentIDUserData(p); ok {
		return text, nil
	}
	var h string
	if m := dataRe.FindStringSubmatch(p); m != nil {
		h = m[1]
	} else if m := addrDatRe.FindStringSubmatch(p); m != nil {
		h = m[1]
	} else {
		return p, nil
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return "", fmt.Errorf("payment id %q: bad hex: %w", pid, err)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("payment id %q is not UTF-8 text", pid)
	}
	return strings.TrimSpace(string(b)), nil
}

// IsPhoneNumber reports strings that look like phone numbers, which are
// never taken as order ids (customers put them in payment ids by mistake).
func IsPhoneNumber(s string) bool {
	s = strings.TrimSpace(s)
	if !phoneRe.MatchString(s) {
		return false
	}
	digits := len(digitRe.FindAllString(s, -1))
	return strings.HasPrefix(s, "+") || digits > 1
}

// OrderIDFromText extracts an order id from decoded payment-id text. With
// byName (TPG_SHOPIFY_ORDER_ID_FIELD=name) the first number becomes "#<n>".
// Otherwise `order_id: 12345`, `"123"` and a bare single-token id are
// accepted. ok is false when nothing usable is there.
func OrderIDFromText(text string, byName bool) (string, bool) {
	t := strings.TrimSpace(text)
	if t == "" || IsPhoneNumber(t) {
		return "", false
	}
	if byName {
		d := digitRe.FindString(t)
		if d == "" {
			return "", false
		}
		return "#" + d, true
	}
	if m := labelRe.FindStringSubmatch(t); m != nil {
		t = strings.TrimSpace(m[1])
	}
	t = strings.Trim(t, "\"'`")
	t = strings.TrimSpace(t)
	if t == "" || strings.ContainsAny(t, " \t\r\n") || IsPhoneNumber(t) {
		return "", false
	}
	return t, true
}
