package console

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tari-payment/tps/core"
)

// money shows µT as Tari with six decimals ("1.500000 T"), exactly.
func money(m core.MicroTari) string {
	n := int64(m)
	sign := ""
	u := uint64(n)
	if n < 0 {
		sign, u = "-", uint64(-(n+1))+1
	}
	return sign + strconv.FormatUint(u/1_000_000, 10) + "." + leftPad(strconv.FormatUint(u%1_000_000, 10), 6) + " T"
}

func leftPad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat("0", n-len(s)) + s
}

var funcs = template.FuncMap{
	"money": money,
	// pathEsc keeps an id one path segment ("/" and "#" are valid in ids).
	"pathEsc": url.PathEscape,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	},
	"day":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"deref": deref,
	"short": func(s string) string {
		if len(s) <= 20 {
			return s
		}
		return s[:10] + "…" + s[len(s)-8:]
	},
	"has": func(list []core.OrderStatus, s core.OrderStatus) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"join":  strings.Join,
	"lower": strings.ToLower,
	"trunc": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n] + "…"
	},
}
