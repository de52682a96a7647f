package api

import (
	"net"
	"sync"
	"sync/atomic"
)

// ConnLimitListener caps the open connections of each peer IP
// (TPG_MAX_CONNECTIONS_PER_IP). A connection over the cap is closed as soon
// as it is accepted, so one client holding thousands of idle or slow
// connections costs the server at most max file descriptors, and everyone
// else keeps being served. It counts TCP peers, not forwarded addresses: it
// runs before any HTTP is read. Behind a proxy every client shares the
// proxy's IP, so the cap must then be set high enough for the proxy (or 0).
type ConnLimitListener struct {
	net.Listener
	max int

	mu      sync.Mutex
	open    map[string]int
	refused atomic.Int64
}

// LimitConnsPerIP wraps ln; max ≤ 0 returns ln unchanged.
func LimitConnsPerIP(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &ConnLimitListener{Listener: ln, max: max, open: map[string]int{}}
}

// Accept returns the next connection whose IP is under the cap, closing the
// ones over it.
func (l *ConnLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := connIP(c)
		l.mu.Lock()
		if l.open[ip] >= l.max {
			l.mu.Unlock()
			_ = c.Close()
			l.refused.Add(1)
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, l: l, ip: ip}, nil
	}
}

// Open is the number of open connections from ip.
func (l *ConnLimitListener) Open(ip string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open[ip]
}

// Refused is the number of connections closed for being over the cap.
func (l *ConnLimitListener) Refused() int64 { return l.refused.Load() }

func (l *ConnLimitListener) release(ip string) {
	l.mu.Lock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
	l.mu.Unlock()
}

func connIP(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

type limitedConn struct {
	net.Conn
	l    *ConnLimitListener
	ip   string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}
