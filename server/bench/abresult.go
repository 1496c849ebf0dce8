package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/pyplay/pyplay/server/bench/stats"
	"github.com/pyplay/pyplay/snippets"
)

// The results of an A/B benchmark: its runs' samples paired into rounds
// and compared with package stats, arm by arm, per runtime.
//
// Pairing: within one run (one interpreter, runtime and arm), the k-th
// non-warmup sample by seq belongs to round k, because the producer takes
// exactly one measured sample per arm per round, in round order. Round k
// of an interpreter is complete when every arm's run has its k-th sample;
// only complete rounds count. Interpreters are ordered by their index.
//
// Decided and done: each (runtime, arm) result follows stats.ABShouldStop,
// the sequential rule that looks at planned points only, so polling does
// not add looks. The benchmark is decided when every result is settled,
// and done when it is decided or its producer has finished (budgetOver).

// abDiffCap bounds the per-round ratios a response carries for the chart:
// the newest rounds of each series, at most this many in all.
const abDiffCap = 2000

// abAbandonAfter is how long past its budget a benchmark whose runs still
// say running is taken as abandoned (a producer that vanished without
// run.end): then it is done, judged on what it has.
const abAbandonAfter = 10 * time.Minute

// abView is GET /api/bench/ab/{id}.
type abView struct {
	ID           string     `json:"id"`
	URL          string     `json:"url"`
	A            string     `json:"a"`
	B            string     `json:"b"`
	C            string     `json:"c,omitempty"`
	Runtimes     []string   `json:"runtimes"`
	Threshold    float64    `json:"threshold"`
	BudgetMs     int        `json:"budgetMs"`
	Interpreters int        `json:"interpreters"`
	MaxRounds    int        `json:"maxRounds"` // rounds per interpreter after which the rule decides at the latest
	Created      time.Time  `json:"created"`
	Ended        *time.Time `json:"ended,omitempty"`
	// Rounds counts complete rounds over all interpreters, the smallest
	// over the runtimes.
	Rounds  int            `json:"rounds"`
	Decided bool           `json:"decided"`
	Done    bool           `json:"done"`
	Results []abResultView `json:"results"` // per runtime, then arm
	Diffs   []abDiff       `json:"diffs"`
	Runs    []abRunView    `json:"runs"`
}

// abResultView compares one arm with A on one runtime.
type abResultView struct {
	Runtime string `json:"runtime"`
	Arm     string `json:"arm"` // "b" or "c"
	// Ratio is the arm's time over A's (above 1: slower), with its
	// interval at Level.
	Ratio  float64 `json:"ratio"`
	CILow  float64 `json:"ciLow"`
	CIHigh float64 `json:"ciHigh"`
	Level  float64 `json:"level"`
	// Verdict is faster, slower, same or undecided; undecided until the
	// stop rule settles the comparison (Decided), whatever the interval
	// so far shows.
	Verdict      string `json:"verdict"`
	Decided      bool   `json:"decided"`
	Rounds       int    `json:"rounds"`
	Interpreters int    `json:"interpreters"`
	Summary      string `json:"summary"`
	// MedianA and MedianB are the medians of A's and this arm's samples in
	// complete rounds, ns per iteration (MedianB is arm C's for arm c).
	MedianA float64 `json:"medianA"`
	MedianB float64 `json:"medianB"`
}

// abDiff is one round's ratio of an arm to A, for the chart.
type abDiff struct {
	Runtime     string  `json:"runtime"`
	Arm         string  `json:"arm"`
	Interpreter int     `json:"interpreter"` // the producer's index
	Round       int     `json:"round"`
	Ratio       float64 `json:"ratio"`
}

// abRunView is one run of the benchmark, so that a page can tell which
// live messages concern it.
type abRunView struct {
	ID          string `json:"id"`
	Runtime     string `json:"runtime"`
	Arm         string `json:"arm"`
	Interpreter int    `json:"interpreter"`
	Status      string `json:"status"`
	Samples     int    `json:"samples"` // measured (non-warmup)
}

