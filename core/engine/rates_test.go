package engine_test

import (
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
)

func TestFiatToMicroTari(t *testing.T) {
	cases := []struct {
		price string
		rate  core.MicroTari
		want  core.MicroTari
		bad   bool
	}{
		{"240.00", 10_000_000, 2_400_000_000, false},
		{"15.9", 1_000_000, 15_900_000, false}, // D8: 15.90, not 15.09
		{"1.5", 100, 150, false},
		{"1.234", 100, 123, false}, // truncated toward zero
		{"2400.00", 1_000_000, 2_400_000_000, false},
		{"0", 5, 0, false},
		{"-0.05", 100, -5, false},
		{".5", 2, 1, false},
		{"abc", 1, 0, true},
		{"1.2.3", 1, 0, true},
		{"", 1, 0, true},
		{"1e5", 1, 0, true},
		{"99999999999999999999", 1_000_000, 0, true}, // overflow
	}
	for _, c := range cases {
		got, err := core.FiatToMicroTari(c.price, c.rate)
		if c.bad != (err != nil) || got != c.want {
			t.Errorf("FiatToMicroTari(%q, %d) = %d, %v; want %d (error %v)", c.price, c.rate, got, err, c.want, c.bad)
		}
	}
	if c, err := core.ParsePriceCents("15.9"); c != 1590 || err != nil {
		t.Errorf("cents = %d %v", c, err)
	}
}

func TestMicroTariString(t *testing.T) {
	for v, want := range map[core.MicroTari]string{100: "100μτ", 9999: "9999μτ", 10_000: "0.010τ", 200_000_000: "200.000τ", 2_500_000: "2.500τ", -5_000_000: "-5000000μτ", 1_234_567: "1.235τ"} {
		if got := v.String(); got != want {
			t.Errorf("%d: %q, want %q", int64(v), got, want)
		}
	}
}

func TestExchangeRates(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		_, err := x.e.ExchangeRate(x.ctx, "USD")
		wantErr(t, err, core.ErrRateNotFound)
		if err.Error() != "The requested exchange rate does not exist: USD" {
			t.Fatalf("message %q", err)
		}
		_, err = x.e.PriceInMicroTari(x.ctx, "usd", "1.00")
		wantErr(t, err, core.ErrUnsupportedCurrency)
		if core.DetailOf(err) != "USD" {
			t.Fatalf("message %q", err)
		}
		// D9: case-insensitive, stored upper-case; the latest wins.
		if r, err := x.e.SetExchangeRate(x.ctx, "usd", 30_000_000); err != nil || r.Currency != "USD" {
			t.Fatalf("%+v %v", r, err)
		}
		x.advance(time.Second)
		x.e.SetExchangeRate(x.ctx, "USD", 10_000_000)
		r, err := x.e.ExchangeRate(x.ctx, "Usd")
		if err != nil || r.Rate != 10_000_000 || r.Currency != "USD" || !r.UpdatedAt.Equal(t0.Add(time.Second)) {
			t.Fatalf("%+v %v", r, err)
		}
		if v, err := x.e.PriceInMicroTari(x.ctx, "usd", "240.00"); err != nil || v != 2_400_000_000 {
			t.Fatalf("%d %v", v, err)
		}
		if v, err := x.e.PriceInMicroTari(x.ctx, "xtr", "2400.00"); err != nil || v != 2_400_000_000 {
			t.Fatalf("XTR parity: %d %v", v, err)
		}
		_, err = x.e.PriceInMicroTari(x.ctx, "XTR", "x")
		wantErr(t, err, core.ErrInvalidPrice)
		_, err = x.e.SetExchangeRate(x.ctx, "EUR", -1)
		wantErr(t, err, core.ErrInvalidPrice)
	})
}

func TestAllExchangeRates(t *testing.T) {
	forEachDB(t, func(t *testing.T, x *env) {
		if rs, err := x.e.AllExchangeRates(x.ctx); err != nil || len(rs) != 0 {
			t.Fatalf("no rates: %+v %v", rs, err)
		}
		x.e.SetExchangeRate(x.ctx, "usd", 30_000_000)
		x.advance(time.Second)
		x.e.SetExchangeRate(x.ctx, "EUR", 40_000_000)
		x.advance(time.Second)
		x.e.SetExchangeRate(x.ctx, "USD", 10_000_000)
		rs, err := x.e.AllExchangeRates(x.ctx)
		if err != nil || len(rs) != 2 {
			t.Fatalf("%+v %v", rs, err)
		}
		// One row per currency, its latest rate, sorted by currency.
		if rs[0].Currency != "EUR" || rs[0].Rate != 40_000_000 || !rs[0].UpdatedAt.Equal(t0.Add(time.Second)) ||
			rs[1].Currency != "USD" || rs[1].Rate != 10_000_000 || !rs[1].UpdatedAt.Equal(t0.Add(2*time.Second)) {
			t.Fatalf("%+v", rs)
		}
	})
}
