package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pyplay/pyplay/cmd/internal/benchclient"
	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/snippets"
)

// `pyplay bench-native -compare A -snippet B` runs an A/B benchmark
// natively, the way the browser harness does (docs/bench.md): it creates
// the benchmark on the server, starts -interpreters fresh python3
// processes that each hold both programs, warms them up, and then takes
// rounds in turn across the processes; in each round every arm gives one
// sample, in a shuffled order, so that whatever the machine does hits both
// arms alike. Each (process, arm) is one run linked to the benchmark. It
// asks the server after every pass over the processes whose round count is
// a multiple of abPollEvery, and stops when the server says the result is
// decided, when the server's round cap is reached, or when the budget is
// spent; then it prints the server's verdict.

// abPollEvery is how many rounds per interpreter pass between questions to
// the server: the stop rule looks only at planned points, so asking more
// often gains little.
const abPollEvery = 10

// abFlushPerRun is the batching interval per run: 10 runs flush every
// 1.5 s, 10 batches, within the server's default 10 batches per second.
const abFlushPerRun = 150 * time.Millisecond

// abView is the part of GET /api/bench/ab/{id} bench-native reads.
type abView struct {
	ID        string `json:"id"`
	URL       string `json:"url"`
	Rounds    int    `json:"rounds"`
	MaxRounds int    `json:"maxRounds"`
	Decided   bool   `json:"decided"`
	Done      bool   `json:"done"`
	Results   []struct {
		Runtime string `json:"runtime"`
		Arm     string `json:"arm"`
		Verdict string `json:"verdict"`
		Summary string `json:"summary"`
	} `json:"results"`
}

// abInterpreter is one python3 process of an A/B benchmark.
type abInterpreter struct {
	index    int
	arms     []*snippets.Snippet // A first
	d        *driver
	commands *os.File // the write end of the driver's file descriptor 4
	lines    *bufio.Scanner
	runs     []*benchclient.Run // by arm
	failed   bool               // the process failed; its runs are ended
}

// runAB is bench-native -compare.
func (b *benchNative) runAB(ctx context.Context) error {
	a, err := b.fetchSnippet(ctx, b.Compare)
	if err != nil {
		return err
	}
	bb, err := b.fetchSnippet(ctx, b.Snippet)
	if err != nil {
		return err
	}
	arms := []*snippets.Snippet{a, bb}
	id, err := b.createAB(ctx)
	if err != nil {
		return err
	}
	page := strings.TrimSuffix(b.Server, "/") + "/bench/ab/" + id
	fmt.Fprintf(b.stdout, "A/B benchmark %s: A %s, B %s\nlive: %s\n", id, a.ID, bb.ID, page)
	view, err := b.getAB(ctx, id)
	if err != nil {
		return err
	}
	// Every run sends its own batches, and the server takes a few per
	// second from one connection (welcome.limits.maxBatchesPerSecond, 10
	// by default): with one run per arm and process, batches must gather
	// for longer than a single run's, or the stream falls behind the
	// rounds and the server decides late.
	runs := b.Interpreters * len(arms)
	producer, err := benchclient.NewProducer(benchclient.Config{
		URL: b.Server, Client: "pyplay-bench-native/1 (A/B)", Logger: newLogger(b.stderr, "warn", false),
		FlushInterval: time.Duration(runs) * abFlushPerRun,
	})
	if err != nil {
		return err
	}
	defer producer.Close()

	deadline := time.Now().Add(time.Duration(b.BudgetMs) * time.Millisecond)
	var interps []*abInterpreter
	defer func() {
		for _, in := range interps {
			in.d.kill()
		}
	}()
	var failure error
	for k := range b.Interpreters {
		in, err := b.startInterpreter(ctx, producer, id, k, arms)
		if in != nil {
			interps = append(interps, in)
		}
		if err != nil {
			failure = err
			break
		}
	}
	reason := ""
	if failure == nil {
		reason, failure = b.takeRounds(ctx, id, interps, view.MaxRounds, deadline)
	}
	// Done when every process took its rounds; stopped tells the server
	// the producer gave up.
	status := snippets.RunDone
	if ctx.Err() != nil || failure != nil {
		status = snippets.RunStopped
	}
	for _, in := range interps {
		in.finish(status)
	}
	wctx, cancel := context.WithTimeout(context.Background(), b.Timeout)
	defer cancel()
	if err := producer.Wait(wctx); err != nil {
		return errors.Join(failure, err)
	}
	if view, err = b.getAB(wctx, id); err != nil {
		return errors.Join(failure, err)
	}
	if reason != "" {
		fmt.Fprintf(b.stdout, "stopped: %s\n", reason)
	}
	for _, r := range view.Results {
		fmt.Fprintf(b.stdout, "%s: %s\n", r.Runtime, r.Summary)
	}
	fmt.Fprintf(b.stdout, "%d rounds in %d interpreters; results: %s\n", view.Rounds, len(interps), page)
	if failure != nil {
		return failure
	}
	return ctx.Err()
}