// abSeries is one runtime's data: interpreter indexes in order, the
// samples of each arm in each, and the complete rounds as stats wants them.
type abSeries struct {
	runtime      string
	interpreters []int                // producer indexes, ascending
	data         stats.ABData         // Interpreters[i]: complete rounds of interpreters[i]
	planned      map[int]map[int]bool // arm → interpreter indexes with a run
	runs         map[[2]int]*abArmRun // (interpreter, arm) → its run
}

type abArmRun struct {
	run *snippets.Run
	ns  []float64 // non-warmup samples by seq
}

// pairRounds builds each runtime's series from the benchmark's runs. When a
// producer started two runs for one (interpreter, runtime, arm), the older
// one counts.
func pairRounds(ab *snippets.AB, runs []*snippets.Run) []*abSeries {
	arms := len(ab.Arms)
	out := make([]*abSeries, len(ab.Runtimes))
	byRuntime := map[string]*abSeries{}
	for i, rt := range ab.Runtimes {
		out[i] = &abSeries{runtime: rt, planned: map[int]map[int]bool{}, runs: map[[2]int]*abArmRun{}}
		byRuntime[rt] = out[i]
	}
	for _, r := range runs { // oldest first
		s := byRuntime[r.Runtime]
		if s == nil || r.AB == nil || r.AB.ID != ab.ID {
			continue
		}
		arm := snippets.ArmIndex(r.AB.Arm)
		if arm < 0 || arm >= arms {
			continue
		}
		key := [2]int{r.AB.Interpreter, arm}
		if s.runs[key] != nil {
			continue
		}
		ns := make([]float64, 0, len(r.Samples))
		for _, sm := range r.Samples {
			if !sm.Warmup {
				ns = append(ns, sm.NsPerIter)
			}
		}
		s.runs[key] = &abArmRun{run: r, ns: ns}
		if s.planned[arm] == nil {
			s.planned[arm] = map[int]bool{}
		}
		s.planned[arm][r.AB.Interpreter] = true
		if !slices.Contains(s.interpreters, r.AB.Interpreter) {
			s.interpreters = append(s.interpreters, r.AB.Interpreter)
		}
	}
	for _, s := range out {
		slices.Sort(s.interpreters)
		s.data.Interpreters = make([][]stats.ABRound, len(s.interpreters))
		for i, k := range s.interpreters {
			n := math.MaxInt
			for arm := range arms {
				ar := s.runs[[2]int{k, arm}]
				if ar == nil {
					n = 0
					break
				}
				n = min(n, len(ar.ns))
			}
			rounds := make([]stats.ABRound, n)
			for r := range rounds {
				rounds[r].NS = make([]float64, arms)
				for arm := range arms {
					rounds[r].NS[arm] = s.runs[[2]int{k, arm}].ns[r]
				}
			}
			s.data.Interpreters[i] = rounds
		}
	}
	return out
}

// complete counts the complete rounds over all interpreters.
func (s *abSeries) complete() int {
	n := 0
	for _, rounds := range s.data.Interpreters {
		n += len(rounds)
	}
	return n
}

// finished reports whether the producer has run every planned interpreter
// of every arm on this runtime.
func (s *abSeries) finished(arms, interpreters int) bool {
	for arm := range arms {
		if len(s.planned[arm]) < interpreters {
			return false
		}
	}
	return true
}

