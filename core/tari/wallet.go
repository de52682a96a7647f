package tari

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// writeJSONString writes s as serde_json does: only '"', '\\' and C0
// controls are escaped (\b \t \n \f \r short forms, others \u00xx in
// lowercase hex). '/', '<', '>', '&', DEL, U+2028/9 and non-ASCII are
// written as they are, unlike encoding/json. Invalid UTF-8 becomes U+FFFD,
// which is what encoding/json would have decoded it to.
func writeJSONString(b *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString("\uFFFD")
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xF])
			} else {
				b.WriteByte(c)
			}
		}
		i++
	}
	b.WriteByte('"')
}

// SerdeJSONString returns s as a serde_json string literal (quotes included).
func SerdeJSONString(s string) string {
	var b bytes.Buffer
	writeJSONString(&b, s)
	return b.String()
}

func writeOptString(b *bytes.Buffer, s *string) {
	if s == nil {
		b.WriteString("null")
		return
	}
	writeJSONString(b, *s)
}

// PaymentPayloadJSON is the payment object exactly as the reference server
// re-serialises it before checking a wallet signature:
// {"sender":"<base58>","amount":<int>,"txid":"…","memo":<"…"|null>,"order_id":<"…"|null>}.
func PaymentPayloadJSON(sender Address, amount int64, txid string, memo, orderID *string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"sender":`)
	writeJSONString(&b, sender.Base58())
	b.WriteString(`,"amount":`)
	b.WriteString(strconv.FormatInt(amount, 10))
	b.WriteString(`,"txid":`)
	writeJSONString(&b, txid)
	b.WriteString(`,"memo":`)
	writeOptString(&b, memo)
	b.WriteString(`,"order_id":`)
	writeOptString(&b, orderID)
	b.WriteByte('}')
	return b.Bytes()
}

// ConfirmationPayloadJSON is {"txid":"…"} as the reference re-serialises it.
func ConfirmationPayloadJSON(txid string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"txid":`)
	writeJSONString(&b, txid)
	b.WriteByte('}')
	return b.Bytes()
}

// WalletMessage is emoji(a) + ":" + nonce + ":" + payload.
func WalletMessage(a Address, nonce int64, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString(a.Emoji())
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(nonce, 10))
	b.WriteByte(':')
	b.Write(payload)
	return b.Bytes()
}

// SignWallet signs a hot-wallet notification; a is the hot wallet's address
// and k its spend secret.
func SignWallet(k SecretKey, a Address, nonce int64, payload []byte) Signature {
	return Sign(WalletDomain, k, WalletMessage(a, nonce, payload))
}

// VerifyWallet checks a hot-wallet notification signature. The caller
// checks the nonce ordering and the whitelist.
func VerifyWallet(a Address, nonce int64, payload []byte, s Signature) bool {
	return Verify(WalletDomain, a.SpendKey, WalletMessage(a, nonce, payload), s)
}
