package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/pyplay/pyplay/cmd/internal/benchclient"
	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/server/bench/stats"
	"github.com/pyplay/pyplay/snippets"
)

// benchNativeDriver times the snippet inside python3 and reports JSON lines
// on file descriptor 3 (see the file's comment).
//
//go:embed benchnative.py
var benchNativeDriver string

// benchNative is `pyplay bench-native`: an operator tool that measures a
// shared snippet with the local python3, by the same warmup and sampling
// rules as the browser harness, and streams the samples to the server as
// runtime cpython-native, the baseline of the comparison table. The server
// never runs code; this runs on the operator's machine.
type benchNative struct {
	Server    string
	Snippet   string
	Samples   int
	WarmupMs  int
	MinWarmup int
	BudgetMs  int
	Python    string
	Timeout   time.Duration
	// Compare, when set, makes an A/B benchmark: this snippet is A, the
	// baseline, and Snippet is B (benchab.go).
	Compare      string
	Interpreters int
	Threshold    float64
	// Go, when set, times the binary's own Go kernel of the suite workload
	// whose Python example the snippet is, as runtime native-go
	// (benchnativego.go).
	Go bool

	stdout, stderr io.Writer
}

// runBenchNative is `pyplay bench-native`.
func runBenchNative(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	b := &benchNative{stdout: stdout, stderr: stderr}
	if err := b.parseFlags(args); err != nil {
		return err
	}
	return b.run(ctx)
}

func (b *benchNative) parseFlags(args []string) error {
	fs := flag.NewFlagSet("bench-native", flag.ContinueOnError)
	fs.SetOutput(b.stderr)
	b.Server, b.Python = "http://localhost:8080", "python3"
	if err := registerEnvFlags(fs, []envFlag{
		{&b.Server, "server", "PYPLAY_SERVER", "the pyplay server"},
		{&b.Python, "python", "PYPLAY_PYTHON", "the interpreter to measure"},
	}); err != nil {
		return err
	}
	fs.StringVar(&b.Snippet, "snippet", "", "ID of the shared snippet to measure (as in /s/{id})")
	fs.IntVar(&b.Samples, "samples", 30, "timed samples to take")
	fs.IntVar(&b.WarmupMs, "warmup-ms", 1000, "warm up for at least this long (and at least -min-warmup runs)")
	fs.IntVar(&b.MinWarmup, "min-warmup", 5, "warm up for at least this many samples")
	fs.IntVar(&b.BudgetMs, "budget-ms", 20000, "stop taking samples after this long, counted from the start of warmup")
	fs.DurationVar(&b.Timeout, "ack-timeout", time.Minute, "how long to wait for the server to acknowledge everything at the end")
	fs.StringVar(&b.Compare, "compare", "", "ID of a snippet to compare -snippet with in an A/B benchmark: it is A, the baseline, and -snippet is B")
	fs.IntVar(&b.Interpreters, "interpreters", snippets.DefaultABInterpreters, "with -compare: fresh python3 processes to take rounds in, in turn")
	fs.Float64Var(&b.Threshold, "threshold", snippets.DefaultABThreshold, "with -compare: the relative difference that counts as none (0.02 is 2 %)")
	fs.BoolVar(&b.Go, "go", false, "time the binary's own Go kernel of the reference-suite workload whose Python example the snippet is, as runtime native-go")
	if err := fs.Parse(args); err != nil {
		return err
	}
	budgetSet := false
	fs.Visit(func(f *flag.Flag) { budgetSet = budgetSet || f.Name == "budget-ms" })
	if b.Compare != "" && !budgetSet {
		b.BudgetMs = snippets.DefaultABBudgetMs
	}
	switch {
	case b.Compare != "" && b.Go:
		return errors.New("bench-native: -go and -compare cannot be combined")
	case b.Compare != "" && !snippets.ValidID(b.Compare):
		return fmt.Errorf("bench-native: -compare %q is not a snippet ID", b.Compare)
	case b.Compare != "" && (b.Interpreters < 1 || b.Interpreters > snippets.MaxABInterpreters):
		return fmt.Errorf("bench-native: -interpreters must be between 1 and %d", snippets.MaxABInterpreters)
	case b.Compare != "" && !(b.Threshold >= 0 && b.Threshold <= snippets.MaxABThreshold):
		return errors.New("bench-native: -threshold must be between 0 and 1 (0.02 is 2 %)")
	case fs.NArg() > 0:
		return fmt.Errorf("bench-native: unexpected argument %q", fs.Arg(0))
	case b.Snippet == "":
		return errors.New("bench-native: -snippet is required: the ID of a shared snippet, as in /s/{id}")
	case !snippets.ValidID(b.Snippet):
		return fmt.Errorf("bench-native: %q is not a snippet ID", b.Snippet)
	case b.Samples < 1 || b.Samples > 100000:
		return errors.New("bench-native: -samples must be between 1 and 100000")
	case b.WarmupMs < 0 || b.BudgetMs < 1 || b.MinWarmup < 1:
		return errors.New("bench-native: -warmup-ms must be ≥ 0, -budget-ms and -min-warmup ≥ 1")
	}
	return nil
}

