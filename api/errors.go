package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Error is an HTTP error answered as {"error": Msg} with Status. Messages are
// the reference server's ServerError texts (http-api.md §0.2).
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func newErr(status int, format string, args ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// The reference's ServerError variants.
func errBackend(detail string) *Error {
	return newErr(http.StatusInternalServerError, "An error occurred on the backend of the server. %s", detail)
}
func errInvalidBody(detail string) *Error {
	return newErr(http.StatusBadRequest, "Could not read request body: %s", detail)
}
func errInvalidPath(detail string) *Error {
	return newErr(http.StatusBadRequest, "Could not read request path: %s", detail)
}
func errNotFound(detail string) *Error {
	return newErr(http.StatusNotFound, "The data was not found. %s", detail)
}
func errCannotComplete(detail string) *Error {
	return newErr(http.StatusBadRequest, "Cannot complete this request. %s", detail)
}
func errInsufficientPermissions(detail string) *Error {
	return newErr(http.StatusForbidden, "Insufficient Permissions. %s", detail)
}
func errLoginSignature(detail string) *Error {
	return newErr(http.StatusUnauthorized, "Authentication Error. Login token signature is invalid. %s", detail)
}
func errLoginFormat(detail string) *Error {
	return newErr(http.StatusBadRequest, "Authentication Error. Login token is not in the correct format. %s", detail)
}
func errAccountNotFound() *Error {
	return newErr(http.StatusForbidden, "Authentication Error. User account not found.")
}
func errForbiddenPeer() *Error {
	return newErr(http.StatusForbidden, "Authentication Error. Request was made from a forbidden peer")
}
func errAuthTokenMissing() *Error {
	return newErr(http.StatusBadRequest, "Auth token signature invalid or not provided")
}

// Texts of the reference's JWT middleware and ACL (plain text there, JSON here: decisions.md §1).
const (
	msgNoJWT           = "An error occurred, no cookie containing a jwt was found in the request. Please first authenticate with this application."
	msgBadJWT          = "An error occurred, the provided jwt could not be processed."
	msgACL             = "Insufficient permissions."
	msgBodyTooLarge    = "Could not read request body: the body is larger than the limit"
	msgNoHMAC          = "No HMAC signature found."
	msgBadHMAC         = "Invalid HMAC signature."
	msgExtractFailed   = "Failed to extract request data."
	msgHMACSecretUnset = "Shopify webhooks are disabled: TPG_SHOPIFY_HMAC_SECRET is not set. Set it to your Shopify app's API secret (or set TPG_SHOPIFY_HMAC_CHECKS=false to accept unsigned webhooks, for testing only)."
)

// abortJSON answers {"error": msg} and stops the chain.
func abortJSON(c *gin.Context, status int, msg string) {
	b, _ := marshal(map[string]string{"error": msg})
	c.Abort()
	c.Data(status, "application/json", b)
}

// fail answers err: an *Error as itself, anything else as a 500 backend error.
// Internal details of unexpected errors are logged under the request id, and
// the body keeps the reference's prefix with the id as its only detail.
func (s *Server) fail(c *gin.Context, err error) {
	var e *Error
	if errors.As(err, &e) {
		abortJSON(c, e.Status, e.Msg)
		return
	}
	engineFailed(c) // anything but an *Error came from the engine
	if mapped := s.mapEngineError(err); mapped != nil {
		abortJSON(c, mapped.Status, mapped.Msg)
		return
	}
	s.log.Error("request failed", "request_id", requestID(c), "method", c.Request.Method, "path", c.FullPath(), "err", err)
	internalError(c)
}

// marshal is JSON like serde_json writes it: no HTML escaping of <, > and &.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// writeJSON answers v as application/json.
func writeJSON(c *gin.Context, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Data(status, "application/json", b)
}
