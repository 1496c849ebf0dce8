package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	"sync/atomic"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/pyplay/pyplay/server/response"
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

// deadlineRecorder is a ResponseWriter that notes each write deadline set
// and how many bytes each write between them carried.
type deadlineRecorder struct {
	httptest.ResponseRecorder
	events []string // "deadline" or "write N"
}

func (r *deadlineRecorder) SetWriteDeadline(time.Time) error {
	r.events = append(r.events, "deadline")
	return nil
}

func (r *deadlineRecorder) Write(p []byte) (int, error) {
	r.events = append(r.events, fmt.Sprintf("write %d", len(p)))
	return r.ResponseRecorder.Write(p)
}

// TestWriteDeadlineIsARate: the write deadline is extended before every
// 32 KiB, however the handler writes, so that a large response needs a
// minimum rate, not a fixed total time.
func TestWriteDeadlineIsARate(t *testing.T) {
	rec := &deadlineRecorder{ResponseRecorder: *httptest.NewRecorder()}
	s := newTestServer(t)
	big := bytes.Repeat([]byte("x"), 3*progressChunk+100)
	s.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(big)
		w.Write([]byte("tail"))
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	want := []string{"deadline", // at the start: a handler that only sets a status
		"deadline", "write 32768", "deadline", "write 32768", "deadline", "write 32768", "deadline", "write 100",
		"deadline", "write 4",
		"deadline"} // for what the server flushes after the handler
	if fmt.Sprint(rec.events) != fmt.Sprint(want) {
		t.Errorf("events %v\nwant %v", rec.events, want)
	}
	if rec.Body.Len() != len(big)+4 {
		t.Errorf("body of %d bytes, want %d", rec.Body.Len(), len(big)+4)
	}
}