// run fetches the snippet, times it in the driver while streaming the
// samples as one run, ends the run as the driver's exit says, waits until
// the server has acknowledged all of it, and prints a summary.
func (b *benchNative) run(ctx context.Context) error {
	if b.Compare != "" {
		return b.runAB(ctx)
	}
	sn, err := b.fetchSnippet(ctx, b.Snippet)
	if err != nil {
		return err
	}
	producer, err := benchclient.NewProducer(benchclient.Config{
		URL:    b.Server,
		Client: "pyplay-bench-native/1",
		Logger: newLogger(b.stderr, "warn", false),
	})
	if err != nil {
		return err
	}
	defer producer.Close()
	var d *driver
	if b.Go {
		w, ok := suiteWorkloadOf(sn.Code)
		if !ok {
			return fmt.Errorf("bench-native: -go: snippet %s is not one of the reference suite's Python examples (unedited), so it has no Go kernel", sn.ID)
		}
		fmt.Fprintf(b.stdout, "snippet %s is suite workload %s (n=%d): timing its Go kernel\n", sn.ID, w.ID, w.N)
		d, err = b.startGoDriver(w)
	} else {
		d, err = b.startDriver(sn.Code)
	}
	if err != nil {
		return err
	}
	// The driver is not tied to ctx: on Ctrl-C it is killed here and the
	// run ends as stopped rather than vanishing.
	stop := context.AfterFunc(ctx, d.kill)
	defer stop()
	o, err := b.stream(d, producer, sn.ID)
	if err != nil {
		d.kill()
		return err
	}
	if err := b.end(ctx, d, o); err != nil {
		return err
	}
	// Everything must be acknowledged, even after Ctrl-C: that is the point
	// of a stopped run.
	wctx, cancel := context.WithTimeout(context.Background(), b.Timeout)
	defer cancel()
	if err := producer.Wait(wctx); err != nil {
		return err
	}
	return b.summarise(ctx, o, sn.ID)
}

// driver is the python3 process timing the snippet.
type driver struct {
	cmd     *exec.Cmd
	results *os.File      // the read end of its file descriptor 3
	stderr  limitedBuffer // the driver's own failures; the snippet's output is dropped
	stop    func()        // set for the Go driver (no process): ends it
	started time.Time
	waited  chan error // cmd.Wait's result
}

// startDriver starts the driver on code with the sampling settings.
func (b *benchNative) startDriver(code string) (*driver, error) {
	settings, _ := json.Marshal(map[string]any{
		"samples": b.Samples, "warmupMs": b.WarmupMs, "minWarmup": b.MinWarmup,
		"maxWarmupMs": max(b.WarmupMs, b.BudgetMs/4), "minSampleMs": 5, "budgetMs": b.BudgetMs,
	})
	return b.launch(code, settings, nil)
}

