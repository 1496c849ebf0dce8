package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/server/bench/hub"
	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/sqlite"
)

// benchEnv is a Lab on a real SQLite store behind httptest, with one
// stored snippet, answering errors as the application does.
type benchEnv struct {
	lab     *Lab
	http    *httptest.Server
	store   snippets.Store
	url     string // ws://…/ws
	snippet string
	stop    func() // ends Run and waits for it, as the server's Close does
	// registry holds the lab's metrics.
	registry *prometheus.Registry
}

func newBenchEnv(t testing.TB, ws WSConfig) *benchEnv {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pyplay.db"))
	if err != nil {
		t.Fatal(err)
	}
	return newBenchEnvStore(t, ws, store)
}

func newBenchEnvStore(t testing.TB, ws WSConfig, store snippets.Store) *benchEnv {
	t.Helper()
	return newBenchEnvListener(t, ws, store, nil)
}

// newBenchEnvListener serves on ln when it is not nil.
func newBenchEnvListener(t testing.TB, ws WSConfig, store snippets.Store, ln net.Listener) *benchEnv {
	t.Helper()
	pages, err := template.ParseGlob("../../static/templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	lab, err := New(Config{
		Store:   store,
		WS:      ws,
		Metrics: reg,
		// The application's lookup (package server) adds a cache and its
		// messages; the store's answers are what the lab relies on.
		Snippet: func(c echo.Context, id string) (*snippets.Snippet, error) {
			return store.Get(c.Request().Context(), id)
		},
		Render: func(c echo.Context, status int, name string, data any) error {
			var buf bytes.Buffer
			if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
				return err
			}
			return c.HTMLBlob(status, buf.Bytes())
		},
		Manifest: func() *frontend.Manifest {
			return &frontend.Manifest{Build: "testbuild", Entries: map[string]string{"main": "/assets/main-ABC.js", "worker": "/assets/worker-DEF.js"}}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = response.ErrorHandler(slog.New(slog.DiscardHandler))
	lab.Routes(e)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		lab.Run(ctx)
	}()
	stop := func() { cancel(); <-ran }
	hs := httptest.NewUnstartedServer(e)
	if ln != nil {
		hs.Listener.Close()
		hs.Listener = ln
	}
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		stop()
		store.Close()
	})
	sn := &snippets.Snippet{Code: "sum(range(1000))\n", Runtime: snippets.Pyodide, Title: "sum"}
	sn.Seal()
	if _, err := store.Put(context.Background(), sn); err != nil {
		t.Fatal(err)
	}
	return &benchEnv{lab: lab, http: hs, store: store, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws", snippet: sn.ID, stop: stop, registry: reg}
}

// rawClient speaks the protocol by hand, to send exactly what a test
// wants, good or bad.
type rawClient struct {
	t    testing.TB
	conn *websocket.Conn
	seq  int64
}

func dialRaw(t testing.TB, url string, header http.Header) *rawClient {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn}
}

// send writes a message with the next seq and returns that seq.
func (c *rawClient) send(typ string, payload any) int64 {
	c.t.Helper()
	c.seq++
	b, err := json.Marshal(map[string]any{"v": 1, "type": typ, "seq": c.seq, "payload": payload})
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(string(b))
	return c.seq
}

func (c *rawClient) sendRaw(frame string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		c.t.Fatal(err)
	}
}

// next reads the next server message.
func (c *rawClient) next() *benchproto.Message {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	m, err := benchproto.DecodeServer(data)
	if err != nil {
		c.t.Fatalf("decode %s: %v", data, err)
	}
	return m
}

// ack reads the next message and requires it to ack seq.
func (c *rawClient) ack(seq int64) *benchproto.Ack {
	c.t.Helper()
	m := c.next()
	a, ok := m.Payload.(*benchproto.Ack)
	if !ok {
		c.t.Fatalf("want ack of %d, got %s %+v", seq, m.Type, m.Payload)
	}
	if a.Ack != seq {
		c.t.Fatalf("ack of %d, want %d", a.Ack, seq)
	}
	return a
}

