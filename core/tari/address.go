package tari

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gtank/ristretto255"
	"golang.org/x/crypto/blake2b"
)

// Network is the network byte of an address.
type Network byte

const (
	Mainnet   Network = 0x00
	Stagenet  Network = 0x01
	Nextnet   Network = 0x02
	Localnet  Network = 0x10
	Igor      Network = 0x24
	Esmeralda Network = 0x26
)

// ErrUnknownNetwork is returned for a network name or byte TPS does not know.
var ErrUnknownNetwork = errors.New("unknown network")

// ParseNetwork reads a network name, case-insensitively ("esme" is accepted
// for esmeralda, as upstream does).
func ParseNetwork(s string) (Network, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "mainnet":
		return Mainnet, nil
	case "stagenet":
		return Stagenet, nil
	case "nextnet":
		return Nextnet, nil
	case "localnet":
		return Localnet, nil
	case "igor":
		return Igor, nil
	case "esmeralda", "esme":
		return Esmeralda, nil
	}
	return 0, fmt.Errorf("%w %q (want mainnet, stagenet, nextnet, localnet, igor or esmeralda)", ErrUnknownNetwork, s)
}

// Valid reports whether n is one of the known networks.
func (n Network) Valid() bool {
	switch n {
	case Mainnet, Stagenet, Nextnet, Localnet, Igor, Esmeralda:
		return true
	}
	return false
}

// String is the lowercase name used in JSON and Display ("mainnet", ...).
func (n Network) String() string {
	switch n {
	case Mainnet:
		return "mainnet"
	case Stagenet:
		return "stagenet"
	case Nextnet:
		return "nextnet"
	case Localnet:
		return "localnet"
	case Igor:
		return "igor"
	case Esmeralda:
		return "esmeralda"
	}
	return fmt.Sprintf("network(0x%02x)", byte(n))
}

// Address feature bits.
const (
	FeatureOneSided    byte = 0x01
	FeatureInteractive byte = 0x02
	// FeaturePaymentID marks a dual address that carries a payment id after
	// its keys (tari-formats.md §5.7).
	FeaturePaymentID byte = 0x04
	DefaultFeatures       = FeatureOneSided | FeatureInteractive
	knownFeatures         = FeatureOneSided | FeatureInteractive
)

const (
	singleLen = 35
	dualLen   = 67
	// MaxPaymentIDLen is the longest payment id an address can carry.
	MaxPaymentIDLen = 256
	maxLen          = dualLen + MaxPaymentIDLen
)

// Address is a Tari address (tari_common_types 1.3.1): single (ViewKey nil)
// or dual. Use Equal or AccountKey to compare, not ==.
type Address struct {
	Network  Network
	Features byte
	ViewKey  *PublicKey // nil for a single address
	SpendKey PublicKey
	// PaymentID holds the raw payment id bytes of a dual address that
	// carries one (Features has FeaturePaymentID); "" otherwise. It is a
	// string so that Address stays comparable; it need not be UTF-8.
	PaymentID string
}

// Address parse errors; ParseAddress wraps them with detail.
var (
	ErrAddressLength   = errors.New("address has the wrong length")
	ErrAddressChecksum = errors.New("address checksum is wrong")
	ErrAddressFeatures = errors.New("address has unknown feature bits")
	ErrAddressKey      = errors.New("address key is not a valid public key")
	ErrAddressFormat   = errors.New("not a Tari address (emoji, base58 or hex)")
	ErrPaymentID       = errors.New("invalid payment id")
)

// NewAddress returns the single address with default features (0x03).
func NewAddress(n Network, spend PublicKey) Address {
	return Address{Network: n, Features: DefaultFeatures, SpendKey: spend}
}

// NewDualAddress returns a dual address with default features.
func NewDualAddress(n Network, view, spend PublicKey) Address {
	v := view
	return Address{Network: n, Features: DefaultFeatures, ViewKey: &v, SpendKey: spend}
}

// IsDual reports whether a has a view key.
func (a Address) IsDual() bool { return a.ViewKey != nil }