// launch starts the driver with its settings and code; extra are more
// files for it (file descriptor 4 on).
func (b *benchNative) launch(code string, settings []byte, extra []*os.File) (*driver, error) {
	d := &driver{waited: make(chan error, 1)}
	d.cmd = exec.Command(b.Python, "-I", "-c", benchNativeDriver, string(settings))
	d.cmd.Stdin = strings.NewReader(code)
	d.cmd.Stderr = &d.stderr
	results, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	d.cmd.ExtraFiles = append([]*os.File{w}, extra...) // fd 3, 4, …
	d.started = time.Now()
	err = d.cmd.Start()
	w.Close() // the driver holds the only write end: its exit ends the reads
	for _, f := range extra {
		f.Close() // the driver's ends
	}
	if err != nil {
		results.Close()
		return nil, fmt.Errorf("bench-native: start %s: %w", b.Python, err)
	}
	d.results = results
	go func() { d.waited <- d.cmd.Wait() }()
	return d, nil
}

func (d *driver) kill() {
	if d.stop != nil {
		d.stop()
		return
	}
	d.cmd.Process.Kill()
}

// wait returns how the driver exited, once its reports are read.
func (d *driver) wait() error {
	d.results.Close()
	return <-d.waited
}

// driverLine is one line the driver reports.
type driverLine struct {
	Type           string          `json:"type"`
	Env            json.RawMessage `json:"env"`
	Config         json.RawMessage `json:"config"`
	RuntimeVersion string          `json:"runtimeVersion"`
	FirstRunMs     float64         `json:"firstRunMs"`
	Warmup         bool            `json:"warmup"`
	Ns             float64         `json:"ns"`
	Iters          int             `json:"iters"`
	Error          string          `json:"error"`
	Reason         string          `json:"reason"`
}

// outcome is how a run went.
type outcome struct {
	run      *benchclient.Run // nil until the driver reports its environment
	status   string           // snippets.RunDone, RunFailed or RunStopped
	errText  string
	reason   string    // why sampling stopped, from the driver's "done"
	measured []float64 // ns per iteration of the timed samples
}

// stream forwards the driver's reports to the server as one run, until
// the driver closes its end: the environment starts the run, each sample
// is added as it comes.
func (b *benchNative) stream(d *driver, producer *benchclient.Producer, snippet string) (*outcome, error) {
	o := &outcome{status: snippets.RunDone}
	scan := bufio.NewScanner(d.results)
	scan.Buffer(make([]byte, 64<<10), 1<<20)
	for scan.Scan() {
		var l driverLine
		if err := json.Unmarshal(scan.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("bench-native: the driver said %q: %w", scan.Text(), err)
		}
		switch l.Type {
		case "env":
			o.run = b.startRun(producer, snippet, &l, time.Since(d.started))
		case "sample":
			if o.run == nil {
				return nil, errors.New("bench-native: the driver sent samples before its environment")
			}
			o.run.Add(snippets.Sample{Warmup: l.Warmup, NsPerIter: l.Ns, Iterations: l.Iters})
			if !l.Warmup {
				o.measured = append(o.measured, l.Ns)
			}
		case "error":
			o.status, o.errText = snippets.RunFailed, l.Error
		case "done":
			o.reason = l.Reason
		}
	}
	return o, nil
}

// startRun starts the run once the driver has reported its environment,
// elapsed after it was started. The interpreter's start-up (init) is that
// time less the first run of the snippet, as in the browser harness.
func (b *benchNative) startRun(producer *benchclient.Producer, snippet string, env *driverLine, elapsed time.Duration) *benchclient.Run {
	phases, _ := json.Marshal(map[string]float64{
		"init":     float64(elapsed.Microseconds())/1000 - env.FirstRunMs,
		"firstRun": env.FirstRunMs,
	})
	rt := snippets.CPythonNative
	if b.Go {
		rt = nativeGoRuntime
	}
	run := producer.Start(benchproto.RunInfo{
		ID: newRunID(), Snippet: snippet, Runtime: rt, RuntimeVersion: env.RuntimeVersion,
		Env: env.Env, Config: env.Config, Phases: phases,
	})
	lang := "python"
	if b.Go {
		lang = "go"
	}
	fmt.Fprintf(b.stdout, "run %s: %s on %s\n", run.ID(), envText(env.Env, lang), envText(env.Env, "platform"))
	return run
}

