package tari

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MemoSignature is an order claim: the customer's wallet proves it owns
// Address and claims OrderID. JSON field order is the reference's.
type MemoSignature struct {
	Address   string `json:"address"`
	OrderID   string `json:"order_id"`
	Signature string `json:"signature"`
}

// MemoMessage is the signed text: base58(address) + ":" + order id. The
// verifier always re-encodes to base58, whatever form was sent.
func MemoMessage(a Address, orderID string) []byte {
	return []byte(a.Base58() + ":" + orderID)
}

// SignMemo signs a claim of orderID for a with k (the spend secret of a).
func SignMemo(k SecretKey, a Address, orderID string) MemoSignature {
	sig := Sign(MemoDomain, k, MemoMessage(a, orderID))
	return MemoSignature{Address: a.Base58(), OrderID: orderID, Signature: sig.Hex()}
}

// ErrMemoFormat is wrapped by every ParseMemoSignature error.
var ErrMemoFormat = errors.New("not a memo signature")

// ParseMemoSignature reads a memo signature object the way the reference's
// serde derive does: the whole text (surrounding whitespace allowed) is one
// JSON object; address, order_id and signature are required strings, each at
// most once; other fields are ignored. It also checks that the address
// parses and the signature is 128 hex characters forming a valid (R, s). It
// does not verify the signature: call Verify.
func ParseMemoSignature(jsonText string) (MemoSignature, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(jsonText)))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return MemoSignature{}, fmt.Errorf("%w: not a JSON object", ErrMemoFormat)
	}
	var m MemoSignature
	seen := map[string]bool{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return MemoSignature{}, fmt.Errorf("%w: %v", ErrMemoFormat, err)
		}
		key, _ := kt.(string)
		var dst *string
		switch key {
		case "address":
			dst = &m.Address
		case "order_id":
			dst = &m.OrderID
		case "signature":
			dst = &m.Signature
		}
		if dst == nil {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return MemoSignature{}, fmt.Errorf("%w: %v", ErrMemoFormat, err)
			}
			continue
		}
		if seen[key] {
			return MemoSignature{}, fmt.Errorf("%w: duplicate field %q", ErrMemoFormat, key)
		}
		seen[key] = true
		vt, err := dec.Token()
		if err != nil {
			return MemoSignature{}, fmt.Errorf("%w: %v", ErrMemoFormat, err)
		}
		v, ok := vt.(string)
		if !ok {
			return MemoSignature{}, fmt.Errorf("%w: field %q must be a string", ErrMemoFormat, key)
		}
		*dst = v
	}
	if _, err := dec.Token(); err != nil { // closing brace
		return MemoSignature{}, fmt.Errorf("%w: %v", ErrMemoFormat, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return MemoSignature{}, fmt.Errorf("%w: trailing characters after the object", ErrMemoFormat)
	}
	for _, f := range []string{"address", "order_id", "signature"} {
		if !seen[f] {
			return MemoSignature{}, fmt.Errorf("%w: missing field %q", ErrMemoFormat, f)
		}
	}
	if _, err := ParseAddress(m.Address); err != nil {
		return MemoSignature{}, fmt.Errorf("%w: address: %v", ErrMemoFormat, err)
	}
	if _, err := ParseSignature(m.Signature); err != nil {
		return MemoSignature{}, fmt.Errorf("%w: signature: %v", ErrMemoFormat, err)
	}
	return m, nil
}

// JSON is the object in the reference's field order, compact.
func (m MemoSignature) JSON() string {
	var b bytes.Buffer
	b.WriteString(`{"address":`)
	writeJSONString(&b, m.Address)
	b.WriteString(`,"order_id":`)
	writeJSONString(&b, m.OrderID)
	b.WriteString(`,"signature":`)
	writeJSONString(&b, m.Signature)
	b.WriteByte('}')
	return b.String()
}

// ParsedAddress is the parsed Address field (the zero Address if it does
// not parse; ParseMemoSignature guarantees it does).
func (m MemoSignature) ParsedAddress() Address {
	a, _ := ParseAddress(m.Address)
	return a
}

// Verify checks the signature against the address's spend key over
// base58(address) + ":" + order id.
func (m MemoSignature) Verify() bool {
	a, err := ParseAddress(m.Address)
	if err != nil {
		return false
	}
	sig, err := ParseSignature(m.Signature)
	if err != nil {
		return false
	}
	return Verify(MemoDomain, a.SpendKey, MemoMessage(a, m.OrderID), sig)
}