// WithPaymentID returns the dual address a carrying pid as its payment id
// (tari-formats.md §5.7): the FeaturePaymentID bit is set, or cleared for an
// empty pid, which means "no payment id". Only dual addresses carry one, of
// at most MaxPaymentIDLen bytes.
func (a Address) WithPaymentID(pid []byte) (Address, error) {
	if !a.IsDual() {
		return Address{}, fmt.Errorf("%w: only a dual address carries a payment id", ErrPaymentID)
	}
	if len(pid) > MaxPaymentIDLen {
		return Address{}, fmt.Errorf("%w: %d bytes, at most %d", ErrPaymentID, len(pid), MaxPaymentIDLen)
	}
	out := a
	out.PaymentID = string(pid)
	if len(pid) == 0 {
		out.Features &^= FeaturePaymentID
	} else {
		out.Features |= FeaturePaymentID
	}
	return out, nil
}

// WithoutPaymentID is a without its payment id: the wallet's plain address.
func (a Address) WithoutPaymentID() Address {
	a.PaymentID = ""
	a.Features &^= FeaturePaymentID
	return a
}

// HasPaymentID reports whether a carries a payment id.
func (a Address) HasPaymentID() bool { return a.PaymentID != "" }

// Equal reports whether a and b are the same address (same bytes).
func (a Address) Equal(b Address) bool {
	if a.Network != b.Network || a.Features != b.Features || a.SpendKey != b.SpendKey || a.IsDual() != b.IsDual() || a.PaymentID != b.PaymentID {
		return false
	}
	return !a.IsDual() || *a.ViewKey == *b.ViewKey
}

// SameAccount reports whether a and b belong to the same wallet: same
// network and spend key, whatever the form (decision D25).
func (a Address) SameAccount(b Address) bool { return a.AccountKey() == b.AccountKey() }

// AccountKey identifies one wallet across address forms (decision D25):
// "<network>:<spend key hex>". Store and compare it; do not parse it.
func (a Address) AccountKey() string { return a.Network.String() + ":" + a.SpendKey.Hex() }

// IsZero reports whether a is the zero Address (not a parsed one).
func (a Address) IsZero() bool {
	return a.Network == 0 && a.Features == 0 && a.ViewKey == nil && a.SpendKey.IsIdentity()
}

// Bytes is the binary form: 35 bytes (single), 67 (dual) or 68..323 (dual
// with a payment id before the checksum), checksum last.
func (a Address) Bytes() []byte {
	b := make([]byte, 0, dualLen+len(a.PaymentID))
	b = append(b, byte(a.Network), a.Features)
	if a.ViewKey != nil {
		b = append(b, a.ViewKey.b[:]...)
	}
	b = append(b, a.SpendKey.b[:]...)
	b = append(b, a.PaymentID...)
	return append(b, DammSum(b))
}

// Hex is the lowercase hex of Bytes.
func (a Address) Hex() string { return hex.EncodeToString(a.Bytes()) }

// Base58 encodes the network byte, the features byte and the rest
// separately and concatenates them (the upstream format).
func (a Address) Base58() string {
	b := a.Bytes()
	return base58Encode(b[:1]) + base58Encode(b[1:2]) + base58Encode(b[2:])
}

// Emoji is the emoji id (one emoji per byte, current table); it is the
// Display form upstream and the address form inside wallet signatures.
func (a Address) Emoji() string {
	b := a.Bytes()
	var sb strings.Builder
	sb.Grow(len(b) * 4)
	for _, c := range b {
		sb.WriteRune(emojiTable[c])
	}
	return sb.String()
}

// String is Base58, the form used in API fields and database keys.
func (a Address) String() string { return a.Base58() }

// MarshalText makes an Address a base58 JSON string (SerializedTariAddress).
func (a Address) MarshalText() ([]byte, error) { return []byte(a.Base58()), nil }

