package api

import "net/http"

// pageCSP is the Content-Security-Policy of the server's HTML pages: nothing
// but the server's own scripts, styles, images and fetches; no inline code,
// no frames, no forms elsewhere. Pages keep their JavaScript and CSS in
// embedded files so that this policy needs no hashes or nonces.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// setPageHeaders sets the security headers of an HTML page (or of what it
// loads): the strict CSP, no framing, no sniffing, and no Referer, since the
// pages' URLs hold secrets (pay-link tokens). One function, so every page of
// the server shares it.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}