// fail reads the next message and requires an error with code for seq.
func (c *rawClient) fail(seq int64, code string) *benchproto.ErrorInfo {
	c.t.Helper()
	m := c.next()
	e, ok := m.Payload.(*benchproto.ErrorInfo)
	if !ok {
		c.t.Fatalf("want error %s for %d, got %s %+v", code, seq, m.Type, m.Payload)
	}
	if e.Code != code || e.Ref != seq {
		c.t.Fatalf("error %s for %d (%s), want %s for %d", e.Code, e.Ref, e.Message, code, seq)
	}
	return e
}

// closeCode reads until the connection ends and returns the close code.
func (c *rawClient) closeCode() int {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.conn.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			c.t.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}

func (c *rawClient) hello(role string) {
	c.t.Helper()
	c.send("hello", map[string]any{"role": role, "client": "test/1"})
	if m := c.next(); m.Type != benchproto.TypeWelcome {
		c.t.Fatalf("want welcome, got %s %+v", m.Type, m.Payload)
	}
}

func (c *rawClient) startRun(run, snippet string) *benchproto.Ack {
	c.t.Helper()
	return c.ack(c.sendStart(run, snippet, "pyodide", ""))
}

// resumeRun sends run.start again with the run's token, as a producer does
// after reconnecting.
func (c *rawClient) resumeRun(run, snippet, token string) *benchproto.Ack {
	c.t.Helper()
	return c.ack(c.sendStart(run, snippet, "pyodide", token))
}

// sendStart sends a run.start, with a token when it is not empty.
func (c *rawClient) sendStart(run, snippet, runtime, token string) int64 {
	c.t.Helper()
	p := map[string]any{"run": map[string]any{
		"id": run, "snippet": snippet, "runtime": runtime, "runtimeVersion": "0.28.0",
		"env": map[string]any{"userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0", "cores": 2, "timerResolutionNs": 5000},
	}}
	if token != "" {
		p["token"] = token
	}
	return c.send("run.start", p)
}

func samplesPayload(run string, batch, firstSeq, n int) map[string]any {
	ss := make([]map[string]any, n)
	for i := range ss {
		ss[i] = map[string]any{"seq": firstSeq + i, "warmup": firstSeq+i == 0, "ns": 1000 + firstSeq + i, "iters": 10}
	}
	return map[string]any{"run": run, "batch": batch, "samples": ss}
}

// viewer follows a snippet's runs as a dashboard does, speaking the
// protocol by hand like rawClient (the Go client, cmd/internal/benchclient,
// is tested against a real server there).
type viewer struct {
	*rawClient
	pending [][]byte // messages of the last frame not returned yet
}

// viewer connects a viewer of the env's snippet.
func (e *benchEnv) viewer(t testing.TB) *viewer { return e.dialViewer(t, false) }

// dialViewer connects a viewer of the env's snippet that asks for
// coalesced frames or not; when it returns, the subscription is in effect.
func (e *benchEnv) dialViewer(t testing.TB, coalesce bool) *viewer {
	t.Helper()
	v := &viewer{rawClient: dialRaw(t, e.url, nil)}
	v.send("hello", map[string]any{"role": "viewer", "client": "test/1", "snippet": e.snippet, "coalesce": coalesce})
	if m, err := v.Next(5 * time.Second); err != nil || m.Type != benchproto.TypeWelcome {
		t.Fatalf("want welcome, got %v (%v)", m, err)
	}
	return v
}

// Next returns the next server message within timeout: one message even
// when the server coalesced several into a frame.
func (v *viewer) Next(timeout time.Duration) (*benchproto.Message, error) {
	for len(v.pending) == 0 {
		v.conn.SetReadDeadline(time.Now().Add(timeout))
		_, frame, err := v.conn.ReadMessage()
		if err != nil {
			return nil, err
		}
		if v.pending, err = benchproto.SplitFrame(frame); err != nil {
			return nil, err
		}
	}
	data := v.pending[0]
	v.pending = v.pending[1:]
	return benchproto.DecodeServer(data)
}