// UnmarshalText accepts any form ParseAddress takes.
func (a *Address) UnmarshalText(b []byte) error {
	p, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// DammSum is the 8-bit checksum of tari_common_types: for each byte, xor it
// in, then multiply by x in GF(2^8) mod x^8+x^4+x^3+x+1.
func DammSum(data []byte) byte {
	var r byte
	for _, d := range data {
		r ^= d
		carry := r & 0x80
		r <<= 1
		if carry != 0 {
			r ^= 0x1B
		}
	}
	return r
}

// validAddressLen: single, dual, or dual with a 1..256-byte payment id.
func validAddressLen(n int) bool {
	return n == singleLen || (n >= dualLen && n <= maxLen)
}

// AddressFromBytes validates, in upstream order: length, checksum, network,
// features, keys. Bytes between the spend key and the checksum of a dual
// address are its payment id, which needs the FeaturePaymentID bit (and the
// bit needs a payment id).
func AddressFromBytes(b []byte) (Address, error) {
	if !validAddressLen(len(b)) {
		return Address{}, fmt.Errorf("%w: %d bytes, want 35, or 67 to 323", ErrAddressLength, len(b))
	}
	if DammSum(b) != 0 {
		return Address{}, ErrAddressChecksum
	}
	n := Network(b[0])
	if !n.Valid() {
		return Address{}, fmt.Errorf("%w: byte 0x%02x", ErrUnknownNetwork, b[0])
	}
	if b[1]&^(knownFeatures|FeaturePaymentID) != 0 {
		return Address{}, fmt.Errorf("%w: 0x%02x", ErrAddressFeatures, b[1])
	}
	if hasPID := len(b) > dualLen; hasPID != (b[1]&FeaturePaymentID != 0) {
		return Address{}, fmt.Errorf("%w: 0x%02x with %d payment id bytes", ErrAddressFeatures, b[1], len(b)-min(len(b), dualLen))
	}
	a := Address{Network: n, Features: b[1]}
	spend := b[2:34]
	if len(b) >= dualLen {
		v, err := PublicKeyFromBytes(b[2:34])
		if err != nil {
			return Address{}, fmt.Errorf("%w (view key)", ErrAddressKey)
		}
		a.ViewKey = &v
		spend = b[34:66]
	}
	s, err := PublicKeyFromBytes(spend)
	if err != nil {
		return Address{}, fmt.Errorf("%w (spend key)", ErrAddressKey)
	}
	a.SpendKey = s
	if len(b) > dualLen {
		a.PaymentID = string(b[dualLen-1 : len(b)-1])
	}
	return a, nil
}

// ParseAddress is the one address parser: emoji first (after trimming and
// removing every '|'), then base58, then hex; the first that succeeds wins.
// The error reported for a string that is none of them is the most telling
// one of the three.
func ParseAddress(s string) (Address, error) {
	if a, err := ParseEmojiAddress(s); err == nil {
		return a, nil
	} else if !errors.Is(err, ErrAddressFormat) {
		return Address{}, err
	}
	a, err58 := ParseBase58Address(s)
	if err58 == nil {
		return a, nil
	}
	a, errHex := ParseHexAddress(s)
	if errHex == nil {
		return a, nil
	}
	// Report a structural problem (checksum, network, ...) rather than "bad
	// format" when one of the decoders got as far as the bytes.
	for _, err := range []error{err58, errHex} {
		if !errors.Is(err, ErrAddressFormat) {
			return Address{}, err
		}
	}
	return Address{}, ErrAddressFormat
}

// ParseEmojiAddress reads an emoji id. Errors wrap ErrAddressFormat when the
// text is not an emoji id at all.
func ParseEmojiAddress(s string) (Address, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), "|", "")
	n := utf8.RuneCountInString(s)
	if !validAddressLen(n) {
		return Address{}, fmt.Errorf("%w: %d characters", ErrAddressFormat, n)
	}
	b := make([]byte, 0, n)
	for _, r := range s {
		v, ok := emojiIndex[r]
		if !ok {
			return Address{}, fmt.Errorf("%w: %q is not in the emoji table", ErrAddressFormat, r)
		}
		b = append(b, v)
	}
	return AddressFromBytes(b)
}

// minBase58Len is the shortest split base58 form of a valid address: a 35-byte
// single address whose bytes are all zero ("1" per byte). The reference
// refuses anything under 45 characters, but an address whose spend key starts
// with two zero bytes (about one in 65,536) encodes shorter than that, so
// the server would emit addresses it could not read back; this parser accepts
// a superset of the reference's inputs.
const minBase58Len = singleLen

// ParseBase58Address reads the split base58 form.
func ParseBase58Address(s string) (Address, error) {
	if len(s) < minBase58Len {
		return Address{}, fmt.Errorf("%w: too short for base58", ErrAddressFormat)
	}
	nb, ok1 := base58Decode(s[:1])
	fb, ok2 := base58Decode(s[1:2])
	rest, ok3 := base58Decode(s[2:])
	if !ok1 || !ok2 || !ok3 || len(nb) != 1 || len(fb) != 1 {
		return Address{}, fmt.Errorf("%w: invalid base58", ErrAddressFormat)
	}
	b := make([]byte, 0, 2+len(rest))
	b = append(append(append(b, nb...), fb...), rest...)
	return AddressFromBytes(b)
}

