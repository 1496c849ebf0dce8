package main

// End-to-end tests of the benchmark lab: bench-native against a real
// server, a server killed and restarted during a run, and two server
// processes sharing live streams through PostgreSQL.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyplay/pyplay/cmd/internal/benchclient"
	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/postgres/pgtest"
)

// storedRun is what GET /api/bench/runs/{run} answers, in part.
type storedRun struct {
	ID      string            `json:"id"`
	Runtime string            `json:"runtime"`
	Status  string            `json:"status"`
	Error   string            `json:"error"`
	Env     map[string]any    `json:"env"`
	Config  map[string]any    `json:"config"`
	Phases  map[string]any    `json:"phases"`
	Samples []snippets.Sample `json:"samples"`
	Summary struct {
		N      int     `json:"n"`
		Median float64 `json:"median"`
	} `json:"summary"`
	Group struct {
		Browser, Machine string
	} `json:"group"`
}

func getRun(t *testing.T, base, id string) storedRun {
	t.Helper()
	r := mustCall(t, "GET", base+"/api/bench/runs/"+id, "")
	if r.status != 200 {
		t.Fatalf("GET run %s: %d %s", id, r.status, r.body)
	}
	var run storedRun
	if err := json.Unmarshal(r.body, &run); err != nil {
		t.Fatal(err)
	}
	return run
}

func listRuns(t *testing.T, base, snippet string) []storedRun {
	t.Helper()
	r := mustCall(t, "GET", base+"/api/bench/runs?snippet="+snippet, "")
	if r.status != 200 {
		t.Fatalf("list runs: %d %s", r.status, r.body)
	}
	var out struct{ Runs []storedRun }
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Runs
}

func needPython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
}