// dialSmallWindow connects with a tiny receive buffer, so that a response
// the client does not read fills the socket quickly.
func dialSmallWindow(t testing.TB, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// hostPort is a server URL's host:port.
func hostPort(url string) string { return strings.TrimPrefix(url, "http://") }

// TestReaderThatNeverReads: a client that asks for a large file and never
// reads it loses its connection, and the handler returns, within a few
// timeouts.
func TestReaderThatNeverReads(t *testing.T) {
	const size = 32 << 20 // more than loopback's socket buffers hold
	static := testStatic(t)
	static["dist/runtime/pyodide/1.0.0/big.wasm"] = &fstest.MapFile{Data: bytes.Repeat([]byte{0}, size)}
	var logs logBuffer
	s := openServer(t, Config{Static: static, Logger: logs.logger(), SlowClientTimeout: 200 * time.Millisecond})
	conn := dialSmallWindow(t, hostPort(s.URL()))
	fmt.Fprintf(conn, "GET /runtime/pyodide/1.0.0/big.wasm HTTP/1.1\r\nHost: x\r\n\r\n")
	waitFor(t, "the handler of the stalled download to return", func() bool {
		return strings.Contains(logs.String(), "path=/runtime/pyodide/1.0.0/big.wasm")
	})
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, conn)
	if isTimeout(err) || n >= size {
		t.Errorf("read %d bytes (%v): the connection was not cut", n, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// trickle sends body one byte at a time, every interval, until it is sent
// or the connection breaks; it stops when the test ends.
func trickle(t testing.TB, conn net.Conn, body string, interval time.Duration) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	t.Cleanup(func() { close(done); <-stopped })
	go func() {
		defer close(stopped)
		for i := range len(body) {
			select {
			case <-done:
				return
			case <-time.After(interval):
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
}

// expectCut reads what the server sends until it closes the connection,
// failing if it is still open after a bound only a broken server reaches.
// It returns what was read.
func expectCut(t testing.TB, conn net.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got bytes.Buffer
	_, err := io.Copy(&got, conn)
	if isTimeout(err) {
		t.Fatalf("the connection is still open; received so far:\n%s", got.String())
	}
	return got.String()
}

// TestTrickledBodies: a request body trickled slowly, to any route, does not
// hold the connection.
func TestTrickledBodies(t *testing.T) {
	s := openServer(t, Config{Store: sqliteStore(t), SlowClientTimeout: 200 * time.Millisecond})
	body := `{"code": "` + strings.Repeat("x", 2000) + `"}`
	for _, head := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n",
		"POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n",
		"POST /api/snippets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
	} {
		t.Run(strings.Fields(head)[0]+" "+strings.Fields(head)[1], func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", hostPort(s.URL()), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if strings.Contains(head, "%d") {
				head = fmt.Sprintf(head, len(body))
			}
			io.WriteString(conn, head)
			trickle(t, conn, body, 20*time.Millisecond)
			expectCut(t, conn)
		})
	}
}

// TestShutdownCutsStalledClients: Close waits for requests in progress until
// its context is done, then cuts what is left, a client that stalled, and
// reports a clean shutdown.
func TestShutdownCutsStalledClients(t *testing.T) {
	st := sqliteStore(t)
	s, err := New(Config{Addr: "127.0.0.1:0", PreviewAddr: "127.0.0.1:0", Static: testStatic(t), Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", hostPort(s.URL()), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /api/snippets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Expect: 100-continue\r\nContent-Length: 1000\r\n\r\n")
	// 100 Continue says the handler has started to read the body.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || !strings.Contains(line, "100") {
		t.Fatalf("answer %q, %v", line, err)
	}
	trickle(t, conn, `{"code": "`+strings.Repeat("x", 1000), 50*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Errorf("Close with a stalled client: %v, want nil", err)
	}
	expectCut(t, conn)
}

// TestHeaderLimit: a request header over the limit is answered 431.
func TestHeaderLimit(t *testing.T) {
	s := openServer(t, Config{})
	addr := hostPort(s.URL())
	ok := rawRequest(t, addr, "GET /api/ping HTTP/1.1\r\nHost: x\r\nX-Pad: "+strings.Repeat("a", DefaultMaxHeaderBytes/2)+"\r\n\r\n")
	if !strings.Contains(ok, " 200 ") {
		t.Errorf("a header of half the limit: %q", ok)
	}
	big := rawRequest(t, addr, "GET /api/ping HTTP/1.1\r\nHost: x\r\nX-Pad: "+strings.Repeat("a", 2*DefaultMaxHeaderBytes)+"\r\n\r\n")
	if !strings.Contains(big, " 431 ") {
		t.Errorf("a header of twice the limit: %q, want 431", big)
	}
}

// dialFrom opens a connection from a loopback address of the test's
// choosing (every 127.0.0.0/8 address is loopback), to play several clients.
func dialFrom(t testing.TB, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// openConns is what the server's gauge says is open.
func openConns(t testing.TB, s *Server) string {
	for _, line := range strings.Split(scrape(t, s), "\n") {
		if v, ok := strings.CutPrefix(line, "pyplay_http_connections_open "); ok {
			return v
		}
	}
	return ""
}

// pingFrom answers whether a request from the given address gets 200.
func pingFrom(t testing.TB, from, addr string) string {
	t.Helper()
	conn := dialFrom(t, from, addr)
	defer conn.Close()
	io.WriteString(conn, "GET /api/ping HTTP/1.1\r\nHost: x\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if isTimeout(err) {
		t.Fatalf("no answer from the server to %s", from)
	}
	return strings.TrimSpace(line)
}

// TestConnectionLimits: connections beyond the limit per client address, or
// in all, are refused at once; others and trusted proxies are not.
func TestConnectionLimits(t *testing.T) {
	s := openServer(t, Config{MaxConnsPerClient: 2, MaxConns: 4,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.9/32")}})
	addr := hostPort(s.URL())
	// Two idle connections: the client's share.
	a1, _ := dialFrom(t, "127.0.0.2", addr), dialFrom(t, "127.0.0.2", addr)
	waitFor(t, "two open connections", func() bool { return openConns(t, s) == "2" })
	if got := pingFrom(t, "127.0.0.2", addr); !strings.Contains(got, "503") {
		t.Errorf("a third connection from one address: %q, want 503", got)
	}
	if got := pingFrom(t, "127.0.0.3", addr); !strings.Contains(got, "200") {
		t.Errorf("another address meanwhile: %q", got)
	}
	// Closing one gives its place back.
	a1.Close()
	waitFor(t, "the closed connection to be released", func() bool { return pingFrom(t, "127.0.0.2", addr) == "HTTP/1.1 200 OK" })

	// A trusted proxy is not limited per address, only in all.
	for range 3 {
		dialFrom(t, "127.0.0.9", addr)
	}
	waitFor(t, "four open connections", func() bool { return openConns(t, s) == "4" })
	if got := pingFrom(t, "127.0.0.4", addr); !strings.Contains(got, "503") {
		t.Errorf("a connection over the total: %q, want 503", got)
	}
	metrics := scrape(t, s)
	for _, want := range []string{`pyplay_http_connections_refused_total{reason="client"} `, `pyplay_http_connections_refused_total{reason="total"} `} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s\n%s", want, metrics)
		}
	}
}

// TestPageCacheIgnoresHost: a snippet's page is the same whatever Host a
// request names, so random Host headers can neither make pages of their
// own (rendering each anew) nor push other pages out of the cache.
func TestPageCacheIgnoresHost(t *testing.T) {
	s := openServer(t, Config{Static: previewStatic(t), Store: sqliteStore(t)})
	id := shareSnippet(t, s.Handler(), map[string]any{"code": "print('hosts')"})
	client := &http.Client{Timeout: 5 * time.Second}
	etags := map[string]bool{}
	for i := range 20 {
		req, _ := http.NewRequest("GET", s.URL()+"/s/"+id, nil)
		req.Host = fmt.Sprintf("h%d-%s.example:%d", i, randomToken(8), 1000+i)
		req.Header.Set("X-Forwarded-Proto", "https")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || strings.Contains(string(body), ".example") || strings.Contains(string(body), "https:") {
			t.Fatalf("status %d; the page names the request's Host or scheme:\n%s", res.StatusCode, body)
		}
		etags[res.Header.Get("ETag")] = true
	}
	if len(etags) != 1 {
		t.Errorf("%d representations of one page for 20 Host headers", len(etags))
	}
}

// fullStore fails writes as a store on a full disk does while full is set.
type fullStore struct {
	snippets.Store
	full atomic.Bool
}

func (f *fullStore) Put(ctx context.Context, sn *snippets.Snippet) (bool, error) {
	if f.full.Load() {
		return false, fmt.Errorf("sqlite: put %s: %w: database or disk is full (13)", sn.ID, snippets.ErrStorageFull)
	}
	return f.Store.Put(ctx, sn)
}

// getJSON fetches url and decodes its JSON body into a map of strings.
func getJSON(t testing.TB, url string) (int, map[string]string) {
	t.Helper()
	res, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]string
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, out
}

// post sends a snippet to the server and returns the status, Retry-After
// and error code.
func post(t testing.TB, base, body string) (status int, retryAfter, code string) {
	t.Helper()
	res, err := (&http.Client{Timeout: 5 * time.Second}).Post(base+"/api/snippets", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e response.ErrorBody
	json.NewDecoder(res.Body).Decode(&e)
	return res.StatusCode, res.Header.Get("Retry-After"), e.Error.Code
}

// TestDiskFull: a write that fails for a full disk answers 503 with
// Retry-After, /healthz says why, and both recover with the next write
// that succeeds.
func TestDiskFull(t *testing.T) {
	st := &fullStore{Store: sqliteStore(t)}
	st.full.Store(true)
	var logs logBuffer
	s := openServer(t, Config{Store: st, Logger: logs.logger()})
	if status, ra, code := post(t, s.URL(), `{"code": "print('full')"}`); status != 503 || ra == "" || code != "unavailable" {
		t.Errorf("POST on a full disk: %d, Retry-After %q, code %q; want 503, a Retry-After, unavailable", status, ra, code)
	}
	if status, out := getJSON(t, s.URL()+"/healthz"); status != 503 || out["store"] != "disk full" {
		t.Errorf("healthz on a full disk: %d %v", status, out)
	}
	if !strings.Contains(scrape(t, s), "pyplay_store_full_errors_total 1") {
		t.Error("the full-disk failure is not in the metrics")
	}
	st.full.Store(false)
	if status, _, _ := post(t, s.URL(), `{"code": "print('room again')"}`); status != 201 {
		t.Errorf("POST once there is room: %d", status)
	}
	if status, out := getJSON(t, s.URL()+"/healthz"); status != 200 || out["store"] != "ok" {
		t.Errorf("healthz once there is room: %d %v", status, out)
	}
}

// TestDiskFloor: below the free-disk floor new snippets get 503 with
// Retry-After and /healthz says "disk low"; what is stored stays readable.
func TestDiskFloor(t *testing.T) {
	st := sqliteStore(t)
	sn := &snippets.Snippet{Code: "print('stored before')", Runtime: snippets.Pyodide}
	sn.Seal()
	if _, err := st.Put(context.Background(), sn); err != nil {
		t.Fatal(err)
	}
	s := openServer(t, Config{Store: st, MinFreeDisk: 1 << 62}) // more than any disk has
	if status, ra, code := post(t, s.URL(), `{"code": "print('new')"}`); status != 503 || ra == "" || code != "unavailable" {
		t.Errorf("POST below the floor: %d, Retry-After %q, code %q", status, ra, code)
	}
	if status, out := getJSON(t, s.URL()+"/healthz"); status != 503 || out["store"] != "disk low" {
		t.Errorf("healthz below the floor: %d %v", status, out)
	}
	if status, _ := getJSON(t, s.URL()+"/api/snippets/"+sn.ID); status != 200 {
		t.Errorf("reading a stored snippet below the floor: %d", status)
	}
	metrics := scrape(t, s)
	if !strings.Contains(metrics, "pyplay_store_writable 0") || !strings.Contains(metrics, "pyplay_disk_free_bytes ") {
		t.Errorf("metrics lack the disk state")
	}

	// The default floor is far below this machine's free space.
	ok := openServer(t, Config{Store: sqliteStore(t)})
	if status, _, _ := post(t, ok.URL(), `{"code": "print('new')"}`); status != 201 {
		t.Errorf("POST with the default floor: %d", status)
	}
}

// TestHealthzIsShort: /healthz is public: it says the store is unavailable,
// and only the log has the driver's error, which may name hosts and users.
func TestHealthzIsShort(t *testing.T) {
	var logs logBuffer
	st := secretOutage{}
	s := openServer(t, Config{Store: st, Logger: logs.logger()})
	status, out := getJSON(t, s.URL()+"/healthz")
	if status != 503 || out["status"] != "unavailable" || out["store"] != "unavailable" {
		t.Errorf("healthz: %d %v", status, out)
	}
	if fmt.Sprint(out) == "" || strings.Contains(fmt.Sprint(out), "db.internal") {
		t.Errorf("healthz shows the error: %v", out)
	}
	if !strings.Contains(logs.String(), "db.internal") {
		t.Errorf("the log lacks the error:\n%s", logs.String())
	}
}

// secretOutage fails like a PostgreSQL server that refuses the login.
type secretOutage struct{ snippets.Store }

func (secretOutage) Ping(context.Context) error {
	return fmt.Errorf("postgres: ping: %w: failed to connect to `user=pyplay database=pyplay`: db.internal:5432: password authentication failed",
		snippets.Errorf(snippets.Unavailable, "the database is unavailable"))
}

// TestDailyQuota: one client may store so many bytes of new snippets a
// day; beyond that it gets 429 with a clear message. Others are not
// affected, and snippets that existed cost nothing.
func TestDailyQuota(t *testing.T) {
	s, _ := newSnippetServer(t, SnippetOptions{DailyBytesPerClient: 1000})
	h := s.Handler()
	create := func(remote, code string) *httptest.ResponseRecorder {
		return serveAPI(t, h, apiRequest{method: "POST", target: "/api/snippets", remote: remote,
			body: jsonOf(map[string]any{"code": code}), header: map[string]string{"Content-Type": "application/json"}})
	}
	code := func(i int) string { return fmt.Sprintf("print(%d)\n", i) + strings.Repeat("#", 390) }
	for i := range 2 {
		if rec := create("198.51.100.7:1", code(i)); rec.Code != 201 {
			t.Fatalf("snippet %d within the quota: %d %s", i, rec.Code, rec.Body)
		}
	}
	if rec := create("198.51.100.7:1", code(0)); rec.Code != 200 {
		t.Errorf("an existing snippet again: %d %s", rec.Code, rec.Body)
	}
	rec := create("198.51.100.7:1", code(2))
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("beyond the quota: %d %s", rec.Code, rec.Body)
	}
	if c, msg := apiErrorOf(t, rec); c != "rate_limited" || !strings.Contains(msg, "at most 1000 bytes a day") || !strings.Contains(msg, "try again in 24 hours") {
		t.Errorf("error %s: %s", c, msg)
	}
	if ra := rec.Header().Get("Retry-After"); ra != "86400" && ra != "86399" {
		t.Errorf("Retry-After %q, want a day", ra)
	}
	if rec := create("198.51.100.8:1", code(2)); rec.Code != 201 {
		t.Errorf("another client: %d", rec.Code)
	}
	if !strings.Contains(scrape(t, s), `pyplay_snippet_creations_total{result="over_quota"} 1`) {
		t.Error("the refusal is not in the metrics")
	}
}

func TestByteQuotaWindow(t *testing.T) {
	q := newByteQuota(100)
	t0 := time.Unix(1_000_000, 0)
	if ok, _, _ := q.reserve("a", 60, t0); !ok {
		t.Fatal("within the quota")
	}
	if ok, used, wait := q.reserve("a", 60, t0.Add(time.Hour)); ok || used != 60 || wait != 23*time.Hour {
		t.Errorf("beyond: ok %v, used %d, wait %v", ok, used, wait)
	}
	q.refund("a", 60)
	if ok, _, _ := q.reserve("a", 100, t0.Add(time.Hour)); !ok {
		t.Error("a refund gives the bytes back")
	}
	if ok, _, _ := q.reserve("a", 100, t0.Add(quotaWindow)); !ok {
		t.Error("a day later the quota is whole again")
	}
}

// TestEndlessBody: a body that never ends, sent as fast as the network
// takes it, is not read for long: the answer comes, and the connection
// is closed.
func TestEndlessBody(t *testing.T) {
	s := openServer(t, Config{Store: sqliteStore(t)})
	for _, target := range []string{"/", "/api/snippets"} {
		t.Run(target, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", hostPort(s.URL()), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			io.WriteString(conn, "POST "+target+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
			go func() {
				chunk := []byte(fmt.Sprintf("%x\r\n%s\r\n", 1<<14, bytes.Repeat([]byte(" "), 1<<14)))
				for {
					if _, err := conn.Write(chunk); err != nil {
						return
					}
				}
			}()
			if got := expectCut(t, conn); !strings.HasPrefix(got, "HTTP/1.1 4") {
				t.Errorf("answer %.200q, want a 4xx", got)
			}
		})
	}
}
