package api

import (
	"bytes"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
	"github.com/tari-payment/tps/test/browser"
)

// decodeQR reads the text of a QR code image (PNG) with an independent
// decoder (gozxing, a port of ZXing).
func decodeQR(t *testing.T, pngBytes []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the QR code does not decode: %v", err)
	}
	return res.GetText()
}

// noHorizontalScroll fails when the page is wider than the viewport.
func noHorizontalScroll(t *testing.T, b *browser.Browser, width int) {
	t.Helper()
	var w int
	b.Run(10*time.Second, chromedp.Evaluate(`document.documentElement.scrollWidth`, &w))
	if w > width {
		t.Fatalf("the page is %d px wide in a %d px viewport", w, width)
	}
}

// minContrastJS returns the lowest WCAG contrast ratio between the text
// colour and the effective background of the page's visible text elements.
const minContrastJS = `(() => {
  const rgb = s => (s.match(/[0-9.]+/g) || []).map(Number);
  const lum = c => { const v = c.slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const bg = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.length === 3 || c[3] > 0) { return c; } } return [255, 255, 255]; };
  let min = 21, worst = '';
  for (const el of document.querySelectorAll('h1, h2, p, dt, dd, span, button, figcaption')) {
    if (!el.offsetParent || !el.textContent.trim()) { continue; }
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg(el));
    const r = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (r < min) { min = r; worst = el.tagName + '#' + el.id + '.' + el.className; }
  }
  return [min, worst];
})()`

// readableContrast fails when any visible text is below 4.5:1 (WCAG AA).
func readableContrast(t *testing.T, b *browser.Browser) {
	t.Helper()
	var res []any
	b.Run(10*time.Second, chromedp.Evaluate(minContrastJS, &res))
	if len(res) != 2 || res[0].(float64) < 4.5 {
		t.Fatalf("text contrast below 4.5:1: %v", res)
	}
	t.Logf("lowest text contrast %.2f:1 (%v)", res[0], res[1])
}

