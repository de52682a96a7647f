package shopify

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ParseDecimal parses a Shopify price string ("15.9", "190.00", "-3.5") as an
// exact decimal: it returns the digits as an integer and the number of
// fractional digits (D8: "15.9" is 15.90, never 15.09).
func ParseDecimal(s string) (*big.Int, int, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, 0, errors.New("empty price")
	}
	neg := false
	switch t[0] {
	case '-':
		neg, t = true, t[1:]
	case '+':
		t = t[1:]
	}
	intPart, frac, _ := strings.Cut(t, ".")
	if intPart == "" && frac == "" {
		return nil, 0, fmt.Errorf("invalid price %q", s)
	}
	for _, part := range []string{intPart, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return nil, 0, fmt.Errorf("invalid price %q", s)
			}
		}
	}
	if len(intPart)+len(frac) > 60 {
		return nil, 0, fmt.Errorf("price %q is too long", s)
	}
	n, ok := new(big.Int).SetString("0"+intPart+frac, 10)
	if !ok {
		return nil, 0, fmt.Errorf("invalid price %q", s)
	}
	if neg {
		n.Neg(n)
	}
	return n, len(frac), nil
}

// PriceToMicroTari converts a decimal price in some currency to µT with rate µT
// per whole unit: rate × price, rounded towards zero. No floats anywhere.
func PriceToMicroTari(price string, rate int64) (int64, error) {
	n, scale, err := ParseDecimal(price)
	if err != nil {
		return 0, err
	}
	v := new(big.Int).Mul(n, big.NewInt(rate))
	v.Quo(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	if !v.IsInt64() {
		return 0, fmt.Errorf("price %q is out of range", price)
	}
	return v.Int64(), nil
}