func nextFor(t *testing.T, v *viewer) *benchproto.Message {
	t.Helper()
	m, err := v.Next(5 * time.Second)
	if err != nil {
		t.Fatalf("viewer: %v", err)
	}
	return m
}

func TestWSProducerAndTwoViewers(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	v1, v2 := e.viewer(t), e.viewer(t)

	p := dialRaw(t, e.url, nil)
	p.hello("producer")
	if a := p.startRun("run-1", e.snippet); a.Run != "run-1" || a.Duplicate {
		t.Fatalf("run.start ack %+v", a)
	}
	for b := 0; b < 3; b++ {
		seq := p.send("samples", samplesPayload("run-1", b, b*4, 4))
		if a := p.ack(seq); a.Batch == nil || *a.Batch != b || a.Duplicate {
			t.Fatalf("batch %d ack %+v", b, a)
		}
	}
	p.ack(p.send("run.end", map[string]any{"run": "run-1", "status": "done"}))

	for i, v := range []*viewer{v1, v2} {
		m := nextFor(t, v)
		st, ok := m.Payload.(*benchproto.RunStarted)
		if !ok || st.Run.ID != "run-1" || st.Run.Snippet != e.snippet || st.Run.Runtime != "pyodide" {
			t.Fatalf("viewer %d: first message %s %+v", i, m.Type, m.Payload)
		}
		for b := 0; b < 3; b++ {
			m := nextFor(t, v)
			rs, ok := m.Payload.(*benchproto.RunSamples)
			if !ok || rs.Batch != b || len(rs.Samples) != 4 || rs.Samples[0].Seq != b*4 || rs.Snippet != e.snippet {
				t.Fatalf("viewer %d: message %d: %s %+v", i, b, m.Type, m.Payload)
			}
		}
		m = nextFor(t, v)
		if end, ok := m.Payload.(*benchproto.RunEnded); !ok || end.Status != "done" || end.Run != "run-1" {
			t.Fatalf("viewer %d: last message %s %+v", i, m.Type, m.Payload)
		}
	}
	r, err := e.store.GetRun(context.Background(), "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "done" || len(r.Samples) != 12 || r.SampleCount != 12 {
		t.Fatalf("stored run: status %s, %d samples (count %d)", r.Status, len(r.Samples), r.SampleCount)
	}
	for i, s := range r.Samples {
		if s.Seq != i {
			t.Fatalf("sample %d has seq %d", i, s.Seq)
		}
	}
}

// A viewer that asks for coalesced frames gets every message, in order,
// whether the server sent it alone or in an array; one that does not ask
// gets one message per frame, even when messages queue up for it.
func TestWSCoalescedViewer(t *testing.T) {
	e, accepted := newNarrowEnv(t, WSConfig{Limits: benchproto.Limits{MaxBatchesPerSecond: 100000}})
	viewers := map[bool]*rawClient{}
	for _, coalesce := range []bool{false, true} {
		// The server's writes block long before the run's ~40 KB of
		// fan-out is written, and messages queue up.
		viewers[coalesce] = e.narrowViewer(t, accepted, coalesce)
	}
	// The viewers read nothing until the run has ended, so that messages
	// queue up for them (200 is below the send buffer: not dropped).
	const batches = 200
	p := dialRaw(t, e.url, nil)
	p.hello("producer")
	p.startRun("r1", e.snippet)
	for b := range batches {
		p.ack(p.send("samples", samplesPayload("r1", b, b*3, 3)))
	}
	p.ack(p.send("run.end", map[string]any{"run": "r1", "status": "done"}))

	for coalesce, v := range viewers {
		var types []string
		frames, next := 0, 0
		for len(types) == 0 || types[len(types)-1] != benchproto.TypeRunEnded {
			v.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, data, err := v.conn.ReadMessage()
			if err != nil {
				t.Fatalf("coalesce=%v: read after %d messages: %v", coalesce, len(types), err)
			}
			frames++
			msgs, err := benchproto.SplitFrame(data)
			if err != nil {
				t.Fatal(err)
			}
			if !coalesce && (len(msgs) != 1 || data[0] != '{') {
				t.Fatalf("a viewer that did not ask for coalescing got %.80s", data)
			}
			for _, raw := range msgs {
				m, err := benchproto.DecodeServer(raw)
				if err != nil {
					t.Fatal(err)
				}
				types = append(types, m.Type)
				if s, ok := m.Payload.(*benchproto.RunSamples); ok {
					if s.Batch != next || s.Run != "r1" || len(s.Samples) != 3 || s.Samples[0].Seq != next*3 {
						t.Fatalf("coalesce=%v: batch %d (run %s, %d samples), want batch %d", coalesce, s.Batch, s.Run, len(s.Samples), next)
					}
					next++
				}
			}
		}
		if len(types) != batches+2 || types[0] != benchproto.TypeRunStarted || next != batches {
			t.Fatalf("coalesce=%v: %d messages (%d batches), first %s; want run.started, %d batches, run.ended", coalesce, len(types), next, types[0], batches)
		}
		if coalesce && frames >= len(types) {
			t.Errorf("coalesce=true: %d messages in %d frames; queued messages were not coalesced", len(types), frames)
		}
		t.Logf("coalesce=%v: %d messages in %d frames", coalesce, len(types), frames)
	}
}

