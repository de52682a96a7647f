package core

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// MicroTari is an amount in µT (1 Tari = 1 000 000 µT). It is a bare integer
// in JSON and may be negative (credit notes).
type MicroTari int64

// MaxSupply is Tari's total supply, 21 000 000 000 XTM, in µT. No real order
// total, payment, credit, price or rate exceeds it (D27).
const MaxSupply MicroTari = 21_000_000_000 * 1_000_000

// MaxAccountTotal bounds each running total of an account (confirmed, paid,
// pending, in either sign). It is far below 2^63 (so a balance, confirmed − paid, fits too), and adding one amount of at
// most MaxSupply to a total within it can never overflow an int64, on either
// database: the guard is checked in the same UPDATE that adds (D27).
const MaxAccountTotal MicroTari = 1 << 61

// ValidAmount reports whether m can be real money: more than zero and at most
// the total supply (D27).
func ValidAmount(m MicroTari) bool { return m > 0 && m <= MaxSupply }

// AddMicroTari adds with an overflow check: ok is false when the exact sum
// does not fit in an int64.
func AddMicroTari(a, b MicroTari) (sum MicroTari, ok bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// Tari returns n whole Tari in µT.
func Tari(n int64) MicroTari { return MicroTari(n * 1_000_000) }

// String is the reference's display form: "{n}μτ" below 10 000 µT, otherwise
// the Tari amount with three decimals and "τ" (rounded half away from zero).
func (m MicroTari) String() string {
	n := int64(m)
	if n < 10_000 {
		return strconv.FormatInt(n, 10) + "μτ"
	}
	milli := (n + 500) / 1000 // n ≥ 10 000 here, so no sign handling
	return fmt.Sprintf("%d.%03dτ", milli/1000, milli%1000)
}

// ParseDecimal parses a plain decimal string ("240", "15.9", "-0.05") into an
// exact rational num / 10^scale. No exponent, no thousands separators.
func ParseDecimal(s string) (num *big.Int, scale int, err error) {
	t := strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") {
		neg = t[0] == '-'
		t = t[1:]
	}
	intPart, frac, _ := strings.Cut(t, ".")
	if intPart == "" && frac == "" || !digits(intPart) || !digits(frac) {
		return nil, 0, fmt.Errorf("invalid decimal %q", s)
	}
	if len(intPart)+len(frac) > 60 {
		return nil, 0, fmt.Errorf("decimal %q too long", s)
	}
	num, ok := new(big.Int).SetString("0"+intPart+frac, 10)
	if !ok {
		return nil, 0, fmt.Errorf("invalid decimal %q", s)
	}
	if neg {
		num.Neg(num)
	}
	return num, len(frac), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FiatToMicroTari converts a storefront price string to µT at rate µT per whole
// unit, exactly (D8: "15.9" is 15.90), truncating toward zero as the reference's
// integer division does. It fails on malformed input and on overflow.
func FiatToMicroTari(price string, rate MicroTari) (MicroTari, error) {
	num, scale, err := ParseDecimal(price)
	if err != nil {
		return 0, err
	}
	num.Mul(num, big.NewInt(int64(rate)))
	num.Quo(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)) // Quo truncates toward zero
	if !num.IsInt64() || num.Int64() == math.MinInt64 {
		return 0, fmt.Errorf("price %q at rate %d overflows", price, int64(rate))
	}
	return MicroTari(num.Int64()), nil
}

// ParsePriceCents parses a price string into exact hundredths ("15.9" → 1590,
// "240.00" → 24000); more than two decimals are truncated toward zero.
func ParsePriceCents(price string) (int64, error) {
	v, err := FiatToMicroTari(price, 100)
	return int64(v), err
}