// computeAB turns the stored benchmark and its runs into the response.
// now decides whether an unfinished benchmark counts as abandoned.
func computeAB(ctx context.Context, ab *snippets.AB, runs []*snippets.Run, now time.Time) (*abView, error) {
	maxRounds := stats.ABMaxRounds(ab.BudgetMs, ab.Interpreters, len(ab.Arms)*len(ab.Runtimes))
	v := &abView{ID: ab.ID, URL: abPath(ab.ID), A: ab.Arms[0], B: ab.Arms[1], Runtimes: ab.Runtimes,
		Threshold: ab.Threshold, BudgetMs: ab.BudgetMs, Interpreters: ab.Interpreters, MaxRounds: maxRounds,
		Created: ab.Created, Ended: ab.Ended, Results: []abResultView{}, Diffs: []abDiff{}, Runs: []abRunView{}}
	if len(ab.Arms) > 2 {
		v.C = ab.Arms[2]
	}
	series := pairRounds(ab, runs)
	budgetOver := ab.Ended != nil || producerFinished(ab, runs, series) || abandoned(ab, now)
	opts := stats.ABOptions{Threshold: ab.Threshold, Interpreters: ab.Interpreters, MaxRounds: maxRounds,
		Names: []string{"A", "B", "C"}}
	opts.Alpha = stats.DefaultABAlpha
	v.Decided = true
	v.Rounds = math.MaxInt
	for _, s := range series {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ab %s: %w", ab.ID, err)
		}
		v.Rounds = min(v.Rounds, s.complete())
		for arm := 1; arm < len(ab.Arms); arm++ {
			res := compareArm(s, arm, budgetOver, opts)
			v.Decided = v.Decided && res.Decided
			v.Results = append(v.Results, res)
		}
	}
	if len(series) == 0 {
		v.Rounds, v.Decided = 0, false
	}
	v.Done = v.Decided || budgetOver
	v.Diffs = abDiffs(series, len(ab.Arms))
	for _, r := range runs {
		if r.AB == nil {
			continue
		}
		n := 0
		for _, sm := range r.Samples {
			if !sm.Warmup {
				n++
			}
		}
		v.Runs = append(v.Runs, abRunView{ID: r.ID, Runtime: r.Runtime, Arm: r.AB.Arm, Interpreter: r.AB.Interpreter, Status: r.Status, Samples: n})
	}
	return v, nil
}

// producerFinished reports whether the producer has stopped: it has runs,
// none is running, and either it ran every planned interpreter of every
// arm on every runtime, or a run ended stopped or failed (the producer
// gave up early). Between interpreters every run may have ended too, so
// all ended alone does not say the producer is through. It reads the runs
// themselves, not AB.Stored, which may be older than them.
func producerFinished(ab *snippets.AB, runs []*snippets.Run, series []*abSeries) bool {
	if len(runs) == 0 {
		return false
	}
	gaveUp := false
	for _, r := range runs {
		switch r.Status {
		case snippets.RunRunning:
			return false
		case snippets.RunFailed, snippets.RunStopped:
			gaveUp = true
		}
	}
	if gaveUp {
		return true
	}
	for _, s := range series {
		if !s.finished(len(ab.Arms), ab.Interpreters) {
			return false
		}
	}
	return true
}

// abandoned reports whether a benchmark is so far past its budget that its
// producer must be gone.
func abandoned(ab *snippets.AB, now time.Time) bool {
	return now.After(ab.Created.Add(time.Duration(ab.BudgetMs)*time.Millisecond + abAbandonAfter))
}

// compareArm compares one arm with A on one runtime. Until the stop rule
// settles it, the ratio and interval are those of all rounds so far
// (stats.ABCompare) and the verdict is undecided.
func compareArm(s *abSeries, arm int, budgetOver bool, opts stats.ABOptions) abResultView {
	res, settled := stats.ABShouldStop(s.data, arm, budgetOver, opts)
	summary := res.Summary
	if !settled {
		live := stats.ABCompare(s.data, arm, opts)
		res = live
		res.Verdict = stats.ABUndecided
		summary = provisionalSummary(live, opts)
	}
	var a, b []float64
	for _, rounds := range s.data.Interpreters {
		for _, r := range rounds {
			a = append(a, r.NS[0])
			b = append(b, r.NS[arm])
		}
	}
	return abResultView{
		Runtime: s.runtime, Arm: snippets.ABArms[arm],
		Ratio: finite(res.Ratio), CILow: finite(res.CILow), CIHigh: finite(res.CIHigh), Level: finite(res.Level),
		Verdict: string(res.Verdict), Decided: settled, Rounds: res.Rounds, Interpreters: res.Interpreters,
		Summary: summary, MedianA: finite(stats.Median(a)), MedianB: finite(stats.Median(b)),
	}
}

// provisionalSummary says where a comparison stands before the stop rule
// settles it, without a verdict: the interval so far is not yet one.
func provisionalSummary(r stats.ABResult, opts stats.ABOptions) string {
	arm := opts.Names[r.Arm]
	if r.Rounds == 0 {
		return fmt.Sprintf("Undecided: not enough complete rounds of %s and A yet.", arm)
	}
	plural := "s"
	if r.Interpreters == 1 {
		plural = ""
	}
	return fmt.Sprintf("Undecided so far: %s/A %.3f [%.3f–%.3f] after %d rounds in %d interpreter%s; still measuring.",
		arm, r.Ratio, r.CILow, r.CIHigh, r.Rounds, r.Interpreters, plural)
}