// TestPayPageInBrowser is the "done when": an order placed through a
// signed Shopify webhook; its pay page, opened in headless Chromium before
// any payment, renders at 360 px and 1280 px without console errors; the PNG
// QR code decodes to a deep link holding the order's address; the hot
// wallet reports a payment carrying the order's payment id (no claim) and
// then its confirmation, and the open page shows payment seen, then paid
// within 2 s of the confirmation, without a reload. Then the same page
// without JavaScript.
func TestPayPageInBrowser(t *testing.T) {
	wallet := payWallet()
	eachDB(t, payEnv(wallet), func(t *testing.T, h *harness) {
		const orderID = "5906123450001"
		h.order(orderID, "7411837567188", "12.5", nil) // signed checkout_create webhook
		pageURL := h.ts.URL + payLink(orderID)

		// The QR code (PNG, as emails show it) decodes to the order's address.
		r := h.do(http.MethodGet, payLink(orderID)+"/qr.png", nil, "")
		if r.Status != 200 {
			t.Fatalf("qr.png: %d", r.Status)
		}
		text := decodeQR(t, r.Body)
		u, err := url.Parse(text)
		if err != nil || u.Scheme != "tari" || u.Host != "mainnet" || u.Path != "/transactions/send" || u.Query().Get("amount") != "12500000" {
			t.Fatalf("QR text %q: %v", text, err)
		}
		orderAddr, err := tari.ParseAddress(u.Query().Get("tariAddress"))
		if err != nil || orderAddr.PaymentID != orderID || !orderAddr.SameAccount(wallet) || !orderAddr.WithoutPaymentID().Equal(wallet) {
			t.Fatalf("QR address %q: %+v %v", u.Query().Get("tariAddress"), orderAddr, err)
		}

		b := browser.Open(t, 360, 740)
		var status, b58, emoji string
		b.Run(30*time.Second,
			chromedp.Navigate(pageURL),
			chromedp.WaitVisible(`#status.status-waiting`),
			chromedp.WaitVisible(`button[data-copy="addr-base58"]`), // shown by the script
			chromedp.Text(`#status`, &status),
			chromedp.Text(`#addr-base58`, &b58),
			chromedp.Text(`#addr-emoji`, &emoji),
			// A marker that a reload would wipe out.
			chromedp.Evaluate(`window.tpsNoReload = 42`, nil),
		)
		if status != "Waiting for your payment" || strings.TrimSpace(b58) != orderAddr.Base58() || strings.TrimSpace(emoji) != orderAddr.Emoji() {
			t.Fatalf("page shows %q / %q / %q", status, b58, emoji)
		}
		noHorizontalScroll(t, b, 360)
		readableContrast(t, b)
		b.Screenshot("360-waiting")
		b.Run(10*time.Second, chromedp.EmulateViewport(1280, 800))
		noHorizontalScroll(t, b, 1280)
		b.Screenshot("1280-waiting")
		b.Run(10*time.Second, chromedp.EmulateViewport(360, 740))
		b.RequireNoProblems()

		// The customer's wallet pays the address from the QR code; the hot
		// wallet reports the payment id in the console wallet's display form,
		// whose user data is that address's payment id. Nobody claimed the
		// order.
		customer := newDualAddress()
		pid := "sender_address(" + customer.Base58() + "), sender_one_sided(true), fee(25), type(PaymentToOther), data(" + orderAddr.PaymentID + ")"
		if r := h.payIn(customer, 12_500_000, "tx-browser", nil, &pid); r.Status != 200 || !strings.Contains(string(r.Body), `"success":true`) {
			t.Fatalf("incoming payment: %d %s", r.Status, r.Body)
		}
		b.Run(10*time.Second, chromedp.WaitVisible(`#status.status-payment_seen`))

		if r := h.confirm("tx-browser"); r.Status != 200 || !strings.Contains(string(r.Body), `"success":true`) {
			t.Fatalf("confirmation: %d %s", r.Status, r.Body)
		}
		confirmed := time.Now()
		b.Run(2*time.Second, chromedp.WaitVisible(`#status.status-paid`))
		took := time.Since(confirmed)
		t.Logf("paid shown %v after the confirmation", took.Round(time.Millisecond))
		var marker int
		var paymentHidden bool
		b.Run(10*time.Second,
			chromedp.Text(`#status`, &status),
			chromedp.Evaluate(`window.tpsNoReload`, &marker),
			chromedp.Evaluate(`document.getElementById('payment').hidden && !document.getElementById('final').hidden`, &paymentHidden),
		)
		if status != "Paid. Thank you!" || marker != 42 || !paymentHidden {
			t.Fatalf("after confirmation: status %q, marker %d (a reload clears it), final shown %v", status, marker, paymentHidden)
		}
		if o := h.getOrder(orderID); o.Status != core.OrderPaid {
			t.Fatalf("order %s", o.Status)
		}
		readableContrast(t, b)
		b.Screenshot("360-paid")
		b.Run(10*time.Second, chromedp.EmulateViewport(1280, 800))
		b.Screenshot("1280-paid")
		b.RequireNoProblems()

		// Without JavaScript the server-rendered page shows the state.
		h.order("5906123450002", "7411837567188", "1", nil)
		b.Run(30*time.Second,
			emulation.SetScriptExecutionDisabled(true),
			chromedp.Navigate(h.ts.URL+payLink("5906123450002")),
			chromedp.WaitVisible(`#status.status-waiting`),
			chromedp.Text(`#status`, &status),
		)
		var copyHidden bool
		b.Run(10*time.Second, chromedp.Evaluate(`document.querySelector('button[data-copy]').hidden`, &copyHidden))
		if status != "Waiting for your payment" || !copyHidden {
			t.Fatalf("no-JS page: %q, copy button hidden %v", status, copyHidden)
		}
		b.Screenshot("1280-nojs")
		b.RequireNoProblems()
	})
}
