package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/sqlite"
)

// These tests attack a server that listens on real sockets (New, then Open
// on 127.0.0.1:0), as a hostile client on the internet would.

// openServer starts a server on loopback ports chosen by the system; cfg's
// Static defaults to testStatic. The server is closed when the test ends.
func openServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Static == nil {
		cfg.Static = testStatic(t)
	}
	cfg.Addr = "127.0.0.1:0"
	if cfg.PreviewAddr == "" {
		cfg.PreviewAddr = "127.0.0.1:0"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		s.cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Close(ctx)
	})
	return s
}

// scrape reads the server's metrics as Prometheus would, without a socket.
func scrape(t testing.TB, s *Server) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// logBuffer collects a server's log lines, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitFor polls cond until it holds, failing the test after a bound that
// only a broken server reaches.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func randomToken(n int) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}

// TestOddMethodsMakeNoSeries: Go accepts any token as a method, up to the
// header limit. Requests with long random methods must neither add metric
// series nor write long log lines.
func TestOddMethodsMakeNoSeries(t *testing.T) {
	var logs logBuffer
	s := openServer(t, Config{Logger: logs.logger()})
	client := &http.Client{Timeout: 5 * time.Second}
	for range 50 {
		req, err := http.NewRequest(randomToken(4000), s.URL()+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	series := 0
	for _, line := range strings.Split(scrape(t, s), "\n") {
		if strings.HasPrefix(line, "pyplay_http_requests_total{") {
			series++
			if !strings.Contains(line, `method="OTHER"`) {
				t.Errorf("series %s", line)
			}
		}
	}
	if series == 0 || series > 2 {
		t.Errorf("%d request series after 50 random methods, want 1 or 2", series)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if len(line) > 1000 {
			t.Errorf("log line of %d bytes: %.200s…", len(line), line)
		}
	}
}

// TestMetricsOnTheirOwnListener: /metrics is never on the playground's
// origin, only on the metrics listener.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	s := openServer(t, Config{})
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(url string) (int, string) {
		t.Helper()
		res, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := get(s.URL() + "/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics on the playground: %d, want 404", code)
	}
	if code, _ := get(s.PreviewURL() + "/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics on the preview origin: %d, want 404", code)
	}
	if s.MetricsURL() == "" || s.MetricsURL() == s.URL() {
		t.Fatalf("metrics URL %q, playground %q", s.MetricsURL(), s.URL())
	}
	code, body := get(s.MetricsURL() + "/metrics")
	if code != http.StatusOK || !strings.Contains(body, `pyplay_http_requests_total{method="GET",route="unmatched",status="404"} 1`) {
		t.Errorf("metrics listener: %d\n%s", code, body)
	}
	if !strings.HasPrefix(s.MetricsURL(), "http://127.0.0.1:") {
		t.Errorf("metrics at %s, want loopback", s.MetricsURL())
	}

	off := openServer(t, Config{MetricsAddr: MetricsOff})
	if off.MetricsURL() != "" {
		t.Errorf("metrics off, yet served at %s", off.MetricsURL())
	}
}

func TestDefaultMetricsAddr(t *testing.T) {
	for in, want := range map[string]string{
		":8080":          "127.0.0.1:8082",
		"0.0.0.0:80":     "127.0.0.1:82",
		"[::]:9000":      "127.0.0.1:9002",
		"127.0.0.1:0":    "127.0.0.1:0",
		"example:65535":  "",
		"no-port":        "",
		"localhost:http": "",
	} {
		got, err := defaultMetricsAddr(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("defaultMetricsAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// rawRequest sends raw bytes on a new connection and returns the status
// line of the answer ("" if the server closed without one).
func rawRequest(t testing.TB, addr, request string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	go io.Copy(conn, strings.NewReader(request)) // the server may answer before it read everything
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line)
}

// TestClientBehindRealIPProxy: behind a trusted proxy that sets only
// X-Real-IP (a common nginx set-up), a client rotating its own
// X-Forwarded-For must not escape the rate limit.
func TestClientBehindRealIPProxy(t *testing.T) {
	st := sqliteStore(t)
	s := openServer(t, Config{Store: st, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Snippets: SnippetOptions{CreatesPerMinute: 20, CreateBurst: 20}})
	client := &http.Client{Timeout: 5 * time.Second}
	statuses := map[int]int{}
	for i := range 25 {
		req, _ := http.NewRequest("POST", s.URL()+"/api/snippets", strings.NewReader(fmt.Sprintf(`{"code":"print(%d)"}`, i)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Real-IP", "203.0.113.9")                         // set by the proxy
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)) // passed on from the client
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		statuses[res.StatusCode]++
	}
	if statuses[http.StatusCreated] != 20 || statuses[http.StatusTooManyRequests] != 5 {
		t.Errorf("statuses %v, want 20 × 201 then 5 × 429", statuses)
	}
}

func sqliteStore(t testing.TB) snippets.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pyplay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
