package server

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/pyplay/pyplay/server/response"
)

// maxTrackedClients bounds the limiter's memory (a few hundred bytes per
// client). Reaching it after a sweep means addresses are being made up; the
// limiter then starts afresh rather than grow without bound.
const maxTrackedClients = 100_000

// limiterSweepEvery is how often idle buckets are dropped.
const limiterSweepEvery = time.Minute

// clientLimiter is a token bucket per client: per IPv4 address, and per
// IPv6 /64, since one host commonly holds a whole /64.
type clientLimiter struct {
	rate  rate.Limit
	burst int
	// idle is how long a bucket takes to fill up again; an idle bucket
	// that old is the same as a new one and can be forgotten.
	idle time.Duration

	mu        sync.Mutex
	clients   map[string]*clientBucket
	lastSweep time.Time
}

type clientBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// newClientLimiter allows perSecond events per client on average, burst at
// once.
func newClientLimiter(perSecond float64, burst int) *clientLimiter {
	if burst < 1 {
		burst = 1
	}
	return &clientLimiter{
		rate:    rate.Limit(perSecond),
		burst:   burst,
		idle:    time.Duration(float64(burst) / perSecond * float64(time.Second)),
		clients: make(map[string]*clientBucket),
	}
}

// reserve takes a token for client at now. When there is none it takes
// nothing and says how long until there is.
func (l *clientLimiter) reserve(client string, now time.Time) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= limiterSweepEvery || len(l.clients) >= maxTrackedClients {
		l.sweep(now)
	}
	b := l.clients[client]
	if b == nil {
		b = &clientBucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.clients[client] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (l *clientLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, b := range l.clients {
		if now.Sub(b.seen) > l.idle {
			delete(l.clients, k)
		}
	}
	if len(l.clients) >= maxTrackedClients {
		clear(l.clients)
	}
}

// clientKey is the bucket an address belongs to.
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// limitPerClient refuses a request beyond the client's rate with 429 and
// Retry-After (whole seconds, rounded up). what names what the client
// creates too many of ("new snippets"); refused, if not nil, counts the
// refusal.
func limitPerClient(l *clientLimiter, what string, refused func()) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ok, wait := l.reserve(clientKey(c.RealIP()), time.Now())
			if ok {
				return next(c)
			}
			if refused != nil {
				refused()
			}
			secs := int(math.Ceil(wait.Seconds()))
			h := c.Response().Header()
			h.Set(echo.HeaderRetryAfter, strconv.Itoa(secs))
			h.Set(echo.HeaderCacheControl, "no-store")
			if c.Request().ContentLength != 0 {
				h.Set(echo.HeaderConnection, "close") // not worth reading the body
			}
			return response.Errorf(http.StatusTooManyRequests, "too many %s from your address; try again in %s", what, secondsText(secs))
		}
	}
}

func secondsText(n int) string {
	if n == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", n)
}

// clientIPExtractor decides where c.RealIP() (rate limits, quotas, logs)
// takes the client's address from. With no trusted proxies it is the
// connection's peer, and X-Forwarded-For and X-Real-IP, which anyone can
// send, are ignored. When the peer is a trusted proxy:
//
//   - X-Forwarded-For names the client by its right-most address that is
//     not a trusted proxy: each proxy appends the address it saw, so what
//     lies left of that is the client's own to write;
//   - X-Real-IP names it when it is not a trusted proxy itself;
//   - when both name a client and disagree, one of them came from the
//     client unchanged (a proxy that sets X-Real-IP only passes the
//     client's X-Forwarded-For on, and one that appends to
//     X-Forwarded-For passes the client's X-Real-IP on), and nothing in
//     the request says which: neither is believed, and the client counts
//     as the proxy itself. Such a client shares the proxy's rate limit
//     rather than choosing its own.
func clientIPExtractor(trusted []netip.Prefix) echo.IPExtractor {
	direct := echo.ExtractIPDirect()
	if len(trusted) == 0 {
		return direct
	}
	isTrusted := func(a netip.Addr) bool { return inPrefixes(trusted, a) }
	return func(r *http.Request) string {
		peer := direct(r)
		if a, ok := parseIP(peer); !ok || !isTrusted(a) {
			return peer
		}
		fwd, fwdOK := forwardedClient(r.Header.Values(echo.HeaderXForwardedFor), isTrusted)
		real, realOK := parseIP(r.Header.Get(echo.HeaderXRealIP))
		realOK = realOK && !isTrusted(real) && len(r.Header.Values(echo.HeaderXRealIP)) == 1
		switch {
		case fwdOK && realOK && fwd != real:
			return peer
		case fwdOK:
			return fwd.String()
		case realOK:
			return real.String()
		}
		return peer
	}
}

// forwardedClient is the right-most address in X-Forwarded-For that is not
// a trusted proxy (the left-most when all of them are). A malformed entry
// makes the whole header worthless: ok is false.
func forwardedClient(values []string, isTrusted func(netip.Addr) bool) (client netip.Addr, ok bool) {
	var entries []string
	for _, v := range values {
		entries = append(entries, strings.Split(v, ",")...)
	}
	for i := len(entries) - 1; i >= 0; i-- {
		a, ok := parseIP(entries[i])
		if !ok {
			return netip.Addr{}, false
		}
		client = a
		if !isTrusted(a) {
			break
		}
	}
	return client, client.IsValid()
}

// parseIP reads an address as proxies write them: bare, or with a port
// ("192.0.2.1:3456", "[2001:db8::1]:3456"); IPv4-mapped IPv6 is IPv4.
func parseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(s)
		if err2 != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

// inPrefixes reports whether a is in one of ps (trusted proxies).
func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