func TestWSRejectsBadMessages(t *testing.T) {
	e := newBenchEnv(t, WSConfig{Limits: benchproto.Limits{MaxSamplesPerBatch: 5}, MaxBadMessages: 100})
	p := dialRaw(t, e.url, nil)

	// Before hello.
	p.fail(p.send("run.start", map[string]any{"run": map[string]any{"id": "r", "snippet": e.snippet, "runtime": "pyodide"}}), benchproto.CodeNotAllowed)
	p.hello("producer")

	p.sendRaw(`{"v":1,"type":"samples",`)
	p.fail(0, benchproto.CodeBadJSON)
	p.sendRaw(`{"v":2,"type":"hello","seq":50,"payload":{}}`)
	p.fail(0, benchproto.CodeBadVersion) // the version is read before seq
	p.fail(p.send("explode", map[string]any{}), benchproto.CodeUnknownType)
	// Samples for a run never started.
	p.fail(p.send("samples", samplesPayload("nope", 0, 0, 1)), benchproto.CodeNotAllowed)
	// A snippet that does not exist.
	p.fail(p.send("run.start", map[string]any{"run": map[string]any{"id": "ghost", "snippet": "AAAAAAAAAAA", "runtime": "pyodide"}}), benchproto.CodeNotFound)
	// ... and its samples are refused: the store did not take the run.
	p.fail(p.send("samples", samplesPayload("ghost", 0, 0, 1)), benchproto.CodeNotAllowed)

	p.startRun("r1", e.snippet)
	// Oversized batch, NaN (null), out-of-order sample seqs.
	p.fail(p.send("samples", samplesPayload("r1", 0, 0, 6)), benchproto.CodeTooLarge)
	p.fail(p.send("samples", map[string]any{"run": "r1", "batch": 0, "samples": []any{map[string]any{"seq": 0, "warmup": false, "ns": nil, "iters": 1}}}), benchproto.CodeBadField)
	p.fail(p.send("samples", map[string]any{"run": "r1", "batch": 0, "samples": []any{
		map[string]any{"seq": 3, "warmup": false, "ns": 1, "iters": 1}, map[string]any{"seq": 2, "warmup": false, "ns": 1, "iters": 1}}}), benchproto.CodeBadField)
	// Envelope seq going backwards.
	p.seq -= 5
	p.fail(p.send("samples", samplesPayload("r1", 0, 0, 1)), benchproto.CodeBadSeq)
	p.seq += 10

	// Duplicates: acked as such, stored once; a sample seq stored by
	// another batch is a conflict.
	a := p.ack(p.send("samples", samplesPayload("r1", 0, 0, 3)))
	if a.Duplicate {
		t.Fatal("first batch acknowledged as duplicate")
	}
	if a := p.ack(p.send("samples", samplesPayload("r1", 0, 0, 3))); !a.Duplicate {
		t.Fatal("resent batch not acknowledged as duplicate")
	}
	p.fail(p.send("samples", samplesPayload("r1", 1, 2, 2)), benchproto.CodeConflict)
	// Batches out of order are fine: the batch number is an ID, not a position.
	p.ack(p.send("samples", samplesPayload("r1", 5, 10, 2)))
	p.ack(p.send("samples", samplesPayload("r1", 4, 5, 2)))

	// A viewer may not produce; a producer may not subscribe.
	p.fail(p.send("subscribe", map[string]any{"snippet": e.snippet}), benchproto.CodeNotAllowed)
	v := dialRaw(t, e.url, nil)
	v.hello("viewer")
	v.fail(v.send("run.start", map[string]any{"run": map[string]any{"id": "v", "snippet": e.snippet, "runtime": "pyodide"}}), benchproto.CodeNotAllowed)

	// A run ID taken by another snippet's run is a conflict, and its
	// samples are not accepted on this connection.
	other := &snippets.Snippet{Code: "pass\n", Runtime: snippets.Pyodide}
	other.Seal()
	if _, err := e.store.Put(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	p2 := dialRaw(t, e.url, nil)
	p2.hello("producer")
	p2.fail(p2.send("run.start", map[string]any{"run": map[string]any{"id": "r1", "snippet": other.ID, "runtime": "pyodide"}}), benchproto.CodeConflict)
	p2.fail(p2.send("samples", samplesPayload("r1", 9, 50, 1)), benchproto.CodeNotAllowed)

	r, err := e.store.GetRun(context.Background(), "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Samples) != 7 {
		t.Fatalf("stored %d samples, want 7: %+v", len(r.Samples), r.Samples)
	}
}

func TestWSDuplicateNotRepublished(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	v := e.viewer(t)
	p := dialRaw(t, e.url, nil)
	p.hello("producer")
	token := p.startRun("r1", e.snippet).Token
	p.ack(p.send("samples", samplesPayload("r1", 0, 0, 2)))

	// The producer reconnects (as after a lost ack) and resends.
	p.conn.Close()
	p = dialRaw(t, e.url, nil)
	p.hello("producer")
	if a := p.resumeRun("r1", e.snippet, token); !a.Duplicate || a.Token != token {
		t.Fatalf("resent run.start: ack %+v, want a duplicate with the run's token", a)
	}
	if a := p.ack(p.send("samples", samplesPayload("r1", 0, 0, 2))); !a.Duplicate {
		t.Fatal("resent batch not acknowledged as duplicate")
	}
	p.ack(p.send("samples", samplesPayload("r1", 1, 2, 2)))
	p.ack(p.send("run.end", map[string]any{"run": "r1", "status": "done"}))

	var types []string
	for {
		m := nextFor(t, v)
		desc := m.Type
		if rs, ok := m.Payload.(*benchproto.RunSamples); ok {
			desc = fmt.Sprintf("samples/%d", rs.Batch)
		}
		types = append(types, desc)
		if m.Type == benchproto.TypeRunEnded {
			break
		}
	}
	// run.started is announced again for a running run (a dashboard that
	// missed it learns it); the duplicate batch is not.
	want := "run.started samples/0 run.started samples/1 run.ended"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("viewer saw %q, want %q", got, want)
	}
	r, err := e.store.GetRun(context.Background(), "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Samples) != 4 {
		t.Fatalf("stored %d samples, want 4", len(r.Samples))
	}
}

