package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
)

// The rate limit bounds how often one client creates snippets, not how much
// it stores: at 30 a minute of up to 128 KiB each, one address could add
// gigabytes a day. The daily quota bounds the bytes themselves.

// DefaultDailyBytesPerClient is SnippetOptions.DailyBytesPerClient's
// default: a thousand large programs a day, or tens of thousands of
// ordinary ones, for one address.
const DefaultDailyBytesPerClient = 64 << 20

// quotaWindow is the period a quota is counted over: each client's starts
// with the first byte it stores and ends a day later.
const quotaWindow = 24 * time.Hour

// byteQuota counts the bytes each client (clientKey) stored in its current
// window.
type byteQuota struct {
	limit int64

	mu        sync.Mutex
	clients   map[string]*quotaUse
	lastSweep time.Time
}

type quotaUse struct {
	start time.Time
	bytes int64
}

func newByteQuota(limit int64) *byteQuota {
	return &byteQuota{limit: limit, clients: make(map[string]*quotaUse)}
}

// reserve counts size bytes against client's quota at now, or, when they
// do not fit, counts nothing and says when the window ends and how much the
// client stored in it.
func (q *byteQuota) reserve(client string, size int64, now time.Time) (ok bool, used int64, retryAfter time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if now.Sub(q.lastSweep) >= time.Hour || len(q.clients) >= maxTrackedClients {
		q.sweep(now)
	}
	u := q.clients[client]
	if u == nil || now.Sub(u.start) >= quotaWindow {
		u = &quotaUse{start: now}
		q.clients[client] = u
	}
	if u.bytes+size > q.limit {
		return false, u.bytes, u.start.Add(quotaWindow).Sub(now)
	}
	u.bytes += size
	return true, u.bytes, 0
}

// clientCount is how many clients the quota is counting, for metrics.
func (q *byteQuota) clientCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.clients)
}

// refund gives back a reservation that stored nothing new (the snippet
// existed, or the write failed).
func (q *byteQuota) refund(client string, size int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if u := q.clients[client]; u != nil {
		u.bytes = max(0, u.bytes-size)
	}
}

// sweep forgets windows that ended. Should addresses be made up faster
// than windows end, it forgets everyone rather than grow without bound:
// the free-disk floor (storage_guard.go) still holds then.
func (q *byteQuota) sweep(now time.Time) {
	q.lastSweep = now
	for k, u := range q.clients {
		if now.Sub(u.start) >= quotaWindow {
			delete(q.clients, k)
		}
	}
	if len(q.clients) >= maxTrackedClients {
		clear(q.clients)
	}
}

// snippetSize is what a snippet costs against the quota: the bytes of its
// text fields.
func snippetSize(sn *snippets.Snippet) int64 {
	return int64(len(sn.Code) + len(sn.HTML) + len(sn.Title))
}

// overQuota is the 429 of a client over its daily quota, with Retry-After
// (whole seconds, rounded up).
func overQuota(c echo.Context, used, limit int64, wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	h := c.Response().Header()
	h.Set(echo.HeaderRetryAfter, strconv.Itoa(secs))
	h.Set(echo.HeaderCacheControl, "no-store")
	return response.Errorf(http.StatusTooManyRequests, "your address has stored %s of new snippets today, and this server takes at most %s a day from one address; try again in %s",
		byteText(used), byteText(limit), waitText(wait))
}

// byteText is a size for people: 512 bytes, 40 KiB, 64 MiB.
func byteText(n int64) string {
	switch {
	case n >= 1<<20:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<20)), ".0") + " MiB"
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// waitText is a wait for people, to the minute (hours and minutes beyond
// an hour).
func waitText(d time.Duration) string {
	m := int(math.Ceil(d.Minutes()))
	switch {
	case m <= 1:
		return "1 minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	case m == 60:
		return "1 hour"
	case m%60 == 0:
		return fmt.Sprintf("%d hours", m/60)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}
