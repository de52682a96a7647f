package api

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// accessLog writes one line per request in the reference's format
// (http-api.md §7.1), prefixed like env_logger does, for every path but
// /health and the operational /livez and /metrics (probes and scrapes would
// drown the traffic). Tokens are never logged.
func accessLog(w io.Writer) gin.HandlerFunc {
	var mu sync.Mutex
	return func(c *gin.Context) {
		if p := c.Request.URL.Path; p == "/health" || p == "/livez" || p == "/metrics" {
			c.Next()
			return
		}
		start := time.Now().UTC()
		c.Next()
		r := c.Request
		peer, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			peer = r.RemoteAddr
		}
		line := fmt.Sprintf("[%s INFO  access_log] %s %s x-forwarded-for: %s forwarded: %s \"%s %s %s\" %d ua:\"%s\" %.6f ms\n",
			start.Format(time.RFC3339), start.Format("2006-01-02T15:04:05.000000000Z"), peer,
			dash(r.Header.Get("X-Forwarded-For")), dash(r.Header.Get("Forwarded")),
			r.Method, redactPayToken(r.RequestURI), r.Proto, c.Writer.Status(), dash(r.Header.Get("User-Agent")),
			float64(time.Since(start).Nanoseconds())/1e6)
		mu.Lock()
		_, _ = io.WriteString(w, line)
		mu.Unlock()
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
