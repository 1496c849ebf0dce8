package bench

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

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

// publish fans msg out to this server's viewers of topic and, through the
// relay, to the other servers'.
func (l *Lab) publish(topic string, msg []byte) {
	l.hub.Publish(topic, msg)
	if l.relay != nil {
		l.relay.publish(topic, msg)
	}
}

// enter counts a new connection, or reports false once shutdown began.
func (l *Lab) enter() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.conns.Add(1)
	return true
}

func (l *Lab) leave() { l.conns.Done() }

// shutdown refuses new connections and waits for the open ones, which end
// because the hub has stopped.
func (l *Lab) shutdown() {
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
