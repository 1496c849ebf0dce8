package server

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Every open connection costs a goroutine, buffers and, while its request
// header arrives, up to MaxHeaderBytes of memory, so one client could
// otherwise take everything by opening connections and never finishing a
// request. The listeners therefore count connections, per client address
// and in all, and refuse what is over either limit at once.

// Defaults of the connection limits in Config.
const (
	// DefaultMaxHeaderBytes bounds a request's header: far above what a
	// browser sends to the playground (a few hundred bytes, more with
	// cookies of a shared domain), far below Go's 1 MiB.
	DefaultMaxHeaderBytes = 32 << 10
	// DefaultMaxConnsPerClient is how many connections one address (an
	// IPv4 address, an IPv6 /64) may hold open: a browser holds about six
	// per origin and one WebSocket per tab; a class behind one NAT address
	// needs more (see README).
	DefaultMaxConnsPerClient = 256
	// DefaultMaxConns is how many connections the server holds open at
	// once, over its public listeners.
	DefaultMaxConns = 4096
)

// limitOrDefault is a Config limit: 0 means def, negative means none.
func limitOrDefault(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

// connLimiter counts the open connections of the listeners it wraps.
// Trusted proxies count towards the total only: all their clients' requests
// come from their address.
type connLimiter struct {
	perClient, total int // 0: no limit
	trusted          []netip.Prefix

	mu       sync.Mutex
	open     int
	byClient map[string]int

	refused *prometheus.CounterVec
}

func newConnLimiter(cfg Config, reg prometheus.Registerer) *connLimiter {
	l := &connLimiter{
		perClient: limitOrDefault(cfg.MaxConnsPerClient, DefaultMaxConnsPerClient),
		total:     limitOrDefault(cfg.MaxConns, DefaultMaxConns),
		trusted:   cfg.TrustedProxies,
		byClient:  make(map[string]int),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pyplay_http_connections_refused_total",
			Help: "Connections refused on arrival: reason client (over the limit per address) or total.",
		}, []string{"reason"}),
	}
	reg.MustRegister(l.refused, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pyplay_http_connections_open",
		Help: "Connections open on the playground and preview listeners (WebSockets included).",
	}, func() float64 {
		l.mu.Lock()
		defer l.mu.Unlock()
		return float64(l.open)
	}))
	return l
}

// listen wraps ln so that it counts and limits the connections it accepts.
func (l *connLimiter) listen(ln net.Listener) net.Listener {
	return &limitedListener{Listener: ln, l: l}
}

// admit counts a new connection from addr, or says why it may not open.
// The key is what release takes back: "" for a connection counted in the
// total only.
func (l *connLimiter) admit(addr net.Addr) (key, refusal string) {
	key = addr.String()
	exempt := false
	if ap, err := netip.ParseAddrPort(key); err == nil {
		a := ap.Addr().Unmap()
		key, exempt = clientKey(a.String()), inPrefixes(l.trusted, a)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.total > 0 && l.open >= l.total:
		return "", "total"
	case !exempt && l.perClient > 0 && l.byClient[key] >= l.perClient:
		return "", "client"
	}
	l.open++
	if exempt {
		return "", "" // counted in the total only
	}
	l.byClient[key]++
	return key, ""
}

func (l *connLimiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if key == "" {
		return
	}
	if l.byClient[key]--; l.byClient[key] <= 0 {
		delete(l.byClient, key)
	}
}

// limitedListener accepts only connections its connLimiter admits; it
// answers the others 503 and closes them at once.
type limitedListener struct {
	net.Listener
	l *connLimiter
}

func (ln *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, refusal := ln.l.admit(c.RemoteAddr())
		if refusal == "" {
			return &limitedConn{Conn: c, release: func() { ln.l.release(key) }}, nil
		}
		ln.l.refused.WithLabelValues(refusal).Inc()
		refuse(c, refusal)
	}
}

// refuse tells a client over a limit so, in HTTP, as far as a fresh socket
// takes it without waiting, and closes the connection.
func refuse(c net.Conn, reason string) {
	msg := "too many connections from your address; close some and try again\n"
	if reason == "total" {
		msg = "the server has too many connections; try again shortly\n"
	}
	c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: %d\r\nRetry-After: 5\r\nConnection: close\r\n\r\n%s", len(msg), msg)
	c.Close()
}

// limitedConn gives its place back once, when it is closed (by the HTTP
// server, or by the WebSocket that took it over).
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
