package server

import (
	"context"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pyplay/pyplay/server/bench/hub"
)

// live is the benchmark fan-out of one server: the hub that WebSocket
// viewers subscribe to and, when the store is PostgreSQL, the relay that
// carries the same messages to and from the other servers sharing the
// database. With SQLite there is one server per database, and the hub is
// all there is.
type live struct {
	hub   *hub.Hub
	relay *pgRelay // nil without PostgreSQL
	log   *slog.Logger
	m     *liveMetrics
	// overview caches GET /api/bench/overview (bench_compare.go).
	overview overviewCache

	// Connections are counted so that shutdown can wait for them: net/http
	// forgets a connection once it is hijacked for the WebSocket.
	mu     sync.Mutex
	closed bool
	conns  sync.WaitGroup
}

// liveMetrics are the WebSocket series on the server's registry.
type liveMetrics struct {
	conns    *prometheus.GaugeVec
	messages *prometheus.CounterVec
	errors   *prometheus.CounterVec
	samples  prometheus.Counter
	relay    *prometheus.CounterVec
}

func newLiveMetrics(reg prometheus.Registerer) *liveMetrics {
	m := &liveMetrics{
		conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pyplay_ws_connections",
			Help: "Open benchmark WebSocket connections by role (pending before hello).",
		}, []string{"role"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pyplay_ws_messages_total",
			Help: "Client messages accepted on /ws by type.",
		}, []string{"type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pyplay_ws_errors_total",
			Help: "Error frames sent on /ws by protocol error code.",
		}, []string{"code"}),
		samples: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pyplay_ws_samples_stored_total",
			Help: "Benchmark samples stored from /ws (duplicates not counted).",
		}),
		relay: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pyplay_live_relay_total",
			Help: "Fan-out messages relayed through PostgreSQL NOTIFY: sent, received, dropped.",
		}, []string{"event"}),
	}
	reg.MustRegister(m.conns, m.messages, m.errors, m.samples, m.relay)
	return m
}

// startLive starts the hub and, with PostgreSQL, the relay; both stop when
// the server's context ends (Close), which closes every WebSocket with
// 1001 going away. Close waits for the connections to finish.
func (s *Server) startLive() error {
	l := &live{hub: hub.New(), log: s.log, m: newLiveMetrics(s.metrics.registry)}
	s.metrics.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "pyplay_hub_dropped_total",
		Help: "Viewers dropped for being too slow to take their messages.",
	}, func() float64 { return float64(l.hub.Stats().Dropped) }))
	s.live = l
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		l.hub.Run(s.ctx)
	}()
	if p, ok := s.cfg.Store.(interface{ Pool() *pgxpool.Pool }); ok {
		r, err := newPGRelay(s.ctx, p.Pool(), l.hub, s.log, l.m)
		if err != nil {
			return err
		}
		l.relay = r
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			r.run(s.ctx)
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-s.ctx.Done()
		l.shutdown()
	}()
	return nil
}

// publish fans msg out to this server's viewers of topic and, through the
// relay, to the other servers'.
func (l *live) publish(topic string, msg []byte) {
	l.hub.Publish(topic, msg)
	if l.relay != nil {
		l.relay.publish(topic, msg)
	}
}

// enter counts a new connection, or reports false once shutdown began.
func (l *live) enter() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.conns.Add(1)
	return true
}

func (l *live) leave() { l.conns.Done() }

// shutdown refuses new connections and waits for the open ones, which end
// because the hub has stopped.
func (l *live) shutdown() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.conns.Wait()
}

// liveContext is the context of store calls made for a WebSocket message:
// not cancelled by shutdown, so that a batch being stored is stored (and
// acknowledged if the connection still stands), but bounded.
func liveContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), storeTimeout)
}
