package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pyplay/pyplay/server/bench/suite"
	"github.com/pyplay/pyplay/snippets/examples"
)

// `pyplay bench-native -go` times the binary's own Go kernel of a reference
// suite workload (server/bench/suite) instead of the snippet in python3,
// and streams it as runtime native-go. The snippet must be one of the
// suite's Python examples, unedited (or differing only in line endings and
// trailing space): that is how the workload is known. The timing follows
// benchnative.py's rules exactly (timer resolution, first run, warmup
// recalibrated from the last samples, samples of at least 100 ticks and
// 5 ms), and every kernel result is compared with the workload's check
// before its sample counts.

// nativeGoRuntime is the runtime name of the Go kernels run natively.
const nativeGoRuntime = "native-go"

// suiteWorkloadOf finds the suite workload whose Python example code is.
func suiteWorkloadOf(code string) (suite.Workload, bool) {
	norm := func(s string) string {
		lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " \t")
		}
		return strings.TrimSpace(strings.Join(lines, "\n"))
	}
	code = norm(code)
	for _, ex := range examples.All() {
		if norm(ex.Code) != code {
			continue
		}
		if w, ok := suite.ByPython(ex.Name); ok {
			return w, true
		}
	}
	return suite.Workload{}, false
}

// goDriverSettings are the sampling rules, as the python3 driver gets them.
type goDriverSettings struct {
	Samples, WarmupMs, MinWarmup, MaxWarmupMs, BudgetMs int
	MinSampleMs                                         float64
}

// startGoDriver runs the Go kernel of w in a goroutine that reports on a
// pipe exactly as benchnative.py does on its file descriptor 3.
func (b *benchNative) startGoDriver(w suite.Workload) (*driver, error) {
	results, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	d := &driver{waited: make(chan error, 1), results: results, started: time.Now()}
	var stopped atomic.Bool
	d.stop = func() { stopped.Store(true) }
	s := goDriverSettings{
		Samples: b.Samples, WarmupMs: b.WarmupMs, MinWarmup: b.MinWarmup,
		MaxWarmupMs: max(b.WarmupMs, b.BudgetMs/4), MinSampleMs: 5, BudgetMs: b.BudgetMs,
	}
	go func() {
		runGoDriver(pw, w, s, stopped.Load, suite.Run)
		pw.Close()
		d.waited <- nil
	}()
	return d, nil
}

const goTicksPerSample = 100

// goTimerResolution is the median step between distinct monotonic clock
// readings, as benchnative.py measures perf_counter_ns.
func goTimerResolution() float64 {
	start := time.Now()
	var steps []int64
	last := time.Since(start).Nanoseconds()
	for len(steps) < 201 {
		t := time.Since(start).Nanoseconds()
		if t != last {
			steps = append(steps, t-last)
			last = t
		}
		if t > 50e6 {
			break
		}
	}
	if len(steps) == 0 {
		return 1e6
	}
	slices.Sort(steps)
	return float64(max(1, steps[len(steps)/2]))
}

func goItersFor(targetNs, perIterNs float64) int {
	if !(perIterNs > 0) {
		return 1_000_000
	}
	return int(max(1, min(1_000_000_000, math.Ceil(targetNs/perIterNs))))
}

func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// runGoDriver times run(w.ID, w.N) by benchnative.py's rules and writes
// its JSON lines to out; stop is polled between samples.
func runGoDriver(out io.Writer, w suite.Workload, s goDriverSettings, stop func() bool, run func(string, int) (string, error)) {
	enc := json.NewEncoder(out)
	emit := func(kv map[string]any) { enc.Encode(kv) }
	res := goTimerResolution()
	targetNs := max(goTicksPerSample*res, s.MinSampleMs*1e6)
	env := map[string]any{
		"platform":          runtime.GOOS + " " + runtime.GOARCH,
		"cores":             runtime.NumCPU(),
		"go":                runtime.Version(),
		"goVersion":         runtime.Version(),
		"goCompiler":        runtime.Compiler,
		"os":                runtime.GOOS,
		"timer":             "time.Since (monotonic clock)",
		"timerResolutionNs": res,
		"hidden":            false,
	}
	config := map[string]any{
		"harness":        "pyplay-bench-native-go/1",
		"workload":       w.ID,
		"n":              w.N,
		"check":          w.Check,
		"warmupMs":       s.WarmupMs,
		"minWarmup":      s.MinWarmup,
		"maxWarmupMs":    s.MaxWarmupMs,
		"minSampleMs":    s.MinSampleMs,
		"targetSampleMs": math.Round(targetNs/1e3) / 1e3,
		"ticksPerSample": goTicksPerSample,
		"samples":        s.Samples,
		"budgetMs":       s.BudgetMs,
		"checked":        "every result is compared with the workload's check",
	}
	// loop runs the kernel iters times; a wrong result is an error.
	loop := func(iters int) (float64, error) {
		t0 := time.Now()
		for range iters {
			got, err := run(w.ID, w.N)
			if err != nil {
				return 0, err
			}
			if got != w.Check {
				return 0, fmt.Errorf("%s(%d) returned %q, want %q", w.ID, w.N, got, w.Check)
			}
		}
		return float64(time.Since(t0).Nanoseconds()), nil
	}
	fail := func(err error) { emit(map[string]any{"type": "error", "error": err.Error()}) }

	first, err := loop(1)
	emit(map[string]any{"type": "env", "env": env, "config": config, "runtimeVersion": runtime.Version(), "firstRunMs": first / 1e6})
	if err != nil {
		fail(err)
		return
	}
	start := time.Now()
	elapsedMs := func() float64 { return float64(time.Since(start).Nanoseconds()) / 1e6 }
	var perIter []float64
	iters := goItersFor(targetNs, first)
	for n := 1; ; n++ {
		if stop() {
			return
		}
		ns, err := loop(iters)
		if err != nil {
			fail(err)
			return
		}
		perIter = append(perIter, ns/float64(iters))
		emit(map[string]any{"type": "sample", "warmup": true, "ns": ns / float64(iters), "iters": iters})
		iters = goItersFor(targetNs, ns/float64(iters))
		if e := elapsedMs(); (e >= float64(s.WarmupMs) && n >= s.MinWarmup) || e >= float64(s.MaxWarmupMs) {
			break
		}
	}
	iters = goItersFor(targetNs, medianOf(perIter[max(0, len(perIter)-5):]))
	for i := range s.Samples {
		if stop() {
			return
		}
		if elapsedMs() >= float64(s.BudgetMs) {
			emit(map[string]any{"type": "done", "reason": fmt.Sprintf("time budget of %g s reached after %d of %d samples", float64(s.BudgetMs)/1000, i, s.Samples)})
			return
		}
		ns, err := loop(iters)
		if err != nil {
			fail(err)
			return
		}
		emit(map[string]any{"type": "sample", "warmup": false, "ns": ns / float64(iters), "iters": iters})
	}
	emit(map[string]any{"type": "done", "reason": ""})
}