// end waits for the driver and ends the run: stopped after Ctrl-C, failed
// when the interpreter died without reporting an error of the snippet's.
func (b *benchNative) end(ctx context.Context, d *driver, o *outcome) error {
	werr := d.wait()
	stderr := strings.TrimSpace(d.stderr.String())
	switch {
	case ctx.Err() != nil:
		o.status, o.errText = snippets.RunStopped, "interrupted"
	case o.status == snippets.RunDone && werr != nil:
		o.status, o.errText = snippets.RunFailed, fmt.Sprintf("%s: %v: %s", b.Python, werr, stderr)
	}
	if o.run == nil {
		return fmt.Errorf("bench-native: %s reported nothing: %v %s", b.Python, werr, stderr)
	}
	o.run.End(o.status, truncateUTF8(o.errText, benchproto.MaxErrorBytes))
	return nil
}

// summarise prints how the run went and where its dashboard is.
func (b *benchNative) summarise(ctx context.Context, o *outcome, snippet string) error {
	dashboard := strings.TrimSuffix(b.Server, "/") + "/bench/" + snippet
	switch o.status {
	case snippets.RunFailed:
		fmt.Fprintf(b.stdout, "the snippet failed:\n%s\nresults: %s\n", o.errText, dashboard)
		return errors.New("bench-native: the snippet failed")
	case snippets.RunStopped:
		fmt.Fprintf(b.stdout, "stopped after %d samples; results: %s\n", len(o.measured), dashboard)
		return ctx.Err()
	}
	if len(o.measured) == 0 {
		fmt.Fprintf(b.stdout, "no samples taken (%s); results: %s\n", o.reason, dashboard)
		return nil
	}
	slices.Sort(o.measured)
	fmt.Fprintf(b.stdout, "%d samples, median %s per iteration", len(o.measured), stats.FormatNs(o.measured[len(o.measured)/2]))
	if o.reason != "" {
		fmt.Fprintf(b.stdout, " (%s)", o.reason)
	}
	fmt.Fprintf(b.stdout, "\nresults: %s\n", dashboard)
	return nil
}

// fetchSnippet reads a snippet from GET /api/snippets/{id}.
func (b *benchNative) fetchSnippet(ctx context.Context, id string) (*snippets.Snippet, error) {
	u, err := url.JoinPath(b.Server, "api", "snippets", id)
	if err != nil {
		return nil, fmt.Errorf("bench-native: -server %q: %w", b.Server, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("bench-native: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bench-native: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("bench-native: read %s: %w", u, err)
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("bench-native: %s: %s", res.Status, e.Error.Message)
		}
		return nil, fmt.Errorf("bench-native: GET %s: %s", u, res.Status)
	}
	var sn snippets.Snippet
	if err := json.Unmarshal(body, &sn); err != nil {
		return nil, fmt.Errorf("bench-native: GET %s: %w", u, err)
	}
	if sn.ID != id {
		return nil, fmt.Errorf("bench-native: asked for snippet %s, got %q", id, sn.ID)
	}
	return &sn, nil
}

// newRunID returns a random run ID (base64url, 22 characters).
func newRunID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func envText(env json.RawMessage, key string) string {
	var m map[string]any
	json.Unmarshal(env, &m)
	return fmt.Sprint(m[key])
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// limitedBuffer keeps the first 16 KiB written to it.
type limitedBuffer struct{ bytes.Buffer }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 16<<10 - l.Len(); room > 0 {
		l.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
