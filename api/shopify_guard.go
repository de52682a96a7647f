package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
)

const rawBodyKey = "tps.rawBody"

// shopifyGuard runs on every /shopify route: D16 (503 when checks are on and
// no secret is set), then the HMAC of the raw body compared in constant time
// (D21), then the IP whitelist (D17, D24). The raw body is kept for the
// handler.
func (s *Server) shopifyGuard(c *gin.Context) {
	cfg := &s.cfg
	body, ok := bufferRawBody(c)
	if !ok {
		return
	}

	if cfg.ShopifyHMACChecks {
		if cfg.ShopifyHMACSecret == "" {
			abortJSON(c, http.StatusServiceUnavailable, msgHMACSecretUnset)
			return
		}
		sig := c.GetHeader("X-Shopify-Hmac-Sha256")
		if sig == "" {
			abortJSON(c, http.StatusForbidden, msgNoHMAC)
			return
		}
		if !validShopifyHMAC(cfg.ShopifyHMACSecret, body, sig) {
			abortJSON(c, http.StatusForbidden, msgBadHMAC)
			return
		}
	}
	if cfg.ShopifyIPWhitelistEnabled {
		ip := remoteIP(c.Request, cfg.UseXForwardedFor, cfg.UseForwarded)
		allowed := false
		for _, w := range cfg.ShopifyIPWhitelist {
			if ip != nil && w.Equal(ip) {
				allowed = true
				break
			}
		}
		if !allowed {
			s.log.Warn("shopify request from a peer outside TPG_SHOPIFY_IP_WHITELIST", "ip", ip.String())
			e := errForbiddenPeer()
			abortJSON(c, e.Status, e.Msg)
			return
		}
	}
	c.Next()
}

// bufferRawBody reads the whole (size-capped) body for the HMAC and keeps it
// for the handler; false when it answered the request itself (413 or 400).
func bufferRawBody(c *gin.Context) ([]byte, bool) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			abortJSON(c, http.StatusRequestEntityTooLarge, msgBodyTooLarge)
			return nil, false
		}
		abortJSON(c, http.StatusBadRequest, msgExtractFailed)
		return nil, false
	}
	c.Set(rawBodyKey, body)
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	return body, true
}

// validShopifyHMAC compares X-Shopify-Hmac-Sha256 with the body's
// HMAC-SHA256 under secret, in constant time (D21).
func validShopifyHMAC(secret string, body []byte, sig string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(sig), []byte(want))
}

// rawBody returns the body the guard buffered.
func rawBody(c *gin.Context) []byte {
	if v, ok := c.Get(rawBodyKey); ok {
		return v.([]byte)
	}
	return nil
}

// ShopifyHMAC returns the X-Shopify-Hmac-Sha256 value for body, for tests and tools.
func ShopifyHMAC(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
