// Package bench is the benchmark lab's server side. Browser tabs and
// `pyplay bench-native` stream samples to the WebSocket endpoint GET /ws
// (ws.go; the protocol is package benchproto, docs/protocol.md), which
// validates, stores, acknowledges and fans every stored message out to the
// dashboards following that snippet (package hub; across servers sharing
// a PostgreSQL database, live_pg.go). The REST API serves what is stored
// with its statistics (api.go, groups.go, compare.go; package stats),
// A/B benchmarks compare snippets round by round (ab.go, abresult.go), and
// the dashboard pages load it (pages.go). The lab stores through
// snippets.Store and never runs code.
//
// The application wires it: New, then Routes on its echo instance and Run
// in the background until shutdown. Errors are answered by the
// application's error handler (package response).
package bench

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pyplay/pyplay/server/bench/hub"
	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/snippets"
)

// Config is what the lab takes from the application.
type Config struct {
	// Store keeps the runs; without one, the lab answers 503.
	Store  snippets.Store
	Logger *slog.Logger
	// Metrics registers the lab's Prometheus series; nil means a registry
	// of the lab's own.
	Metrics prometheus.Registerer
	WS      WSConfig
	// Snippet looks up the snippet a request names, the way the snippet
	// API does, so that an unknown ID is told the same everywhere.
	Snippet func(c echo.Context, id string) (*snippets.Snippet, error)
	// Render answers with an HTML page from static/templates.
	Render func(c echo.Context, status int, name string, data any) error
	// Manifest is the current front-end build, whose dashboard bundle the
	// pages load.
	Manifest func() *frontend.Manifest
	// Guard applies the application's disk floor and per-client quotas to
	// what WebSocket clients store (limits.go); nil applies none.
	Guard Guard
	// CreateLimit, if set, rate-limits POST /api/bench/ab per client: the
	// application's limiter, as on snippet creation.
	CreateLimit echo.MiddlewareFunc
	// WasmManifest returns the build's static/dist/wasm/manifest.json
	// (nil when there is none): which compiled kernels (go-wasm,
	// rust-wasm) this build has, for /bench/suite. Nil: not known.
	WasmManifest func() []byte
	// Preview returns where PyScript pages are previewed, as the editor's
	// config has it: the preview document's URL on a public origin, or
	// the preview listener's port on the page's own host; both empty when
	// previews are off. /bench/suite runs the PyScript row in it. Nil: off.
	Preview func() (url, port string)
}

// Lab is the benchmark lab of one server.
type Lab struct {
	cfg Config
	log *slog.Logger
	// hub is the fan-out WebSocket viewers subscribe to; relay carries
	// the same messages to and from the other servers sharing a
	// PostgreSQL database (nil with SQLite, where one server is all
	// there is).
	hub     *hub.Hub
	relay   *pgRelay
	m       *liveMetrics
	refused *prometheus.CounterVec // pyplay_bench_refused_total (limits.go)
	// overview caches GET /api/bench/overview (compare.go).
	overview overviewCache
	// stats caches the statistics of runs and comparisons and bounds
	// their computation (cache.go).
	stats *statsCaches
	// abs caches the results of A/B benchmarks (abresult.go).
	abs abCache

	// ctx ends when Run's does: every WebSocket is closed with 1001.
	ctx  context.Context
	stop context.CancelFunc
	// Connections are counted so that Run can wait for them: net/http
	// forgets a connection once it is hijacked for the WebSocket.
	mu     sync.Mutex
	closed bool
	conns  sync.WaitGroup
}

// New sets up the lab. With PostgreSQL it starts LISTENing at once, so
// that a server accepting connections also receives what the other
// servers publish.
func New(cfg Config) (*Lab, error) {
	if cfg.Snippet == nil || cfg.Render == nil || cfg.Manifest == nil {
		return nil, errors.New("bench: Config needs Snippet, Render and Manifest")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	ctx, stop := context.WithCancel(context.Background())
	l := &Lab{cfg: cfg, log: cfg.Logger, hub: hub.New(), m: newLiveMetrics(cfg.Metrics), refused: newRefusedCounter(cfg.Metrics), stats: newStatsCaches(), ctx: ctx, stop: stop}
	cfg.Metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "pyplay_hub_dropped_total",
		Help: "Viewers dropped for being too slow to take their messages.",
	}, func() float64 { return float64(l.hub.Stats().Dropped) }))
	if p, ok := cfg.Store.(interface{ Pool() *pgxpool.Pool }); ok {
		r, err := newPGRelay(ctx, p.Pool(), l.hub, l.log, l.m)
		if err != nil {
			stop()
			return nil, err
		}
		l.relay = r
	}
	return l, nil
}

// Run runs the fan-out until ctx is done, then closes every WebSocket with
// 1001 going away, refuses new ones, and returns once the open ones have
// ended. Call it once, in the background, as soon as New returns.
func (l *Lab) Run(ctx context.Context) {
	context.AfterFunc(ctx, l.stop)
	var wg sync.WaitGroup
	wg.Go(func() { l.hub.Run(l.ctx) })
	if l.relay != nil {
		wg.Go(func() { l.relay.run(l.ctx) })
	}
	<-l.ctx.Done()
	l.shutdown()
	wg.Wait()
}

// GoAway closes every WebSocket with 1001 going away and refuses new ones,
// without waiting. The application calls it first when it shuts down, so
// that dashboards and producers hear it at once rather than after HTTP
// draining, which may wait out slow clients; Run returns once the
// connections have ended.
func (l *Lab) GoAway() { l.stop() }