func TestWSOrigin(t *testing.T) {
	e := newBenchEnv(t, WSConfig{Origins: []string{"https://pyplay.example.com"}})
	host := strings.TrimPrefix(e.http.URL, "http://")
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true}, // programs send none
		{"http://" + host, true},
		{"https://pyplay.example.com", true},
		{"https://evil.example.com", false},
		{"http://" + strings.Replace(host, "127.0.0.1", "localhost", 1), false},
		{"null", false},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		conn, resp, err := websocket.DefaultDialer.Dial(e.url, h)
		if tc.ok {
			if err != nil {
				t.Errorf("origin %q refused: %v", tc.origin, err)
				continue
			}
			conn.Close()
			continue
		}
		if err == nil {
			conn.Close()
			t.Errorf("origin %q accepted", tc.origin)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: %v, want 403", tc.origin, err)
			continue
		}
		var body response.ErrorBody
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error.Code != "forbidden" {
			t.Errorf("origin %q: body %+v (%v)", tc.origin, body, err)
		}
	}
	// A plain GET is told what the endpoint is.
	res, err := http.Get(e.http.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("plain GET /ws: %d", res.StatusCode)
	}
}

func TestWSAbuseCloses(t *testing.T) {
	t.Run("bad messages: 1008", func(t *testing.T) {
		e := newBenchEnv(t, WSConfig{MaxBadMessages: 3})
		p := dialRaw(t, e.url, nil)
		for i := 0; i < 10; i++ {
			if err := p.conn.WriteMessage(websocket.TextMessage, []byte("garbage")); err != nil {
				break // closed already
			}
		}
		if code := p.closeCode(); code != websocket.ClosePolicyViolation {
			t.Fatalf("close code %d, want 1008", code)
		}
	})
	t.Run("too big: 1009", func(t *testing.T) {
		e := newBenchEnv(t, WSConfig{Limits: benchproto.Limits{MaxMessageBytes: 1024}})
		p := dialRaw(t, e.url, nil)
		p.hello("producer")
		p.sendRaw(`{"v":1,"type":"hello","seq":2,"payload":{"role":"viewer","client":"` + strings.Repeat("x", 2000) + `"}}`)
		if code := p.closeCode(); code != websocket.CloseMessageTooBig {
			t.Fatalf("close code %d, want 1009", code)
		}
	})
	t.Run("binary: 1003", func(t *testing.T) {
		e := newBenchEnv(t, WSConfig{})
		p := dialRaw(t, e.url, nil)
		p.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
		if code := p.closeCode(); code != websocket.CloseUnsupportedData {
			t.Fatalf("close code %d, want 1003", code)
		}
	})
	t.Run("rate limited", func(t *testing.T) {
		e := newBenchEnv(t, WSConfig{Limits: benchproto.Limits{MaxBatchesPerSecond: 2}})
		p := dialRaw(t, e.url, nil)
		p.hello("producer")
		p.startRun("r1", e.snippet)
		var seqs []int64
		for b := 0; b < 8; b++ {
			seqs = append(seqs, p.send("samples", samplesPayload("r1", b, b, 1)))
		}
		limited := 0
		for range seqs {
			if m := p.next(); m.Type == benchproto.TypeError {
				if e := m.Payload.(*benchproto.ErrorInfo); e.Code != benchproto.CodeRateLimited {
					t.Fatalf("error %+v", e)
				}
				limited++
			}
		}
		// A burst of 2×2 passes, the rest is refused; the connection
		// stays open (rate limiting is not abuse).
		if limited < 3 || limited > 4 {
			t.Fatalf("%d of 8 rate limited, want 4 (or 3 if a token refilled)", limited)
		}
		p.ack(p.send("run.end", map[string]any{"run": "r1", "status": "stopped"}))
	})
}

