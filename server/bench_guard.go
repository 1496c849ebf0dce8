package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pyplay/pyplay/server/bench"
)

// The benchmark lab stores what WebSocket clients send, so the limits of
// the snippet API apply there too (bench.Guard): the free-disk floor and
// full-disk reporting (storage_guard.go), a daily byte quota per client
// (quota.go) of its own, and a rate of new runs per client, since one
// client with many connections could otherwise create runs as fast as the
// disk takes them.

// Defaults of the lab's per-client limits in Config.
const (
	// DefaultBenchDailyBytesPerClient is Config.BenchDailyBytesPerClient's
	// default: about a million samples a day from one address, a few
	// hundred benchmarks of the browser harness's longest kind.
	DefaultBenchDailyBytesPerClient = 64 << 20
	// DefaultBenchRunsPerMinute is Config.BenchRunsPerMinute's default: a
	// benchmark of both runtimes starts two runs, and a person starts a
	// few a minute at most.
	DefaultBenchRunsPerMinute = 60
)

// labGuard is the bench.Guard of the server's lab.
type labGuard struct {
	storage *storageGuard
	quota   *byteQuota     // nil: no quota
	runs    *clientLimiter // nil: no rate
}

func (s *Server) newLabGuard() *labGuard {
	g := &labGuard{storage: s.storage}
	switch q := s.cfg.BenchDailyBytesPerClient; {
	case q == 0:
		g.quota = newByteQuota(DefaultBenchDailyBytesPerClient)
	case q > 0:
		g.quota = newByteQuota(q)
	}
	switch n := s.cfg.BenchRunsPerMinute; {
	case n == 0:
		g.runs = newClientLimiter(DefaultBenchRunsPerMinute/60.0, DefaultBenchRunsPerMinute)
	case n > 0:
		g.runs = newClientLimiter(float64(n)/60, n)
	}
	if g.quota != nil {
		s.metrics.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pyplay_bench_quota_clients",
			Help: "Client addresses with benchmark data counted against today's quota.",
		}, func() float64 { return float64(g.quota.clientCount()) }))
	}
	return g
}

var _ bench.Guard = (*labGuard)(nil)

func (g *labGuard) Writable() error { return g.storage.writable() }

func (g *labGuard) NoteWrite(err error) { g.storage.noteWrite(err, time.Now()) }

func (g *labGuard) ReserveBenchBytes(client string, n int64) (bool, int64, int64, time.Duration) {
	if g.quota == nil {
		return true, 0, 0, 0
	}
	ok, used, wait := g.quota.reserve(clientKey(client), n, time.Now())
	return ok, used, g.quota.limit, wait
}

func (g *labGuard) RefundBenchBytes(client string, n int64) {
	if g.quota != nil {
		g.quota.refund(clientKey(client), n)
	}
}

func (g *labGuard) AllowNewRun(client string) (bool, time.Duration) {
	if g.runs == nil {
		return true, 0
	}
	return g.runs.reserve(clientKey(client), time.Now())
}
