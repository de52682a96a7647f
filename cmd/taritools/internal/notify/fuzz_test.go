package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseAmount: any input either fails or gives an amount that formats
// and parses back to itself; nothing panics.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"2500000", "2.5 T", "100 µT", "-1.25T", "1,000.5 XTR", "9223372036854775807", ".", "T", "1e6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseAmount(s)
		if err != nil {
			return
		}
		back, err := ParseAmount(strings.TrimSuffix(FormatMicroTari(v), " XTR") + " T")
		if err != nil || back != v {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, v, FormatMicroTari(v), back, err)
		}
	})
}

// FuzzPaymentID: decoding never panics, and an extracted order id is one
// non-empty token of valid UTF-8.
func FuzzPaymentID(f *testing.F) {
	for _, s := range []string{"data(31303031)", "address_and_data(14x,6f72646572)", "order_id: 12", "+1 555 123 4567", "None", "data(zz)",
		"sender_address(12x), sender_one_sided(true), fee(25), type(PaymentToOther), data(1001)", "type(PaymentToOther), data(#7 x)"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, pid string, byName bool) {
		text, err := DecodePaymentID(pid)
		if err != nil {
			return
		}
		id, ok := OrderIDFromText(text, byName)
		if !ok {
			return
		}
		if id == "" || strings.ContainsAny(id, " \t\r\n") || (utf8.ValidString(text) && !utf8.ValidString(id)) {
			t.Fatalf("%q -> %q -> %q", pid, text, id)
		}
	})
}
