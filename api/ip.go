package api

import (
	"net"
	"net/http"
	"strings"
)

// remoteIP works out the client IP (http-api.md §6): X-Forwarded-For when
// enabled, then Forwarded when enabled, then the TCP peer. Unlike the
// reference, a multi-hop header is not ignored: its last entry is used, the
// one the nearest (trusted) proxy appended. Ports, quotes and brackets are
// stripped.
func remoteIP(r *http.Request, useXFF, useForwarded bool) net.IP {
	ip, _ := clientIP(r, useXFF, useForwarded)
	return ip
}

// clientIP is remoteIP, and whether the address came from a forwarding
// header rather than the TCP peer.
func clientIP(r *http.Request, useXFF, useForwarded bool) (ip net.IP, forwarded bool) {
	if useXFF {
		if v := r.Header.Values("X-Forwarded-For"); len(v) > 0 {
			parts := strings.Split(v[len(v)-1], ",")
			if ip := parseHostIP(parts[len(parts)-1]); ip != nil {
				return ip, true
			}
		}
	}
	if useForwarded {
		if v := r.Header.Values("Forwarded"); len(v) > 0 {
			elems := strings.Split(v[len(v)-1], ",")
			for _, pair := range strings.Split(elems[len(elems)-1], ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					if ip := parseHostIP(val); ip != nil {
						return ip, true
					}
				}
			}
		}
	}
	return peerIP(r), false
}

// peerIP is the TCP peer address without the port.
func peerIP(r *http.Request) net.IP {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return net.ParseIP(host)
}

// parseHostIP accepts "1.2.3.4", "1.2.3.4:80", "\"[::1]:80\"", "[::1]", "::1".
func parseHostIP(s string) net.IP {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if ip := net.ParseIP(s); ip != nil {
		return ip
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		return net.ParseIP(strings.Trim(host, "[]"))
	}
	return net.ParseIP(strings.Trim(s, "[]"))
}

// sameIP compares the client IP with a wallet's registered IP. An
// IPv4-mapped IPv6 address equals its IPv4 form (a dual-stack listener reports
// either).
func sameIP(a net.IP, registered string) bool {
	b := net.ParseIP(strings.TrimSpace(registered))
	return a != nil && b != nil && a.Equal(b)
}