// ParseHexAddress reads hex (lenient: whitespace, 0x, either case).
func ParseHexAddress(s string) (Address, error) {
	b, err := decodeHex(s)
	if err != nil {
		return Address{}, fmt.Errorf("%w: invalid hex", ErrAddressFormat)
	}
	return AddressFromBytes(b)
}

var emojiIndex = func() map[rune]byte {
	m := make(map[rune]byte, 256)
	for i, r := range emojiTable {
		m[r] = byte(i)
	}
	return m
}()

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index = func() [256]int8 {
	var t [256]int8
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base58Alphabet); i++ {
		t[base58Alphabet[i]] = int8(i)
	}
	return t
}()

// base58Encode is Bitcoin base58: each leading zero byte becomes '1'.
func base58Encode(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	// Little-endian base-58 digits, schoolbook division (inputs are tiny).
	digits := make([]byte, 0, len(b)*138/100+1)
	for _, c := range b[zeros:] {
		carry := int(c)
		for i := range digits {
			carry += int(digits[i]) << 8
			digits[i] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits = append(digits, byte(carry%58))
			carry /= 58
		}
	}
	out := make([]byte, zeros+len(digits))
	for i := 0; i < zeros; i++ {
		out[i] = '1'
	}
	for i, d := range digits {
		out[len(out)-1-i] = base58Alphabet[d]
	}
	return string(out)
}

// base58Decode reverses base58Encode; ok is false on a character outside the
// alphabet. Inputs longer than an address cannot produce a valid one, so
// they are refused before doing quadratic work.
func base58Decode(s string) ([]byte, bool) {
	// The longest address (dual with a 256-byte payment id) is 443
	// characters; the bound keeps the quadratic decode cheap.
	if len(s) > 450 {
		return nil, false
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	bytesLE := make([]byte, 0, len(s))
	for i := zeros; i < len(s); i++ {
		v := base58Index[s[i]]
		if v < 0 {
			return nil, false
		}
		carry := int(v)
		for j := range bytesLE {
			carry += int(bytesLE[j]) * 58
			bytesLE[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			bytesLE = append(bytesLE, byte(carry))
			carry >>= 8
		}
	}
	out := make([]byte, zeros+len(bytesLE))
	for i, c := range bytesLE {
		out[len(out)-1-i] = c
	}
	return out, true
}

// DummyAddress is the server's placeholder address for a customer id
// (gumbo.rs; tari-formats.md §5.8): a mainnet single address with features
// 0x02 whose key nobody holds.
func DummyAddress(customerID string) Address {
	h := blake2b.Sum512([]byte(customerID))
	var k [32]byte
	copy(k[:], h[:32])
	copy(k[:8], []byte{0x00, 0x00, 0x00, 0xba, 0x5e, 0x4d, 0x00, 0x00})
	k[31] = 0
	var e ristretto255.Element
	for e.Decode(k[:]) != nil {
		n := binary.BigEndian.Uint64(k[24:32]) + 1
		binary.BigEndian.PutUint64(k[24:32], n)
	}
	return Address{Network: Mainnet, Features: FeatureInteractive, SpendKey: PublicKey{b: k}}
}

// LegacyAddressHex is the pre-September-2024 (tari_common_types 1.0.0-rc.5)
// 33-byte address in hex: key || (DammSum(key) xor network). TPS never emits
// it; it exists to read old records and logs.
func LegacyAddressHex(n Network, p PublicKey) string {
	b := append(p.b[:], DammSum(p.b[:])^byte(n))
	return hex.EncodeToString(b)
}

// ParseLegacyAddress reads a 33-byte legacy hex address; the network is
// inferred from the checksum byte.
func ParseLegacyAddress(s string) (Network, PublicKey, error) {
	b, err := decodeHex(s)
	if err != nil || len(b) != 33 {
		return 0, PublicKey{}, fmt.Errorf("%w: legacy addresses are 66 hex characters", ErrAddressFormat)
	}
	n := Network(DammSum(b[:32]) ^ b[32])
	if !n.Valid() {
		return 0, PublicKey{}, fmt.Errorf("%w: byte 0x%02x", ErrUnknownNetwork, byte(n))
	}
	p, err := PublicKeyFromBytes(b[:32])
	if err != nil {
		return 0, PublicKey{}, ErrAddressKey
	}
	return n, p, nil
}
