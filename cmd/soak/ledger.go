package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pyplay/pyplay/snippets/sqlite"
)

// ledger is what the server acknowledged to the normal clients: snippets
// (201 or 200 to a share) and samples (acks of batches), to be found in
// the database after shutdown.
type ledger struct {
	mu       sync.Mutex
	snippets []string
	runs     map[string]int // run ID → samples acknowledged
	recent   []string       // the newest snippets and runs, for hostile clients to aim at
}

func newLedger() *ledger { return &ledger{runs: map[string]int{}} }

func (l *ledger) snippet(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.snippets = append(l.snippets, id)
}

func (l *ledger) samples(run string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs[run] = max(l.runs[run], n)
}

// aim records a snippet and run the hostile clients may go after.
func (l *ledger) aim(snippet, run string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recent = append(l.recent, snippet+"/"+run)
	if len(l.recent) > 64 {
		l.recent = l.recent[len(l.recent)-64:]
	}
}

// targets returns recent snippet and run IDs of normal clients.
func (l *ledger) targets() (snippets, runs []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range l.recent {
		sn, run, _ := strings.Cut(t, "/")
		if !slices.Contains(snippets, sn) {
			snippets = append(snippets, sn)
		}
		runs = append(runs, run)
	}
	return snippets, runs
}

// verify opens the database the server left and checks that everything
// acknowledged is there. It returns what is missing and a count of what
// was checked.
func (l *ledger) verify(path string) (lost []string, checked string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range l.snippets {
		if _, err := st.Get(ctx, id); err != nil {
			lost = append(lost, "snippet "+id+": "+err.Error())
		}
	}
	total := 0
	for run, n := range l.runs {
		total += n
		r, err := st.GetRun(ctx, run)
		switch {
		case err != nil:
			lost = append(lost, "run "+run+": "+err.Error())
		case len(r.Samples) < n:
			lost = append(lost, fmt.Sprintf("run %s: %d samples stored of %d acknowledged", run, len(r.Samples), n))
		}
	}
	return lost, fmt.Sprintf("%d snippets, %d runs and %d samples", len(l.snippets), len(l.runs), total), nil
}

// recorder collects the normal clients' operations.
type recorder struct {
	mu  sync.Mutex
	ops map[string]*opStats
}

type opStats struct {
	ok, failed int
	lat        []time.Duration
	errors     map[string]int
}

func newRecorder() *recorder { return &recorder{ops: map[string]*opStats{}} }

// op records one operation: its latency, and its error if it failed.
func (r *recorder) op(name string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.ops[name]
	if s == nil {
		s = &opStats{errors: map[string]int{}}
		r.ops[name] = s
	}
	if err != nil {
		s.failed++
		msg := err.Error()
		if len(msg) > 160 {
			msg = msg[:160] + "…"
		}
		s.errors[msg]++
		return
	}
	s.ok++
	s.lat = append(s.lat, d)
}

// report prints success and latency per operation and in all, and returns
// the share of operations that succeeded.
func (r *recorder) report(w io.Writer) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.ops))
	for n := range r.ops {
		names = append(names, n)
	}
	sort.Strings(names)
	var all []time.Duration
	ok, failed := 0, 0
	fmt.Fprintf(w, "normal clients:\n  %-22s %7s %7s %10s %10s\n", "operation", "ok", "failed", "median", "p99")
	for _, n := range names {
		s := r.ops[n]
		ok += s.ok
		failed += s.failed
		all = append(all, s.lat...)
		fmt.Fprintf(w, "  %-22s %7d %7d %10s %10s\n", n, s.ok, s.failed, quantile(s.lat, 0.5), quantile(s.lat, 0.99))
	}
	rate := 1.0
	if ok+failed > 0 {
		rate = float64(ok) / float64(ok+failed)
	}
	fmt.Fprintf(w, "  %-22s %7d %7d %10s %10s   → %.2f%% succeeded\n", "all", ok, failed, quantile(all, 0.5), quantile(all, 0.99), 100*rate)
	for _, n := range names {
		for msg, k := range r.ops[n].errors {
			fmt.Fprintf(w, "    %s failed ×%d: %s\n", n, k, msg)
		}
	}
	return rate
}

func quantile(ds []time.Duration, p float64) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	d := s[min(len(s)-1, int(p*float64(len(s))))]
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}

// syncMap is a counter per key, safe for concurrent use.
type syncMap struct {
	mu sync.Mutex
	m  map[string]int
}

func (s *syncMap) inc(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]int{}
	}
	s.m[k]++
}

func (s *syncMap) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.m)
}
