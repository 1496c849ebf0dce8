package server

import (
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are served on a listener of their own, by default on loopback:
// they describe the server to its operator (routes, rates, memory) and have
// no business on the playground's public origin, where anyone could read
// them and every request would show up in them.

// MetricsOff as Config.MetricsAddr serves no metrics at all.
const MetricsOff = "off"

// metricsPortOffset places the default metrics port after the playground's
// and the preview's (8080, 8081, 8082), so that several servers on one
// machine, each with its own -addr, get distinct ports without configuration.
const metricsPortOffset = 2

// defaultMetricsAddr is loopback on the main address's port plus
// metricsPortOffset; port 0 stays 0 (tests ask for any free port).
func defaultMetricsAddr(addr string) (string, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("server: cannot derive the metrics address from %q (%v): set the metrics address", addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535-metricsPortOffset {
		return "", fmt.Errorf("server: cannot derive the metrics address from port %q: set the metrics address", port)
	}
	if n > 0 {
		n += metricsPortOffset
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(n)), nil
}

// openMetrics starts the metrics listener unless it is off.
func (s *Server) openMetrics() error {
	addr := s.cfg.MetricsAddr
	if addr == MetricsOff {
		return nil
	}
	if addr == "" {
		var err error
		if addr, err = defaultMetricsAddr(s.cfg.Addr); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: listen for metrics on %s: %w (set -metrics-addr / PYPLAY_METRICS_ADDR, or %q)", addr, err, MetricsOff)
	}
	s.metricsLn = ln
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	s.metricsHTTP = s.serve(ln, mux, "serve metrics")
	s.log.Info("serving metrics", "url", s.MetricsURL()+"/metrics")
	return nil
}

// MetricsURL is where the metrics listener listens, as http://host:port
// (its path is /metrics), or "" when there is none.
func (s *Server) MetricsURL() string {
	if s.metricsLn == nil {
		return ""
	}
	return "http://" + s.metricsLn.Addr().String()
}