// abDiffs lists each round's ratio of each arm to A, keeping the newest
// rounds of each series (runtime × arm) when there are more than
// abDiffCap in all.
func abDiffs(series []*abSeries, arms int) []abDiff {
	nSeries := len(series) * (arms - 1)
	if nSeries == 0 {
		return []abDiff{}
	}
	per := abDiffCap / nSeries
	out := []abDiff{}
	for _, s := range series {
		for arm := 1; arm < arms; arm++ {
			var d []abDiff
			for i, rounds := range s.data.Interpreters {
				for r, round := range rounds {
					a, b := round.NS[0], round.NS[arm]
					if !(a > 0 && b > 0) {
						continue // a 0 ns sample: the timer saw nothing
					}
					d = append(d, abDiff{Runtime: s.runtime, Arm: snippets.ABArms[arm], Interpreter: s.interpreters[i], Round: r, Ratio: finite(b / a)})
				}
			}
			if len(d) > per {
				d = d[len(d)-per:]
			}
			out = append(out, d...)
		}
	}
	return out
}

// finite makes a number safe for JSON: NaN and ±Inf become 0. The
// statistics promise finite numbers; this keeps a bug from breaking every
// poll with an encoding error.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// abCache keeps each A/B benchmark's computed response, keyed by what is
// stored for it (AB.Stored, which every stored batch, run start and run
// end changes) and whether it has ended or been abandoned, so that polling
// costs one small query while nothing changes. One computation per
// benchmark at a time; the others wait for it.
type abCache struct {
	mu      sync.Mutex
	entries map[string]*abEntry
}

// abCacheSize bounds the benchmarks kept; beyond it an arbitrary entry
// makes room (a benchmark polled again is recomputed once).
const abCacheSize = 256

type abEntry struct {
	// turn is held (a token in the channel) while computing; a request
	// waiting for its turn gives up when it is cancelled.
	turn   chan struct{}
	key    abKey
	result *abComputed
}

type abKey struct {
	stored    snippets.ABCounts
	ended     bool
	abandoned bool
}

// abComputed is a computed response and its encoding.
type abComputed struct {
	view *abView
	body []byte
}

func (ac *abCache) entry(id string) *abEntry {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if ac.entries == nil {
		ac.entries = map[string]*abEntry{}
	}
	e := ac.entries[id]
	if e == nil {
		if len(ac.entries) >= abCacheSize {
			for k := range ac.entries {
				delete(ac.entries, k)
				break
			}
		}
		e = &abEntry{turn: make(chan struct{}, 1)}
		ac.entries[id] = e
	}
	return e
}

// get returns the benchmark's response, computing it when what is stored
// has changed since the last computation. A benchmark found done for the
// first time is marked ended in the store, so that it stays done.
func (ac *abCache) get(ctx context.Context, l *Lab, ab *snippets.AB) (*abComputed, error) {
	now := time.Now()
	key := abKey{stored: ab.Stored, ended: ab.Ended != nil, abandoned: abandoned(ab, now)}
	e := ac.entry(ab.ID)
	select {
	case e.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("ab %s: %w", ab.ID, ctx.Err())
	}
	defer func() { <-e.turn }()
	if e.result != nil && e.key == key {
		return e.result, nil
	}
	runs, err := l.cfg.Store.ABRuns(ctx, ab.ID)
	if err != nil {
		return nil, fmt.Errorf("runs of ab %s: %w", ab.ID, err)
	}
	v, err := computeAB(ctx, ab, runs, now)
	if err != nil {
		return nil, err
	}
	if v.Done && ab.Ended == nil {
		if err := l.cfg.Store.EndAB(ctx, ab.ID); err != nil {
			// Not fatal: the next computation tries again.
			l.log.Warn("bench: end ab", "ab", ab.ID, "err", err)
		} else {
			t := now.UTC().Truncate(time.Millisecond)
			v.Ended, key.ended = &t, true
		}
	}
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("ab %s: encode: %w", ab.ID, err)
	}
	e.key, e.result = key, &abComputed{view: v, body: body}
	return e.result, nil
}
