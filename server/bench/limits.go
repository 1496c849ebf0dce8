package bench

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/snippets"
)

// What one client may store through /ws, besides the protocol's limits
// (benchproto.Limits: per batch, per run, per snippet, per connection):
// the application's free-disk floor, its daily byte quota per client
// address and its rate of new runs per client address. One address with
// many connections is still one client.

// Guard is what the application enforces on every client's writes,
// whichever way they arrive (package server: storage_guard.go, quota.go).
// The lab asks it before storing what a WebSocket client sends. Clients
// are named by their address (echo's RealIP); the guard decides how
// addresses group (an IPv6 /64 is one client). A nil Guard enforces
// nothing (tests of the lab alone).
type Guard interface {
	// Writable is nil when the store may take new data, otherwise the
	// error to answer (snippets.ErrDiskLow).
	Writable() error
	// NoteWrite learns from every write's outcome whether the disk is
	// full.
	NoteWrite(err error)
	// ReserveBenchBytes counts n bytes of benchmark data against the
	// client's daily quota; when they do not fit it counts nothing and
	// says how much the client stored today, the quota, and when the
	// client may store again.
	ReserveBenchBytes(client string, n int64) (ok bool, used, limit int64, retryAfter time.Duration)
	// RefundBenchBytes gives back a reservation that stored nothing new.
	RefundBenchBytes(client string, n int64)
	// AllowNewRun counts a new run against the client's rate of new runs,
	// or says when the client may start the next one.
	AllowNewRun(client string) (ok bool, retryAfter time.Duration)
}

// What stored data costs against the daily quota: about what SQLite
// spends on it (a sample is a row of six columns and an index entry; a
// run a row with its env, config and phases).
const (
	sampleCost = 64
	runCost    = 512
)

// diskRetryAfter is the retry hint while the disk is full or low: an
// operator has to free space (the snippet API's Retry-After says the same).
const diskRetryAfter = time.Minute

// Reasons of pyplay_bench_refused_total.
const (
	refusedDisk           = "disk"
	refusedQuota          = "over_quota"
	refusedRunRate        = "run_rate"
	refusedSamplesPerRun  = "samples_per_run"
	refusedRunsPerSnippet = "runs_per_snippet"
	refusedNotOwner       = "not_owner"
	refusedNoHello        = "no_hello"
)

func newRefusedCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pyplay_bench_refused_total",
		Help: "Benchmark data refused on /ws by reason: disk (below the free-disk floor or full), over_quota (daily bytes per client), run_rate (new runs per client), samples_per_run, runs_per_snippet, not_owner (a run resumed without its token), no_hello (closed before hello).",
	}, []string{"reason"})
	reg.MustRegister(c)
	for _, r := range []string{refusedDisk, refusedQuota, refusedRunRate, refusedSamplesPerRun, refusedRunsPerSnippet, refusedNotOwner, refusedNoHello} {
		c.WithLabelValues(r) // every series from the start, at 0
	}
	return c
}

// refuse counts a refusal and returns its error frame.
func (w *wsConn) refuse(reason string, pe *benchproto.ProtoError) error {
	w.lab.refused.WithLabelValues(reason).Inc()
	return pe
}

// writable refuses new data while the disk is below its floor.
func (w *wsConn) writable(seq int64) error {
	g := w.lab.cfg.Guard
	if g == nil {
		return nil
	}
	if err := g.Writable(); err != nil {
		return w.refuse(refusedDisk, diskError(err, seq))
	}
	return nil
}

// noteWrite tells the guard how a write went.
func (w *wsConn) noteWrite(err error) {
	if g := w.lab.cfg.Guard; g != nil {
		g.NoteWrite(err)
	}
}

// diskError is the frame of a write refused or failed for lack of disk
// space: unavailable, with a retry hint; nothing of the message is stored.
func diskError(err error, seq int64) *benchproto.ProtoError {
	return &benchproto.ProtoError{Code: benchproto.CodeUnavailable, Ref: seq, RetryAfter: diskRetryAfter,
		Message: snippets.ErrorMessage(err) + fmt.Sprintf("; resend in %d s", int(diskRetryAfter.Seconds()))}
}

// isDiskError reports a write that failed for a full or low disk.
func isDiskError(err error) bool {
	return errors.Is(err, snippets.ErrStorageFull) || errors.Is(err, snippets.ErrDiskLow)
}

// reserve counts n bytes against the client's daily quota; the returned
// refund gives them back (call it when nothing new was stored).
func (w *wsConn) reserve(seq int64, n int64) (refund func(), err error) {
	g := w.lab.cfg.Guard
	if g == nil {
		return func() {}, nil
	}
	ok, used, limit, wait := g.ReserveBenchBytes(w.remote, n)
	if !ok {
		return nil, w.refuse(refusedQuota, &benchproto.ProtoError{Code: benchproto.CodeOverQuota, Ref: seq, RetryAfter: wait,
			Message: fmt.Sprintf("your address has stored %s of benchmark data today, and this server takes at most %s a day from one address; try again in %s",
				byteText(used), byteText(limit), waitText(wait))})
	}
	return func() { g.RefundBenchBytes(w.remote, n) }, nil
}

// allowNewRun applies the client's rate of new runs.
func (w *wsConn) allowNewRun(seq int64) error {
	g := w.lab.cfg.Guard
	if g == nil {
		return nil
	}
	if ok, wait := g.AllowNewRun(w.remote); !ok {
		wait = max(wait, time.Millisecond)
		return w.refuse(refusedRunRate, &benchproto.ProtoError{Code: benchproto.CodeRateLimited, Ref: seq, RetryAfter: wait,
			Message: fmt.Sprintf("your address has started too many runs lately; this run.start was dropped, resend it in %d ms", wait.Milliseconds())})
	}
	return nil
}

// checkRunSamples refuses a batch that would take its run past
// MaxSamplesPerRun.
func (w *wsConn) checkRunSamples(seq int64, own *ownedRun, n int) error {
	max := w.limits.MaxSamplesPerRun
	if own.samples+n <= max {
		return nil
	}
	return w.refuse(refusedSamplesPerRun, &benchproto.ProtoError{Code: benchproto.CodeTooLarge, Ref: seq,
		Message: fmt.Sprintf("run %q holds %d samples and this batch has %d; a run holds at most %d (welcome.limits.maxSamplesPerRun): end it and start another run",
			own.id, own.samples, n, max)})
}

// byteText is a size for people: 512 bytes, 40 KiB, 64 MiB.
func byteText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.3g MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// waitText is a wait for people, to the minute.
func waitText(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	switch {
	case m <= 1:
		return "1 minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}
