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