// smallReceiveBuffer makes a client's socket fill quickly when it does not
// read, so that a slow viewer shows up without megabytes of traffic.
var smallReceiveBuffer = &websocket.Dialer{
	NetDialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}).DialContext,
}

// conns remembers the server side of accepted connections, so that a test
// can shrink the socket buffers of one of them.
type conns struct {
	net.Listener
	mu     sync.Mutex
	byPeer map[string]*net.TCPConn
}

func (l *conns) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		l.mu.Lock()
		l.byPeer[tc.RemoteAddr().String()] = tc
		l.mu.Unlock()
	}
	return c, err
}

// shrink makes the server's send buffer towards the client at addr tiny.
func (l *conns) shrink(t *testing.T, addr net.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tc := l.byPeer[addr.String()]
	if tc == nil {
		t.Fatalf("no accepted connection from %s", addr)
	}
	if err := tc.SetWriteBuffer(4096); err != nil {
		t.Fatal(err)
	}
}

// newNarrowEnv is newBenchEnv on a listener that can shrink the socket
// buffers of the connections it accepted (narrowViewer).
func newNarrowEnv(t *testing.T, ws WSConfig) (*benchEnv, *conns) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pyplay.db"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := &conns{Listener: ln, byPeer: map[string]*net.TCPConn{}}
	return newBenchEnvListener(t, ws, store, accepted), accepted
}

