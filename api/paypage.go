package api

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/tari"
)

// The pay pages (TPG_PAY_LINK_SECRET): GET /pay/{order_id}/{token} and its
// /status, /qr.png and /qr.svg, plus the embedded /pay/assets/*. Each order
// has its own address: the shop's dual wallet address carrying the order_id
// as payment id (tari-formats.md §5.7), so a wallet that pays it tells the hot
// wallet which order the transfer is for, and no claim is needed.

//go:embed paypage
var payFiles embed.FS

var payPageTemplate = template.Must(template.ParseFS(payFiles, "paypage/page.html"))

// payAsset is one embedded script or stylesheet, served with a content hash
// in its URL so that it can be cached for long.
type payAsset struct {
	body        []byte
	contentType string
	version     string
}

var payAssets = func() map[string]payAsset {
	m := map[string]payAsset{}
	for name, ct := range map[string]string{"pay.js": "text/javascript; charset=utf-8", "pay.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"} {
		b, err := payFiles.ReadFile("paypage/" + name)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		m[name] = payAsset{body: b, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	return m
}()

func assetURL(name string) string { return "/pay/assets/" + name + "?v=" + payAssets[name].version }

// payPages serves the pay pages of one server.
type payPages struct {
	s      *Server
	secret string
	// wallet is TPG_PAYMENT_WALLET_ADDRESS without any payment id. When it
	// is not a dual address it cannot carry one, and the pages fall back
	// to showing the plain address and asking for a claim.
	wallet tari.Address
}

// payRoutes registers the pay pages when TPG_PAY_LINK_SECRET is set.
func (s *Server) payRoutes(g *gin.Engine) {
	if s.cfg.PayLinkSecret == "" {
		return
	}
	wallet, err := tari.ParseAddress(s.cfg.PaymentWalletAddress)
	if err != nil {
		s.log.Error("pay pages are off: TPG_PAYMENT_WALLET_ADDRESS is not a Tari address", "err", err)
		return
	}
	p := &payPages{s: s, secret: s.cfg.PayLinkSecret, wallet: wallet.WithoutPaymentID()}
	if !wallet.IsDual() {
		s.log.Warn("TPG_PAYMENT_WALLET_ADDRESS is a single address, which cannot carry a payment id: pay pages fall back to claims " +
			"(customers must sign a claim before paying). Set it to the wallet's dual address (12… / 14… with a view key) to give every order its own address.")
	}
	g.GET("/pay/assets/:file", p.asset)
	g.GET("/pay/:order_id/:token", p.page)
	g.GET("/pay/:order_id/:token/status", p.status)
	g.GET("/pay/:order_id/:token/qr.png", p.qrPNG)
	g.GET("/pay/:order_id/:token/qr.svg", p.qrSVG)
}

// payView is what the page, the status JSON and the QR codes show.
type payView struct {
	OrderID        string             `json:"order_id"`
	Status         engine.PayProgress `json:"status"`
	StatusText     string             `json:"status_text"`
	Final          bool               `json:"final"`
	TotalPrice     core.MicroTari     `json:"total_price"`
	AmountDue      core.MicroTari     `json:"amount_due"`
	AmountReceived core.MicroTari     `json:"amount_received"`
	AmountConfirm  core.MicroTari     `json:"amount_confirmed"`
	TotalText      string             `json:"total_price_text"`
	DueText        string             `json:"amount_due_text"`
	OriginalPrice  *string            `json:"original_price"`
	Currency       string             `json:"currency"`
	Address        string             `json:"address"`
	AddressEmoji   string             `json:"address_emoji"`
	PaymentID      bool               `json:"payment_id"` // false: the address carries no payment id, claim first
	PaymentURI     string             `json:"payment_uri"`
	ExpiresAt      *time.Time         `json:"expires_at"`
	SecondsLeft    int64              `json:"seconds_left"`

	// Page only.
	OrderPath     string       `json:"-"`
	PayHref       template.URL `json:"-"` // PaymentURI: html/template would drop the tari: scheme
	TimeLeft      string       `json:"-"`
	CSS, JS, Icon string       `json:"-"`
}

var payStatusText = map[engine.PayProgress]string{
	engine.PayWaiting:   "Waiting for your payment",
	engine.PaySeen:      "Payment seen, waiting for confirmation",
	engine.PayConfirmed: "Payment confirmed, waiting for the rest",
	engine.PayPaid:      "Paid. Thank you!",
	engine.PayExpired:   "This order has expired",
	engine.PayCancelled: "This order was cancelled",
}

// load checks the token, then reads the order. A wrong token, like an
// unknown order, is a bare 404: the answer says nothing about whether the
// order exists, and the token is checked before the database is touched.
func (p *payPages) load(c *gin.Context) (*payView, bool) {
	id, token := c.Param("order_id"), c.Param("token")
	if !core.PayLinkTokenValid(p.secret, id, token) {
		c.AbortWithStatus(http.StatusNotFound)
		return nil, false
	}
	st, err := p.s.eng.OrderPayState(c.Request.Context(), id)
	if err != nil {
		p.s.log.Error("pay page: reading the order failed", "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return nil, false
	}
	if st == nil {
		c.AbortWithStatus(http.StatusNotFound)
		return nil, false
	}
	return p.view(st, token), true
}

func (p *payPages) view(st *engine.OrderPayState, token string) *payView {
	o := st.Order
	v := &payView{OrderID: o.OrderID, Status: st.Progress, StatusText: payStatusText[st.Progress], Final: st.Progress.Final(),
		TotalPrice: o.TotalPrice, AmountDue: st.Due, AmountReceived: st.Received, AmountConfirm: st.Confirmed,
		TotalText: formatTari(o.TotalPrice), DueText: formatTari(st.Due), OriginalPrice: o.OriginalPrice, Currency: o.Currency,
		OrderPath: "/pay/" + url.PathEscape(o.OrderID) + "/" + token, CSS: assetURL("pay.css"), JS: assetURL("pay.js"), Icon: assetURL("icon.svg")}
	addr := p.wallet
	if withID, err := p.wallet.WithPaymentID([]byte(o.OrderID)); err == nil {
		addr, v.PaymentID = withID, true
	}
	v.Address, v.AddressEmoji = addr.Base58(), addr.Emoji()
	v.PaymentURI = PaymentURI(addr, st.Due)
	v.PayHref = template.URL(v.PaymentURI) // built here from a base58 address and a number only
	if !v.Final {
		exp := st.ExpiresAt.UTC()
		v.ExpiresAt = &exp
		v.SecondsLeft = max(0, int64(exp.Sub(p.s.now()).Seconds()))
		v.TimeLeft = formatDuration(time.Duration(v.SecondsLeft) * time.Second)
	}
	return v
}

// PaymentURI is what the pay page's QR code holds: the deep link Tari
// wallets scan, tari://<network>/transactions/send?tariAddress=<base58>
// (the form Tari Universe puts in its own receive QR code, RFC-0154's
// tari://{network}/{command}?{data}), with amount=<µT> as the Aurora
// wallet's deep-link parser reads it. The address carries the order's
// payment id, so a wallet that pays it tells the hot wallet which order
// this is for.
func PaymentURI(addr tari.Address, due core.MicroTari) string {
	q := "tariAddress=" + url.QueryEscape(addr.Base58())
	if due > 0 {
		q += fmt.Sprintf("&amount=%d", int64(due))
	}
	return "tari://" + addr.Network.String() + "/transactions/send?" + q
}

// formatTari writes µT as Tari ("2.5 XTM", "0.000001 XTM"), exactly.
func formatTari(m core.MicroTari) string {
	n := int64(m)
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	frac := strings.TrimRight(fmt.Sprintf("%06d", n%1_000_000), "0")
	if frac == "" {
		return fmt.Sprintf("%s%d XTM", sign, n/1_000_000)
	}
	return fmt.Sprintf("%s%d.%s XTM", sign, n/1_000_000, frac)
}

// formatDuration is a short, readable time left: "1 h 05 min", "4 min 10 s".
func formatDuration(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case s >= 3600:
		return fmt.Sprintf("%d h %02d min", s/3600, s%3600/60)
	case s >= 60:
		return fmt.Sprintf("%d min %02d s", s/60, s%60)
	}
	return fmt.Sprintf("%d s", s)
}

func noStore(c *gin.Context) {
	setPageHeaders(c.Writer.Header())
	c.Header("Cache-Control", "no-store")
}

// GET /pay/{order_id}/{token}
func (p *payPages) page(c *gin.Context) {
	v, ok := p.load(c)
	if !ok {
		return
	}
	var b bytes.Buffer
	if err := payPageTemplate.Execute(&b, v); err != nil {
		p.s.log.Error("pay page: template failed", "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	noStore(c)
	c.Data(http.StatusOK, "text/html; charset=utf-8", b.Bytes())
}

// GET /pay/{order_id}/{token}/status
func (p *payPages) status(c *gin.Context) {
	v, ok := p.load(c)
	if !ok {
		return
	}
	noStore(c)
	writeJSON(c, http.StatusOK, v)
}

// payQRSize is the PNG's width in pixels: large enough to scan from a
// screen, small enough for an email.
const payQRSize = 320

// GET /pay/{order_id}/{token}/qr.png (email clients block SVG)
func (p *payPages) qrPNG(c *gin.Context) {
	v, ok := p.load(c)
	if !ok {
		return
	}
	png, err := qrcode.Encode(v.PaymentURI, qrcode.Medium, payQRSize)
	if err != nil {
		p.s.log.Error("pay page: QR code failed", "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	noStore(c)
	c.Data(http.StatusOK, "image/png", png)
}

// GET /pay/{order_id}/{token}/qr.svg
func (p *payPages) qrSVG(c *gin.Context) {
	v, ok := p.load(c)
	if !ok {
		return
	}
	svg, err := qrSVG(v.PaymentURI)
	if err != nil {
		p.s.log.Error("pay page: QR code failed", "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	noStore(c)
	c.Data(http.StatusOK, "image/svg+xml", svg)
}

// qrSVG draws the QR code of text as one SVG path (one unit per module,
// with the quiet zone), dark on white.
func qrSVG(text string) ([]byte, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	bm := q.Bitmap() // includes the quiet zone
	n := len(bm)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bm {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", start, y, x-start, x-start)
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}

// GET /pay/assets/{file}
func (p *payPages) asset(c *gin.Context) {
	a, ok := payAssets[path.Base(c.Param("file"))]
	if !ok || path.Base(c.Param("file")) != c.Param("file") {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	setPageHeaders(c.Writer.Header())
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Data(http.StatusOK, a.contentType, a.body)
}

// redactPayToken hides the token of a pay-page URI ("/pay/1001/<token>/status"
// → "/pay/1001/…/status") for the access log: a token opens the page.
func redactPayToken(uri string) string {
	rest, ok := strings.CutPrefix(uri, "/pay/")
	if !ok || strings.HasPrefix(rest, "assets/") {
		return uri
	}
	id, afterID, ok := strings.Cut(rest, "/")
	if !ok {
		return uri
	}
	_, tail, hasTail := strings.Cut(afterID, "/")
	if !hasTail {
		if i := strings.IndexAny(afterID, "?#"); i >= 0 {
			return "/pay/" + id + "/…" + afterID[i:]
		}
		return "/pay/" + id + "/…"
	}
	return "/pay/" + id + "/…/" + tail
}
