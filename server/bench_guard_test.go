package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/snippets"
)

// These tests attack the benchmark WebSocket of a whole server on real
// sockets: what one client may store there, the disk floor, and how the
// server says goodbye.

// wsClient speaks the benchmark protocol by hand.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
	seq  int64
}

func dialWS(t testing.TB, s *Server, from string) *wsClient {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	if from != "" {
		d.NetDialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext
	}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(s.URL(), "http")+"/ws", nil)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial /ws: %v (status %d)", err, status)
	}
	t.Cleanup(func() { conn.Close() })
	return &wsClient{t: t, conn: conn}
}

func (c *wsClient) send(typ string, payload any) int64 {
	c.t.Helper()
	c.seq++
	b, _ := json.Marshal(map[string]any{"v": 1, "type": typ, "seq": c.seq, "payload": payload})
	if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatal(err)
	}
	return c.seq
}

func (c *wsClient) next() *benchproto.Message {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	m, err := benchproto.DecodeServer(data)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// answer sends a message and returns the server's ack or error for it.
func (c *wsClient) answer(typ string, payload any) (*benchproto.Ack, *benchproto.ErrorInfo) {
	c.t.Helper()
	seq := c.send(typ, payload)
	m := c.next()
	switch p := m.Payload.(type) {
	case *benchproto.Ack:
		if p.Ack == seq {
			return p, nil
		}
	case *benchproto.ErrorInfo:
		if p.Ref == seq {
			return nil, p
		}
	}
	c.t.Fatalf("answer to %d: %s %+v", seq, m.Type, m.Payload)
	return nil, nil
}

func (c *wsClient) producer() {
	c.t.Helper()
	c.send("hello", map[string]any{"role": "producer", "client": "test/1"})
	if m := c.next(); m.Type != benchproto.TypeWelcome {
		c.t.Fatalf("want welcome, got %s", m.Type)
	}
}

func runStart(id, snippet string) map[string]any {
	return map[string]any{"run": map[string]any{"id": id, "snippet": snippet, "runtime": "pyodide"}}
}

func batchOf(run string, batch, n int) map[string]any {
	ss := make([]map[string]any, n)
	for i := range ss {
		ss[i] = map[string]any{"seq": batch*1000 + i, "warmup": false, "ns": 1000, "iters": 1}
	}
	return map[string]any{"run": run, "batch": batch, "samples": ss}
}

// storedSnippet stores a snippet for runs to belong to.
func storedSnippet(t testing.TB, st snippets.Store) string {
	t.Helper()
	sn := &snippets.Snippet{Code: "sum(range(10))", Runtime: snippets.Pyodide}
	sn.Seal()
	if _, err := st.Put(context.Background(), sn); err != nil {
		t.Fatal(err)
	}
	return sn.ID
}

// metricLine returns the value of one series in the server's metrics, ""
// when absent.
func metricLine(t testing.TB, s *Server, series string) string {
	for _, line := range strings.Split(scrape(t, s), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// TestBenchDailyQuota: one client address stores at most its daily quota
// of benchmark data, however many connections it opens; the refusal says
// so (over_quota, with when to retry), stores nothing, and shows in the
// metrics. Another address is not affected.
func TestBenchDailyQuota(t *testing.T) {
	st := sqliteStore(t)
	snip := storedSnippet(t, st)
	// A run costs 512 bytes, a sample 64: a run and 40 samples fit, no more.
	s := openServer(t, Config{Store: st, BenchDailyBytesPerClient: 512 + 40*64})
	a := dialWS(t, s, "127.0.0.2")
	a.producer()
	if _, e := a.answer("run.start", runStart("r1", snip)); e != nil {
		t.Fatal(e)
	}
	if _, e := a.answer("samples", batchOf("r1", 0, 30)); e != nil {
		t.Fatal(e)
	}
	_, e := a.answer("samples", batchOf("r1", 1, 20))
	if e == nil || e.Code != benchproto.CodeOverQuota || e.RetryAfterMs < int64(time.Hour/time.Millisecond) {
		t.Fatalf("samples over the quota: %+v", e)
	}
	if _, e := a.answer("samples", batchOf("r1", 1, 10)); e != nil {
		t.Errorf("samples within the quota after a refusal: %+v", e)
	}
	b := dialWS(t, s, "127.0.0.2") // the same client on another connection
	b.producer()
	if _, e := b.answer("run.start", runStart("r2", snip)); e == nil || e.Code != benchproto.CodeOverQuota || e.RetryAfterMs <= 0 ||
		!strings.Contains(e.Message, "at most 3 KiB a day") {
		t.Errorf("a second run over the quota: %+v", e)
	}
	if r, _ := st.GetRun(context.Background(), "r1"); r.SampleCount != 40 {
		t.Errorf("%d samples stored, want 40", r.SampleCount)
	}
	other := dialWS(t, s, "127.0.0.3")
	other.producer()
	if _, e := other.answer("run.start", runStart("r3", snip)); e != nil {
		t.Errorf("another address: %+v", e)
	}
	if got := metricLine(t, s, `pyplay_bench_refused_total{reason="over_quota"}`); got != "2" {
		t.Errorf("over_quota refusals in the metrics: %q, want 2", got)
	}
}

// TestBenchRunRate: one client address starts at most BenchRunsPerMinute
// runs a minute across its connections; resuming a run is not a new one.
func TestBenchRunRate(t *testing.T) {
	st := sqliteStore(t)
	snip := storedSnippet(t, st)
	s := openServer(t, Config{Store: st, BenchRunsPerMinute: 2})
	c := dialWS(t, s, "")
	c.producer()
	var token string
	for i := range 2 {
		ack, e := c.answer("run.start", runStart(fmt.Sprintf("r%d", i), snip))
		if e != nil {
			t.Fatal(e)
		}
		token = ack.Token
	}
	d := dialWS(t, s, "")
	d.producer()
	_, e := d.answer("run.start", runStart("r9", snip))
	if e == nil || e.Code != benchproto.CodeRateLimited || e.RetryAfterMs <= 0 {
		t.Fatalf("a third new run: %+v", e)
	}
	resume := runStart("r1", snip)
	resume["token"] = token
	if _, e := d.answer("run.start", resume); e != nil {
		t.Errorf("resuming a run at the rate limit: %+v", e)
	}
	if got := metricLine(t, s, `pyplay_bench_refused_total{reason="run_rate"}`); got != "1" {
		t.Errorf("run_rate refusals in the metrics: %q", got)
	}
}

// TestBenchDiskFloor: below the free-disk floor, new runs and samples are
// refused as unavailable with a retry hint, and nothing is stored.
func TestBenchDiskFloor(t *testing.T) {
	st := sqliteStore(t)
	snip := storedSnippet(t, st)
	s := openServer(t, Config{Store: st, MinFreeDisk: 1 << 62})
	c := dialWS(t, s, "")
	c.producer()
	_, e := c.answer("run.start", runStart("r1", snip))
	if e == nil || e.Code != benchproto.CodeUnavailable || e.RetryAfterMs != 60_000 || !strings.Contains(e.Message, "disk") {
		t.Fatalf("run.start below the floor: %+v", e)
	}
	if n, _ := st.CountRuns(context.Background(), snip); n != 0 {
		t.Errorf("%d runs stored below the floor", n)
	}
	if got := metricLine(t, s, `pyplay_bench_refused_total{reason="disk"}`); got != "1" {
		t.Errorf("disk refusals in the metrics: %q", got)
	}
}

// fullBatchStore fails AppendBatch as a store on a full disk does.
type fullBatchStore struct {
	snippets.Store
	full atomic.Bool
}

func (f *fullBatchStore) AppendBatch(ctx context.Context, b *snippets.Batch) (bool, error) {
	if f.full.Load() {
		return false, fmt.Errorf("sqlite: append batch: %w: database or disk is full (13)", snippets.ErrStorageFull)
	}
	return f.Store.AppendBatch(ctx, b)
}

// TestBenchDiskFull: a batch that fails for a full disk is answered
// unavailable with a retry hint, /healthz says "disk full", and the
// resent batch is stored once there is room.
func TestBenchDiskFull(t *testing.T) {
	st := &fullBatchStore{Store: sqliteStore(t)}
	snip := storedSnippet(t, st)
	s := openServer(t, Config{Store: st})
	c := dialWS(t, s, "")
	c.producer()
	if _, e := c.answer("run.start", runStart("r1", snip)); e != nil {
		t.Fatal(e)
	}
	st.full.Store(true)
	_, e := c.answer("samples", batchOf("r1", 0, 5))
	if e == nil || e.Code != benchproto.CodeUnavailable || e.RetryAfterMs != 60_000 {
		t.Fatalf("a batch on a full disk: %+v", e)
	}
	if status, out := getJSON(t, s.URL()+"/healthz"); status != 503 || out["store"] != "disk full" {
		t.Errorf("healthz: %d %v", status, out)
	}
	st.full.Store(false)
	if ack, e := c.answer("samples", batchOf("r1", 0, 5)); e != nil || ack.Duplicate {
		t.Fatalf("the batch resent once there is room: %+v %+v", ack, e)
	}
	if r, _ := st.GetRun(context.Background(), "r1"); r.SampleCount != 5 {
		t.Errorf("%d samples stored, want 5", r.SampleCount)
	}
}

// TestWebSocketsCountTowardConnectionLimits: a WebSocket is a connection
// like any other for the limit per client address.
func TestWebSocketsCountTowardConnectionLimits(t *testing.T) {
	s := openServer(t, Config{Store: sqliteStore(t), MaxConnsPerClient: 2})
	dialWS(t, s, "127.0.0.2").producer()
	dialWS(t, s, "127.0.0.2").producer()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second,
		NetDialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}
	_, res, err := d.Dial("ws"+strings.TrimPrefix(s.URL(), "http")+"/ws", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("a third WebSocket from one address: %v, status %d; want 503", err, status)
	}
	dialWS(t, s, "127.0.0.3").producer() // another address meanwhile
}

// TestShutdownTellsWebSocketsFirst: Close sends WebSocket clients 1001 at
// once, while HTTP draining still waits for a stalled client.
func TestShutdownTellsWebSocketsFirst(t *testing.T) {
	st := sqliteStore(t)
	s, err := New(Config{Addr: "127.0.0.1:0", PreviewAddr: "127.0.0.1:0", Static: testStatic(t), Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	viewer := dialWS(t, s, "")
	viewer.send("hello", map[string]any{"role": "viewer", "client": "test/1"})
	viewer.next()
	// A request whose body never comes: draining waits for it.
	stalled, err := net.Dial("tcp", hostPort(s.URL()))
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	io.WriteString(stalled, "POST /api/snippets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	waitFor(t, "the stalled request to be open", func() bool { return openConns(t, s) == "2" })

	closed := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() { closed <- s.Close(ctx) }()
	viewer.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = viewer.conn.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("the viewer got %v, want a 1001 close", err)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the stalled client went: the 1001 did not come first", err)
	default:
	}
	stalled.Close()
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
}