// narrowViewer connects a viewer of the env's snippet whose socket
// buffers, on both sides, hold only a few KB: when it does not read, the
// server's writes to it block almost at once.
func (e *benchEnv) narrowViewer(t *testing.T, accepted *conns, coalesce bool) *rawClient {
	t.Helper()
	conn, _, err := smallReceiveBuffer.Dial(e.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	accepted.shrink(t, conn.LocalAddr())
	v := &rawClient{t: t, conn: conn}
	v.send("hello", map[string]any{"role": "viewer", "client": "narrow/1", "snippet": e.snippet, "coalesce": coalesce})
	if m := v.next(); m.Type != benchproto.TypeWelcome {
		t.Fatalf("want welcome, got %s", m.Type)
	}
	return v
}

// A viewer that stops reading is dropped, never waited for, whether or not
// it asked for coalesced frames; the other viewer gets every batch.
func TestWSSlowViewerDropped(t *testing.T) {
	for _, coalesce := range []bool{false, true} {
		t.Run(fmt.Sprintf("coalesce=%v", coalesce), func(t *testing.T) { testSlowViewerDropped(t, coalesce) })
	}
}

func testSlowViewerDropped(t *testing.T, coalesce bool) {
	e, accepted := newNarrowEnv(t, WSConfig{
		Limits: benchproto.Limits{MaxBatchesPerSecond: 100000},
		Client: hub.Options{SendBuffer: 8},
	})
	fast := e.dialViewer(t, coalesce)
	slow := e.narrowViewer(t, accepted, coalesce)
	// From now on the slow viewer reads nothing.

	received := make(chan int, 1)
	go func() {
		n := 0
		defer func() { received <- n }()
		for {
			m, err := fast.Next(10 * time.Second)
			if err != nil {
				t.Errorf("fast viewer: %v after %d batches", err, n)
				return
			}
			if m.Type == benchproto.TypeSamples {
				n++
			}
			if m.Type == benchproto.TypeRunEnded {
				return
			}
		}
	}()

	p := dialRaw(t, e.url, nil)
	p.hello("producer")
	p.startRun("r1", e.snippet)
	batches := 0
	for ; batches < 400; batches++ {
		p.ack(p.send("samples", samplesPayload("r1", batches, batches*100, 100)))
		if e.lab.hub.Stats().Dropped > 0 {
			batches++
			break
		}
	}
	if e.lab.hub.Stats().Dropped == 0 {
		t.Fatalf("slow viewer not dropped after %d batches", batches)
	}
	t.Logf("slow viewer dropped after %d batches", batches)
	for i := 0; i < 5; i++ { // after the drop, the rest still flows
		batches++
		p.ack(p.send("samples", samplesPayload("r1", batches-1, (batches-1)*100, 100)))
	}
	p.ack(p.send("run.end", map[string]any{"run": "r1", "status": "done"}))
	if n := <-received; n != batches {
		t.Fatalf("fast viewer got %d batches of %d", n, batches)
	}
	// The slow viewer finds a 1013 (try again later) behind what was
	// buffered for it.
	if code := slow.closeCode(); code != websocket.CloseTryAgainLater {
		t.Fatalf("slow viewer closed with %d, want 1013", code)
	}
}

func TestWSShutdownGoingAway(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	v := dialRaw(t, e.url, nil)
	v.hello("viewer")
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.stop()
	}()
	if code := v.closeCode(); code != websocket.CloseGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	<-done
	// Closed: new connections are refused.
	if _, resp, err := websocket.DefaultDialer.Dial(e.url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after Close: %v", err)
	}
}
