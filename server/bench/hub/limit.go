package hub

import (
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a token bucket for one connection: it refills at a steady
// rate and holds a burst, so a client may send a few messages at once but
// not more than the rate on average. One belongs to one connection's read
// pump; it is safe for concurrent use anyway.
type Limiter struct {
	l *rate.Limiter
}

// NewLimiter allows perSecond messages per second on average and bursts
// of up to burst (at least 1).
func NewLimiter(perSecond float64, burst int) *Limiter {
	return &Limiter{l: rate.NewLimiter(rate.Limit(perSecond), max(burst, 1))}
}

// Allow reports whether a message may pass now, taking a token if so. A
// refused message takes nothing: the client is not punished further for
// retrying.
func (l *Limiter) Allow() bool { return l.AllowAt(time.Now()) }

// AllowAt is Allow at time t, for tests and for callers that already read
// the clock.
func (l *Limiter) AllowAt(t time.Time) bool { return l.l.AllowN(t, 1) }

// RetryAfter returns how long until a message would pass, 0 if one would
// pass now, so an error can tell the client when to resend.
func (l *Limiter) RetryAfter() time.Duration { return l.RetryAfterAt(time.Now()) }

// RetryAfterAt is RetryAfter at time t.
func (l *Limiter) RetryAfterAt(t time.Time) time.Duration {
	r := l.l.ReserveN(t, 1)
	defer r.CancelAt(t) // only asking: give the token back
	if !r.OK() {
		return 0
	}
	return r.DelayFrom(t)
}