// createAB is POST /api/bench/ab for this benchmark.
func (b *benchNative) createAB(ctx context.Context) (string, error) {
	body, _ := json.Marshal(map[string]any{
		"a": b.Compare, "b": b.Snippet, "runtimes": []string{snippets.CPythonNative},
		"threshold": b.Threshold, "budgetMs": b.BudgetMs, "interpreters": b.Interpreters,
	})
	var out struct{ ID string }
	if err := b.call(ctx, http.MethodPost, "/api/bench/ab", body, http.StatusCreated, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// getAB is GET /api/bench/ab/{id}.
func (b *benchNative) getAB(ctx context.Context, id string) (*abView, error) {
	var v abView
	if err := b.call(ctx, http.MethodGet, "/api/bench/ab/"+id, nil, http.StatusOK, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// call asks the server and decodes its JSON answer, turning an error
// answer into its message.
func (b *benchNative) call(ctx context.Context, method, path string, body []byte, want int, out any) error {
	u, err := url.JoinPath(b.Server, path)
	if err != nil {
		return fmt.Errorf("bench-native: -server %q: %w", b.Server, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("bench-native: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("bench-native: %w", err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("bench-native: %s %s: %w", method, u, err)
	}
	if res.StatusCode != want {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("bench-native: %s %s: %s: %s", method, path, res.Status, e.Error.Message)
		}
		return fmt.Errorf("bench-native: %s %s: %s", method, path, res.Status)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("bench-native: %s %s: %w", method, path, err)
	}
	return nil
}

// startInterpreter starts process k with both programs, starts its runs
// when it reports its environment, and forwards its warmup samples until
// it is ready for rounds.
func (b *benchNative) startInterpreter(ctx context.Context, producer *benchclient.Producer, id string, k int, arms []*snippets.Snippet) (*abInterpreter, error) {
	codes := make([]string, len(arms))
	for i, sn := range arms {
		codes[i] = sn.Code
	}
	input, _ := json.Marshal(map[string]any{"codes": codes})
	settings, _ := json.Marshal(map[string]any{
		"ab": true, "warmupMs": b.WarmupMs, "minWarmup": b.MinWarmup,
		"maxWarmupMs": max(b.WarmupMs, b.BudgetMs/4), "minSampleMs": 5, "budgetMs": b.BudgetMs,
	})
	cmdRead, cmdWrite, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	d, err := b.launch(string(input), settings, []*os.File{cmdRead})
	if err != nil {
		cmdWrite.Close()
		return nil, err
	}
	in := &abInterpreter{index: k, arms: arms, d: d, commands: cmdWrite, lines: bufio.NewScanner(d.results)}
	in.lines.Buffer(make([]byte, 64<<10), 1<<20)
	for {
		if ctx.Err() != nil {
			return in, ctx.Err()
		}
		l, err := in.next()
		if err != nil {
			return in, err
		}
		switch l.Type {
		case "env":
			var first []float64
			json.Unmarshal(l.FirstRun, &first)
			elapsed := float64(time.Since(d.started).Microseconds()) / 1000
			for i, sn := range arms {
				phases := map[string]float64{}
				if i < len(first) {
					phases["firstRun"] = first[i]
					phases["init"] = elapsed - sum(first)
				}
				p, _ := json.Marshal(phases)
				in.runs = append(in.runs, producer.Start(benchproto.RunInfo{
					ID: newRunID(), Snippet: sn.ID, Runtime: snippets.CPythonNative, RuntimeVersion: l.RuntimeVersion,
					Env: l.Env, Config: l.Config, Phases: p,
					AB: &snippets.ABLink{ID: id, Arm: snippets.ABArms[i], Interpreter: k},
				}))
			}
			fmt.Fprintf(b.stdout, "interpreter %d: %s on %s\n", k, envText(l.Env, "python"), envText(l.Env, "platform"))
		case "sample":
			if err := in.add(l); err != nil {
				return in, err
			}
		case "ready":
			return in, nil
		case "error":
			return in, in.fail(l)
		}
	}
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// abLine is one line the driver reports in A/B mode: driverLine with the
// arm, and firstRunMs, which is a list here (one per arm), in place of
// driverLine's number.
type abLine struct {
	driverLine
	Arm      int             `json:"arm"`
	FirstRun json.RawMessage `json:"firstRunMs"`
}

// next reads the driver's next report.
func (in *abInterpreter) next() (*abLine, error) {
	if !in.lines.Scan() {
		werr := in.d.wait()
		return nil, fmt.Errorf("bench-native: interpreter %d ended unexpectedly: %v %s", in.index, werr, strings.TrimSpace(in.d.stderr.String()))
	}
	var l abLine
	if err := json.Unmarshal(in.lines.Bytes(), &l); err != nil {
		return nil, fmt.Errorf("bench-native: the driver said %q: %w", in.lines.Text(), err)
	}
	return &l, nil
}

// add forwards a sample to its arm's run.
func (in *abInterpreter) add(l *abLine) error {
	if l.Arm < 0 || l.Arm >= len(in.runs) {
		return fmt.Errorf("bench-native: interpreter %d sent a sample of arm %d before its runs", in.index, l.Arm)
	}
	in.runs[l.Arm].Add(snippets.Sample{Warmup: l.Warmup, NsPerIter: l.Ns, Iterations: l.Iters})
	return nil
}

// fail ends the process's runs after its program raised: the arm that
// raised fails with the traceback, the others stop.
func (in *abInterpreter) fail(l *abLine) error {
	in.failed = true
	text := truncateUTF8(l.Error, benchproto.MaxErrorBytes)
	for i, r := range in.runs {
		if i == l.Arm {
			r.End(snippets.RunFailed, text)
		} else {
			r.End(snippets.RunStopped, "arm "+snippets.ABArms[l.Arm]+" failed")
		}
	}
	name := "?"
	if l.Arm >= 0 && l.Arm < len(in.arms) {
		name = strings.ToUpper(snippets.ABArms[l.Arm]) + " (" + in.arms[l.Arm].ID + ")"
	}
	return fmt.Errorf("bench-native: %s failed:\n%s", name, l.Error)
}

// round takes one round in this process: every arm once, in order.
func (in *abInterpreter) round(order []int) error {
	words := make([]string, len(order))
	for i, arm := range order {
		words[i] = strconv.Itoa(arm)
	}
	if _, err := fmt.Fprintf(in.commands, "round %s\n", strings.Join(words, " ")); err != nil {
		return fmt.Errorf("bench-native: interpreter %d: %w", in.index, err)
	}
	for got := 0; got < len(order); {
		l, err := in.next()
		if err != nil {
			return err
		}
		switch l.Type {
		case "sample":
			if err := in.add(l); err != nil {
				return err
			}
			got++
		case "error":
			return in.fail(l)
		}
	}
	return nil
}

// finish tells the process to stop and ends its runs with status, unless
// they ended already.
func (in *abInterpreter) finish(status string) {
	fmt.Fprintln(in.commands, "end")
	in.commands.Close()
	if in.failed {
		return
	}
	errText := ""
	if status == snippets.RunStopped {
		errText = "interrupted"
	}
	for _, r := range in.runs {
		r.End(status, errText)
	}
}

// takeRounds takes rounds in turn across the processes until the server
// says the benchmark is decided, maxRounds rounds per process are taken,
// the deadline passes, or ctx ends. It returns why it stopped early, if
// it did not stop on the server's word.
func (b *benchNative) takeRounds(ctx context.Context, id string, interps []*abInterpreter, maxRounds int, deadline time.Time) (string, error) {
	if maxRounds <= 0 {
		maxRounds = 60
	}
	for r := 1; ; r++ {
		for _, in := range interps {
			if err := in.round(rand.Perm(len(in.arms))); err != nil {
				return "", err
			}
		}
		switch {
		case ctx.Err() != nil:
			return "interrupted", nil
		case r >= maxRounds:
			return "", nil // the stop rule decides at this many rounds at the latest
		case time.Now().After(deadline):
			return fmt.Sprintf("time budget of %g s spent after %d rounds per interpreter", float64(b.BudgetMs)/1000, r), nil
		case r%abPollEvery == 0:
			v, err := b.getAB(ctx, id)
			if err != nil {
				return "", err
			}
			if v.Decided {
				return "", nil
			}
		}
	}
}
