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

func init() { extraCommands["bench-native"] = runBenchNative }

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

	stdout, stderr io.Writer
}

func runBenchNative(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	b := &benchNative{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("bench-native", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&b.Server, "server", envDefault("PYPLAY_SERVER", "http://localhost:8080"), "the pyplay server (PYPLAY_SERVER)")
	fs.StringVar(&b.Snippet, "snippet", "", "ID of the shared snippet to measure (as in /s/{id})")
	fs.IntVar(&b.Samples, "samples", 30, "timed samples to take")
	fs.IntVar(&b.WarmupMs, "warmup-ms", 1000, "warm up for at least this long (and at least -min-warmup runs)")
	fs.IntVar(&b.MinWarmup, "min-warmup", 5, "warm up for at least this many samples")
	fs.IntVar(&b.BudgetMs, "budget-ms", 20000, "stop taking samples after this long, counted from the start of warmup")
	fs.StringVar(&b.Python, "python", envDefault("PYPLAY_PYTHON", "python3"), "the interpreter to measure (PYPLAY_PYTHON)")
	fs.DurationVar(&b.Timeout, "ack-timeout", time.Minute, "how long to wait for the server to acknowledge everything at the end")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
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
	return b.run(ctx)
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

func (b *benchNative) run(ctx context.Context) error {
	sn, err := b.fetchSnippet(ctx)
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

	settings, _ := json.Marshal(map[string]any{
		"samples": b.Samples, "warmupMs": b.WarmupMs, "minWarmup": b.MinWarmup,
		"maxWarmupMs": max(b.WarmupMs, b.BudgetMs/4), "minSampleMs": 5, "budgetMs": b.BudgetMs,
	})
	// The driver is not tied to ctx: on Ctrl-C it is killed below and the
	// run ends as stopped rather than vanishing.
	cmd := exec.Command(b.Python, "-I", "-c", benchNativeDriver, string(settings))
	cmd.Stdin = strings.NewReader(sn.Code)
	var stderr limitedBuffer
	cmd.Stderr = &stderr // the driver's own failures; the snippet's output is dropped
	results, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.ExtraFiles = []*os.File{w} // fd 3
	started := time.Now()
	if err := cmd.Start(); err != nil {
		results.Close()
		w.Close()
		return fmt.Errorf("bench-native: start %s: %w", b.Python, err)
	}
	w.Close()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	stop := context.AfterFunc(ctx, func() { cmd.Process.Kill() })
	defer stop()

	var run *benchclient.Run
	var measured []float64
	status, errText, reason := snippets.RunDone, "", ""
	scan := bufio.NewScanner(results)
	scan.Buffer(make([]byte, 64<<10), 1<<20)
	for scan.Scan() {
		var l driverLine
		if err := json.Unmarshal(scan.Bytes(), &l); err != nil {
			cmd.Process.Kill()
			return fmt.Errorf("bench-native: the driver said %q: %w", scan.Text(), err)
		}
		switch l.Type {
		case "env":
			phases, _ := json.Marshal(map[string]float64{
				"init":     float64(time.Since(started).Microseconds())/1000 - l.FirstRunMs,
				"firstRun": l.FirstRunMs,
			})
			run = producer.Start(benchproto.RunInfo{
				ID: newRunID(), Snippet: sn.ID, Runtime: snippets.CPythonNative, RuntimeVersion: l.RuntimeVersion,
				Env: l.Env, Config: l.Config, Phases: phases,
			})
			fmt.Fprintf(b.stdout, "run %s: %s on %s\n", run.ID(), envText(l.Env, "python"), envText(l.Env, "platform"))
		case "sample":
			if run == nil {
				return errors.New("bench-native: the driver sent samples before its environment")
			}
			run.Add(snippets.Sample{Warmup: l.Warmup, NsPerIter: l.Ns, Iterations: l.Iters})
			if !l.Warmup {
				measured = append(measured, l.Ns)
			}
		case "error":
			status, errText = snippets.RunFailed, l.Error
		case "done":
			reason = l.Reason
		}
	}
	results.Close()
	werr := <-waited
	switch {
	case ctx.Err() != nil:
		status, errText = snippets.RunStopped, "interrupted"
	case status == snippets.RunDone && werr != nil:
		status, errText = snippets.RunFailed, fmt.Sprintf("%s: %v: %s", b.Python, werr, strings.TrimSpace(stderr.String()))
	}
	if run == nil {
		return fmt.Errorf("bench-native: %s reported nothing: %v %s", b.Python, werr, strings.TrimSpace(stderr.String()))
	}
	run.End(status, truncateUTF8(errText, benchproto.MaxErrorBytes))

	// Everything must be acknowledged, even after Ctrl-C: that is the point
	// of a stopped run.
	wctx, cancel := context.WithTimeout(context.Background(), b.Timeout)
	defer cancel()
	if err := producer.Wait(wctx); err != nil {
		return err
	}
	dashboard := strings.TrimSuffix(b.Server, "/") + "/bench/" + sn.ID
	switch status {
	case snippets.RunFailed:
		fmt.Fprintf(b.stdout, "the snippet failed:\n%s\nresults: %s\n", errText, dashboard)
		return errors.New("bench-native: the snippet failed")
	case snippets.RunStopped:
		fmt.Fprintf(b.stdout, "stopped after %d samples; results: %s\n", len(measured), dashboard)
		return ctx.Err()
	}
	if len(measured) == 0 {
		fmt.Fprintf(b.stdout, "no samples taken (%s); results: %s\n", reason, dashboard)
		return nil
	}
	slices.Sort(measured)
	fmt.Fprintf(b.stdout, "%d samples, median %s per iteration", len(measured), stats.FormatNs(measured[len(measured)/2]))
	if reason != "" {
		fmt.Fprintf(b.stdout, " (%s)", reason)
	}
	fmt.Fprintf(b.stdout, "\nresults: %s\n", dashboard)
	return nil
}

// fetchSnippet reads the snippet from GET /api/snippets/{id}.
func (b *benchNative) fetchSnippet(ctx context.Context) (*snippets.Snippet, error) {
	u, err := url.JoinPath(b.Server, "api", "snippets", b.Snippet)
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
	if sn.ID != b.Snippet {
		return nil, fmt.Errorf("bench-native: asked for snippet %s, got %q", b.Snippet, sn.ID)
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
