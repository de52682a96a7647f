package api

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/gin-gonic/gin"
)

// headerRequestID names every answer, so an operator can find the log line
// with the details of a 500 from what a client reports, while the body says
// nothing internal.
const headerRequestID = "X-Request-Id"

const requestIDKey = "tps.request_id"

// tagRequest gives the request an id (one a proxy in front already set, when
// it is a short token of safe characters; else 16 random hex digits) and puts
// it in the answer's X-Request-Id header before anything is written.
func tagRequest(c *gin.Context) {
	id := c.GetHeader(headerRequestID)
	if !safeRequestID(id) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Writer.Header().Set(headerRequestID, id)
	c.Next()
}

// safeRequestID accepts 1 to 64 characters of [A-Za-z0-9._-]: nothing that
// could forge a log line or a header.
func safeRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-') {
			return false
		}
	}
	return true
}

// requestID is the request's id ("" outside the router).
func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// internalError answers a 500 with the reference's prefix and only the
// request id as detail: the error itself goes to the log line carrying the
// same id, never to the client.
func internalError(c *gin.Context) {
	e := errBackend("The details are logged under request id " + requestID(c) + ".")
	abortJSON(c, e.Status, e.Msg)
}
