package tari

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// RawJSON is serde's externally tagged form of the address enum, used in JWT
// claims and ClaimedOrder.send_to:
// {"Single":{"network":"mainnet","features":3,"public_spend_key":"<hex>"}} or
// {"Dual":{"network":…,"features":…,"public_view_key":…,"public_spend_key":…}}.
func (a Address) RawJSON() []byte {
	var b bytes.Buffer
	if a.ViewKey != nil {
		b.WriteString(`{"Dual":{"network":"`)
	} else {
		b.WriteString(`{"Single":{"network":"`)
	}
	b.WriteString(a.Network.String())
	b.WriteString(`","features":`)
	// The serde form has no payment id: it describes the plain address.
	b.WriteString(strconv.Itoa(int(a.Features &^ FeaturePaymentID)))
	if a.ViewKey != nil {
		b.WriteString(`,"public_view_key":"`)
		b.WriteString(a.ViewKey.Hex())
		b.WriteByte('"')
	}
	b.WriteString(`,"public_spend_key":"`)
	b.WriteString(a.SpendKey.Hex())
	b.WriteString(`"}}`)
	return b.Bytes()
}

// ErrRawAddress is wrapped by ParseRawAddressJSON errors.
var ErrRawAddress = errors.New("invalid address object")

// ParseRawAddressJSON reads the serde enum form (see RawJSON). The network
// name is case-insensitive; keys are lenient hex and must be valid points;
// features may only use the one-sided and interactive bits. The obsolete
// {"network":…,"public_key":…} shape is rejected, as the reference does.
func ParseRawAddressJSON(data []byte) (Address, error) {
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(data, &outer); err != nil {
		return Address{}, fmt.Errorf("%w: %v", ErrRawAddress, err)
	}
	if len(outer) != 1 {
		return Address{}, fmt.Errorf("%w: want exactly one of \"Single\" or \"Dual\"", ErrRawAddress)
	}
	var variant string
	var inner map[string]json.RawMessage
	for k, v := range outer {
		variant = k
		if err := json.Unmarshal(v, &inner); err != nil || inner == nil {
			return Address{}, fmt.Errorf("%w: %s is not an object", ErrRawAddress, k)
		}
	}
	var need []string
	switch variant {
	case "Single":
		need = []string{"network", "features", "public_spend_key"}
	case "Dual":
		need = []string{"network", "features", "public_view_key", "public_spend_key"}
	default:
		return Address{}, fmt.Errorf("%w: unknown variant %q", ErrRawAddress, variant)
	}
	str := map[string]string{}
	var a Address
	for _, f := range need {
		raw, ok := inner[f]
		if !ok {
			return Address{}, fmt.Errorf("%w: missing field %q", ErrRawAddress, f)
		}
		if f == "features" {
			var feat uint8
			if err := json.Unmarshal(raw, &feat); err != nil {
				return Address{}, fmt.Errorf("%w: features: %v", ErrRawAddress, err)
			}
			if feat&^knownFeatures != 0 {
				return Address{}, fmt.Errorf("%w: %w: 0x%02x", ErrRawAddress, ErrAddressFeatures, feat)
			}
			a.Features = feat
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Address{}, fmt.Errorf("%w: %s must be a string", ErrRawAddress, f)
		}
		str[f] = s
	}
	n, err := ParseNetwork(str["network"])
	if err != nil {
		return Address{}, fmt.Errorf("%w: %w", ErrRawAddress, err)
	}
	a.Network = n
	if a.SpendKey, err = ParsePublicKey(str["public_spend_key"]); err != nil {
		return Address{}, fmt.Errorf("%w: public_spend_key: %w", ErrRawAddress, err)
	}
	if variant == "Dual" {
		v, err := ParsePublicKey(str["public_view_key"])
		if err != nil {
			return Address{}, fmt.Errorf("%w: public_view_key: %w", ErrRawAddress, err)
		}
		a.ViewKey = &v
	}
	return a, nil
}

// RawAddress is an Address that marshals to and from the serde enum object
// instead of a base58 string. Use it for ClaimedOrder.send_to and claims.
type RawAddress struct{ Address }

// MarshalJSON writes RawJSON.
func (r RawAddress) MarshalJSON() ([]byte, error) { return r.Address.RawJSON(), nil }

// UnmarshalJSON reads the serde enum object.
func (r *RawAddress) UnmarshalJSON(b []byte) error {
	a, err := ParseRawAddressJSON(b)
	if err != nil {
		return err
	}
	r.Address = a
	return nil
}
