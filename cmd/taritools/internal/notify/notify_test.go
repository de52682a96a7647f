package notify

import (
	"encoding/hex"
	"testing"
)

func TestParseAmount(t *testing.T) {
	good := map[string]int64{
		"2500000":      2_500_000,
		"2.500000 T":   2_500_000,
		"2.5 T":        2_500_000,
		"2.5T":         2_500_000,
		"0.000001 T":   1,
		"10 XTR":       10_000_000,
		"1,000.5 T":    1_000_500_000,
		"100 uT":       100,
		"100 µT":       100, // micro sign U+00B5
		"100 μT":       100, // Greek mu U+03BC
		"100μτ":        100,
		"1.500τ":       1_500_000,
		"-5000000":     -5_000_000,
		"-1.25 T":      -1_250_000,
		" 7 ":          7,
		".5 T":         500_000,
		"3. T":         3_000_000,
		"9223372036 T": 9_223_372_036_000_000,
	}
	for in, want := range good {
		got, err := ParseAmount(in)
		if err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "T", "abc", "1.5", "1.5 uT", "1.0000001 T", "1 BTC", "9223372036855 T", "99999999999999999999", "1e6", "--1"} {
		if got, err := ParseAmount(in); err == nil {
			t.Errorf("ParseAmount(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormatMicroTari(t *testing.T) {
	for in, want := range map[int64]string{0: "0.000000 XTR", 1: "0.000001 XTR", 2_500_000: "2.500000 XTR", -1_250_000: "-1.250000 XTR"} {
		if got := FormatMicroTari(in); got != want {
			t.Errorf("FormatMicroTari(%d) = %q, want %q", in, got, want)
		}
	}
}

func hx(s string) string { return hex.EncodeToString([]byte(s)) }

func TestDecodePaymentID(t *testing.T) {
	cases := map[string]string{
		"":                                  "",
		"None":                              "",
		"data(" + hx("12345") + ")":         "12345",
		"DATA( " + hx(" order #77 ") + " )": "order #77",
		"address_and_data(14abc," + hx("oid-9") + ")": "oid-9",
		"plain-id": "plain-id",
		"data()":   "",
		// The console wallet's Display since 2025 (user data as text).
		"type(PaymentToOther), data(1001)": "1001",
		"sender_address(12JVm6ARPDg2GvBEpaKxADBW4SkacGRWZYhowEzoUvHrz9kFWCVv4QSYUE6JWiLFYcjEeZv43YJw8W7E8ynrMUWsDm5), sender_one_sided(true), fee(25), type(PaymentToOther), data(#1001)": "#1001",
		"recipient_address(14JVm6AR), sender_one_sided(false), amount(2500000), fee(25), type(PaymentToOther), data(order (1) x)":                                                         "order (1) x",
		"type(PaymentToOther), data()": "",
		"u256(42)":                     "42",
		"Raw(00ff)":                    "",
	}
	for in, want := range cases {
		got, err := DecodePaymentID(in)
		if err != nil || got != want {
			t.Errorf("DecodePaymentID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"data(zz)", "data(abc)", "data(ff)"} {
		if _, err := DecodePaymentID(in); err == nil {
			t.Errorf("DecodePaymentID(%q): want an error", in)
		}
	}
}

func TestOrderIDFromText(t *testing.T) {
	type c struct {
		byName bool
		want   string
		ok     bool
	}
	cases := map[string][]c{
		"12345":              {{false, "12345", true}, {true, "#12345", true}},
		"5674593747156":      {{false, "5674593747156", true}},
		"order_id: 12345":    {{false, "12345", true}, {true, "#12345", true}},
		"Order ID = abc-1":   {{false, "abc-1", true}},
		`"123"`:              {{false, "123", true}},
		"order #1001":        {{false, "1001", true}, {true, "#1001", true}},
		"order10256":         {{false, "order10256", true}, {true, "#10256", true}},
		"thanks for the tea": {{false, "", false}, {true, "", false}},
		"+1 555 123 4567":    {{false, "", false}, {true, "", false}},
		"(555) 123-4567":     {{false, "", false}},
		"555-123-4567":       {{false, "", false}},
		"":                   {{false, "", false}},
	}
	for in, cs := range cases {
		for _, k := range cs {
			got, ok := OrderIDFromText(in, k.byName)
			if got != k.want || ok != k.ok {
				t.Errorf("OrderIDFromText(%q, %v) = %q, %v; want %q, %v", in, k.byName, got, ok, k.want, k.ok)
			}
		}
	}
}