func TestBenchNative(t *testing.T) {
	needPython(t)
	m, _ := startMain(t, "-db", "sqlite:"+filepath.Join(t.TempDir(), "pyplay.db"))
	base := m.URL()
	id := createSnippet(t, base, "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(15))\n")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	viewer, err := benchclient.DialViewer(ctx, benchclient.Config{URL: base}, id)
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.Close()

	out, stderr, err := pyplay(t, nil, "bench-native", "-server", base, "-snippet", id, "-samples", "6", "-warmup-ms", "100", "-budget-ms", "10000")
	if err != nil {
		t.Fatalf("bench-native: %v\n%s%s", err, out, stderr)
	}
	if !strings.Contains(out, "6 samples, median ") || !strings.Contains(out, base+"/bench/"+id) {
		t.Errorf("output:\n%s", out)
	}

	// The dashboard saw it live.
	var seen []string
	samples := 0
	for {
		msg, err := viewer.Next(ctx)
		if err != nil {
			t.Fatalf("viewer: %v after %v", err, seen)
		}
		seen = append(seen, msg.Type)
		switch p := msg.Payload.(type) {
		case *benchproto.RunStarted:
			if p.Run.Runtime != snippets.CPythonNative {
				t.Errorf("run.started %+v", p.Run)
			}
		case *benchproto.RunSamples:
			samples += len(p.Samples)
		}
		if msg.Type == benchproto.TypeRunEnded {
			break
		}
	}

	runs := listRuns(t, base, id)
	if len(runs) != 1 {
		t.Fatalf("%d runs stored", len(runs))
	}
	run := getRun(t, base, runs[0].ID)
	warmups := 0
	for i, s := range run.Samples {
		if s.Seq != i || !(s.NsPerIter > 0) || s.Iterations < 1 {
			t.Fatalf("sample %d: %+v", i, s)
		}
		if s.Warmup {
			warmups++
		}
	}
	if run.Runtime != snippets.CPythonNative || run.Status != snippets.RunDone || run.Summary.N != 6 || warmups < 5 || samples != len(run.Samples) {
		t.Fatalf("run: %s %s, %d measured, %d warmups, %d seen live of %d", run.Runtime, run.Status, run.Summary.N, warmups, samples, len(run.Samples))
	}
	if run.Group.Browser != "native" || !strings.Contains(run.Group.Machine, "cores") || !strings.HasPrefix(fmt.Sprint(run.Env["python"]), "CPython 3") {
		t.Errorf("group %+v, env %v", run.Group, run.Env)
	}
	// fib(15) takes far less than a 5 ms sample: the harness loops it.
	if run.Samples[len(run.Samples)-1].Iterations < 2 || run.Config["harness"] != "pyplay-bench-native/1" || run.Phases["firstRun"] == nil {
		t.Errorf("last sample %+v, config %v, phases %v", run.Samples[len(run.Samples)-1], run.Config, run.Phases)
	}

	// A failing snippet ends its run as failed, with the traceback.
	bad := createSnippet(t, base, "x = 1\ny = x / 0\n")
	out, _, err = pyplay(t, nil, "bench-native", "-server", base, "-snippet", bad, "-warmup-ms", "10")
	if err == nil || !strings.Contains(out, "ZeroDivisionError") {
		t.Errorf("failing snippet: %v\n%s", err, out)
	}
	if runs := listRuns(t, base, bad); len(runs) != 1 || runs[0].Status != snippets.RunFailed ||
		!strings.Contains(runs[0].Error, `File "main.py", line 2`) || strings.Contains(runs[0].Error, "<string>") {
		t.Errorf("failed run: %+v", runs)
	}

	// An unknown snippet is a clear error.
	if _, _, err := pyplay(t, nil, "bench-native", "-server", base, "-snippet", "AAAAAAAAAAA"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown snippet: %v", err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestBenchSurvivesServerKill SIGKILLs the server (a real process on
// SQLite) in the middle of a run and restarts it on the same database and
// port: the producer resends what was not acknowledged and the run
// completes with every sample stored once.
func TestBenchSurvivesServerKill(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "pyplay.db")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	srv := startBinary(t, "-db", db, "-addr", addr)
	id := createSnippet(t, srv.url, "sum(range(100))\n")

	// The server dies right after batch 5 is written, before it can be
	// acknowledged: the producer must send it again.
	killed := make(chan struct{})
	var once sync.Once
	p, err := benchclient.NewProducer(benchclient.Config{URL: srv.url, MaxBatch: 25,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		OnSend: func(_ string, batch int) {
			if batch == 5 {
				once.Do(func() { srv.cmd.Process.Kill(); close(killed) })
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	run := p.Start(benchproto.RunInfo{ID: "killed-mid-run", Snippet: id, Runtime: "pyodide", Env: json.RawMessage(`{"cores":2}`)})
	const total = 600
	added := make(chan struct{})
	go func() {
		defer close(added)
		for i := 0; i < total; i++ {
			run.Add(snippets.Sample{Warmup: i < 10, NsPerIter: float64(10000 + i), Iterations: 3})
			time.Sleep(time.Millisecond)
		}
	}()

	select {
	case <-killed:
	case <-time.After(20 * time.Second):
		t.Fatalf("batch 5 never sent: %+v", p.Stats())
	}
	<-srv.done
	before := p.Stats()
	time.Sleep(200 * time.Millisecond) // samples pile up while it is down
	srv2 := startBinary(t, "-db", db, "-addr", addr)

	<-added
	run.End(snippets.RunDone, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	after := p.Stats()
	if after.Reconnects < 1 || after.Resent < 1 {
		t.Fatalf("never reconnected or resent: %+v", after)
	}
	stored := getRun(t, srv2.url, "killed-mid-run")
	if stored.Status != snippets.RunDone || len(stored.Samples) != total {
		t.Fatalf("stored %d samples of %d, status %s; producer %+v", len(stored.Samples), total, stored.Status, after)
	}
	for i, s := range stored.Samples {
		if s.Seq != i || s.NsPerIter != float64(10000+i) || s.Warmup != (i < 10) {
			t.Fatalf("sample %d: %+v", i, s)
		}
	}
	t.Logf("acknowledged before the kill: %d batches; at the end: %+v", before.Batches, after)
}

// TestLiveAcrossProcesses runs two `pyplay serve` processes on one
// PostgreSQL database: a dashboard on one sees a run streamed to the other.
func TestLiveAcrossProcesses(t *testing.T) {
	dsn := pgtest.Start(t)
	a := startBinary(t, "-db", dsn)
	b := startBinary(t, "-db", dsn)
	id := createSnippet(t, a.url, "print('two servers')\n")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	viewer, err := benchclient.DialViewer(ctx, benchclient.Config{URL: a.url}, id)
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.Close()

	p, err := benchclient.NewProducer(benchclient.Config{URL: b.url, MaxBatch: 400})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	run := p.Start(benchproto.RunInfo{ID: "across", Snippet: id, Runtime: "micropython"})
	for i := 0; i < 1000; i++ { // batches of 400: far over NOTIFY's 8000 bytes
		run.Add(snippets.Sample{NsPerIter: 1e6 + float64(i), Iterations: 1})
	}
	run.End(snippets.RunDone, "")
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}

	seen := map[int]bool{}
	started := false
	for {
		m, err := viewer.Next(ctx)
		if err != nil {
			t.Fatalf("viewer on A: %v (saw %d samples)", err, len(seen))
		}
		switch pl := m.Payload.(type) {
		case *benchproto.RunStarted:
			started = pl.Run.ID == "across"
		case *benchproto.RunSamples:
			for _, s := range pl.Samples {
				if seen[s.Seq] {
					t.Fatalf("sample %d delivered twice", s.Seq)
				}
				seen[s.Seq] = true
			}
		}
		if m.Type == benchproto.TypeRunEnded {
			break
		}
	}
	if !started || len(seen) != 1000 {
		t.Fatalf("viewer on A: run.started %v, %d of 1000 samples", started, len(seen))
	}
	// A received at least run.started, three batches and run.ended
	// through NOTIFY.
	m := metricsLine.FindStringSubmatch(a.log.String())
	if m == nil {
		t.Fatalf("no metrics listener in A's log:\n%s", a.log)
	}
	metrics := string(mustCall(t, "GET", m[1], "").body)
	var received float64
	for _, l := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(l, `pyplay_live_relay_total{event="received"} `); ok {
			fmt.Sscan(v, &received)
		}
	}
	if received < 5 {
		t.Errorf("A's relay received %v messages:\n%s", received, grepLines(metrics, "pyplay_live_relay"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
