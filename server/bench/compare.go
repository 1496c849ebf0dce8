package bench

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/pyplay/pyplay/server/bench/stats"
	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
)

// Verdicts of a comparison row, beside stats' faster, slower, same and
// undecided.
const (
	verdictBaseline = "baseline"
	verdictNoData   = "no data"
)

// compareRow is one group of the comparison table: its pooled statistics
// and how it compares with the baseline group, run by run.
type compareRow struct {
	benchGroup
	RuntimeVersions []string      `json:"runtimeVersions"`
	Runs            []string      `json:"runs"`    // run IDs pooled in this row, newest first
	Summary         stats.Summary `json:"summary"` // of the pooled samples: median, mad, p95, ciLow/ciHigh (of the median), …
	Warnings        []string      `json:"warnings"`
	Baseline        bool          `json:"baseline"`
	// Ratio is this row's typical run median over the baseline's
	// (geometric means of the runs' medians; above 1: slower), with its
	// 95% interval [CILow, CIHigh], which includes run-to-run variation;
	// 0 for the baseline row and rows without samples.
	Ratio  float64 `json:"ratio"`
	CILow  float64 `json:"ciLow"`
	CIHigh float64 `json:"ciHigh"`
	// RunComparison is the whole comparison with the baseline
	// (stats.CompareRuns: runs are the unit); absent for the baseline row
	// and rows without samples.
	RunComparison *stats.RunsComparison `json:"runComparison,omitempty"`
	// Verdict is "baseline", "faster", "slower", "same" (no difference
	// beyond the threshold), "undecided" (needs more runs) or "no data";
	// Text says the comparison in a sentence.
	Verdict string `json:"verdict"`
	Text    string `json:"text"`
}

// compareTable is GET /api/bench/compare.
type compareTable struct {
	Snippet   snippetInfo  `json:"snippet"`
	Baseline  string       `json:"baseline"` // key of the baseline row, "" when nothing was measured
	Groups    []compareRow `json:"groups"`   // baseline first, then fastest first
	Truncated bool         `json:"truncated"`
}

// pool gathers the measured samples of runs that belong together. Failed
// runs are left out: their samples stop at an exception, and the
// snippet's timing is not what failed.
type pool struct {
	group      benchGroup
	runs       []string
	versions   []string
	ns         []float64   // every run's measured samples, pooled, for the summary
	perRun     [][]float64 // the same, run by run, for comparisons
	resolution float64
	hidden     bool
}

func (p *pool) add(r *snippets.Run) {
	m := measure(r)
	p.runs = append(p.runs, r.ID)
	if r.RuntimeVersion != "" && !slices.Contains(p.versions, r.RuntimeVersion) {
		p.versions = append(p.versions, r.RuntimeVersion)
	}
	p.ns = append(p.ns, m.ns...)
	if len(m.ns) > 0 {
		p.perRun = append(p.perRun, m.ns)
	}
	p.resolution = max(p.resolution, m.resolutionNs)
	p.hidden = p.hidden || m.hidden
}

// poolRuns groups runs by key, in the order keys first appear.
func poolRuns(runs []*snippets.Run, key func(*snippets.Run) benchGroup) []*pool {
	var out []*pool
	byKey := map[string]*pool{}
	for _, r := range runs {
		if r.Status == snippets.RunFailed {
			continue
		}
		g := key(r)
		p := byKey[g.Key]
		if p == nil {
			p = &pool{group: g}
			byKey[g.Key] = p
			out = append(out, p)
		}
		p.add(r)
	}
	return out
}

// compareRuns builds the comparison table. baseline names the baseline row
// by its key, by one of its runs' IDs, or by runtime (the row of that
// runtime with the most samples); empty means cpython-native when there is
// such a row, otherwise the row with the most samples. It stops when ctx
// ends.
func compareRuns(ctx context.Context, runs []*snippets.Run, baseline string) (compareTable, error) {
	pools := poolRuns(runs, groupOf)
	rows := make([]compareRow, len(pools))
	for i, p := range pools {
		sum := stats.Summarize(p.ns)
		rows[i] = compareRow{benchGroup: p.group, RuntimeVersions: nonNil(p.versions), Runs: p.runs,
			Summary: sum, Warnings: warnings(sum, p.resolution, p.hidden)}
	}
	base, err := pickBaseline(rows, runs, baseline)
	if err != nil {
		return compareTable{}, err
	}
	table := compareTable{Groups: rows}
	if base < 0 {
		for i := range rows {
			rows[i].Verdict, rows[i].Text = verdictNoData, "no samples yet"
		}
		return table, nil
	}
	b := &rows[base]
	table.Baseline = b.Key
	b.Baseline, b.Verdict = true, verdictBaseline
	b.Text = "baseline: median " + stats.FormatNs(b.Summary.Median) + " per iteration"
	for i := range rows {
		r := &rows[i]
		if i == base {
			continue
		}
		if r.Summary.N == 0 {
			r.Verdict, r.Text = verdictNoData, "no samples yet"
			continue
		}
		if err := ctx.Err(); err != nil {
			return compareTable{}, busy(err)
		}
		c := compareGroups(pools[i], pools[base])
		r.RunComparison = &c
		r.Ratio, r.CILow, r.CIHigh = c.Ratio, c.CILow, c.CIHigh
		r.Verdict = string(c.Verdict)
		r.Text = c.Summary
		if c.Note != "" {
			r.Text += " " + c.Note
		}
	}
	// Baseline first, then by median, fastest first; empty rows last.
	slices.SortStableFunc(rows, func(x, y compareRow) int {
		switch {
		case x.Baseline != y.Baseline:
			if x.Baseline {
				return -1
			}
			return 1
		case (x.Summary.N == 0) != (y.Summary.N == 0):
			if x.Summary.N == 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(x.Summary.Median, y.Summary.Median)
	})
	return table, nil
}

func pickBaseline(rows []compareRow, runs []*snippets.Run, want string) (int, error) {
	most := func(ok func(*compareRow) bool) int {
		best := -1
		for i := range rows {
			if rows[i].Summary.N > 0 && ok(&rows[i]) && (best < 0 || rows[i].Summary.N > rows[best].Summary.N) {
				best = i
			}
		}
		return best
	}
	if want == "" {
		if i := most(func(r *compareRow) bool { return r.Runtime == snippets.CPythonNative }); i >= 0 {
			return i, nil
		}
		return most(func(*compareRow) bool { return true }), nil
	}
	for i := range rows {
		if rows[i].Key == want {
			return i, nil
		}
	}
	for _, r := range runs {
		if r.ID == want {
			key := groupOf(r).Key
			for i := range rows {
				if rows[i].Key == key {
					return i, nil
				}
			}
			return 0, snippets.Errorf(snippets.Invalid, "run %s failed, so it cannot be the baseline", want)
		}
	}
	if knownRuntime(want) {
		if i := most(func(r *compareRow) bool { return r.Runtime == want }); i >= 0 {
			return i, nil
		}
		return 0, snippets.Errorf(snippets.Invalid, "no run of this snippet in %s has samples yet, so it cannot be the baseline", want)
	}
	return 0, snippets.Errorf(snippets.Invalid, "baseline %q is neither a group key, a run of this snippet nor a runtime", response.Truncate(want, 64))
}

// compareGroups compares two pools run by run: runs measured at different
// times differ by more than their samples suggest (issue 11), so each run
// counts once, by its median, and the interval includes how much runs vary.
func compareGroups(p, base *pool) stats.RunsComparison {
	opts := stats.DefaultRunsOptions()
	opts.NameA, opts.NameB = p.group.Label, base.group.Label
	return stats.CompareRuns(p.perRun, base.perRun, opts)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// overviewRow is a geometric mean of ratios across snippets, for one
// runtime or one group.
type overviewRow struct {
	benchGroup
	// GeoMean is the geometric mean, across snippets measured in both,
	// of this runtime's typical run over the baseline runtime's (runsRatio);
	// > 1 means slower.
	GeoMean  float64 `json:"geomean"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Snippets int     `json:"snippets"`
}

// overviewSnippet is one snippet's line on /bench.
type overviewSnippet struct {
	snippetInfo
	Runs    int       `json:"runs"`
	LastRun time.Time `json:"lastRun"`
	// Ratios holds each runtime's typical run over the baseline
	// runtime's (the geometric means of their run medians, runsRatio), per
	// runtime measured besides the baseline; empty when the baseline
	// runtime was not measured on this snippet.
	Ratios map[string]float64 `json:"ratios"`
	// BaselineMedian is the baseline runtime's median ns per iteration,
	// 0 when not measured.
	BaselineMedian float64 `json:"baselineMedian"`
}

// benchOverviewBody is GET /api/bench/overview.
type benchOverviewBody struct {
	Baseline string            `json:"baseline"` // the runtime ratios are relative to
	Runtimes []overviewRow     `json:"runtimes"` // per runtime, across snippets
	Groups   []overviewRow     `json:"groups"`   // per runtime × browser × machine, across snippets
	Snippets []overviewSnippet `json:"snippets"` // with runs, most recently run first
	Computed time.Time         `json:"computed"`
}

// overviewTTL is how long a computed overview is served: computing it reads
// every snippet's runs.
const overviewTTL = 15 * time.Second

// overviewCache computes the overview at most once per overviewTTL and
// baseline, one computation at a time.
type overviewCache struct {
	mu   sync.Mutex
	last map[string]*benchOverviewBody
}

func (oc *overviewCache) get(ctx context.Context, store snippets.Store, baseline string) (*benchOverviewBody, error) {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	if ov := oc.last[baseline]; ov != nil && time.Since(ov.Computed) < overviewTTL {
		return ov, nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	ov, err := computeOverview(ctx, store, baseline)
	if err != nil {
		return nil, err
	}
	if oc.last == nil {
		oc.last = map[string]*benchOverviewBody{}
	}
	oc.last[baseline] = ov
	return ov, nil
}

// computeOverview walks every snippet (the store has no index of snippets
// with runs) and pools each one's runs per runtime and per group.
func computeOverview(ctx context.Context, store snippets.Store, baseline string) (*benchOverviewBody, error) {
	ov := &benchOverviewBody{Baseline: baseline, Snippets: []overviewSnippet{}, Computed: time.Now()}
	perRuntime := map[string][]float64{}
	perGroup := map[string][]float64{}
	groups := map[string]benchGroup{}
	err := store.Each(ctx, func(sn *snippets.Snippet) error {
		runs, _, err := loadRuns(ctx, store, sn.ID)
		if err != nil || len(runs) == 0 {
			return err
		}
		line := overviewSnippet{snippetInfo: infoOf(sn), Runs: len(runs), LastRun: runs[0].Created, Ratios: map[string]float64{}}
		byRuntime := poolRuns(runs, func(r *snippets.Run) benchGroup {
			rt := runtimeOf(r)
			return benchGroup{Key: rt, Runtime: rt, Label: rt}
		})
		var base *pool
		for _, p := range byRuntime {
			if p.group.Runtime == baseline && len(p.ns) > 0 {
				base = p
			}
		}
		if base != nil && stats.Median(base.ns) > 0 {
			line.BaselineMedian = stats.Median(base.ns)
			for _, p := range byRuntime {
				if p.group.Runtime == baseline || len(p.ns) == 0 {
					continue
				}
				ratio := runsRatio(p, base)
				if !(ratio > 0) {
					continue // run medians of 0 ns: a timer too coarse to measure anything
				}
				line.Ratios[p.group.Runtime] = ratio
				perRuntime[p.group.Runtime] = append(perRuntime[p.group.Runtime], ratio)
			}
			for _, p := range poolRuns(runs, groupOf) {
				if p.group.Runtime == baseline || len(p.ns) == 0 {
					continue
				}
				ratio := runsRatio(p, base)
				if !(ratio > 0) {
					continue
				}
				groups[p.group.Key] = p.group
				perGroup[p.group.Key] = append(perGroup[p.group.Key], ratio)
			}
		}
		ov.Snippets = append(ov.Snippets, line)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench overview: %w", err)
	}
	slices.SortStableFunc(ov.Snippets, func(a, b overviewSnippet) int { return b.LastRun.Compare(a.LastRun) })
	ov.Runtimes = geoRows(perRuntime, func(k string) benchGroup { return benchGroup{Key: k, Runtime: k, Label: k} })
	ov.Groups = geoRows(perGroup, func(k string) benchGroup { return groups[k] })
	return ov, nil
}

// runsRatio is p's typical run over base's, runs being the unit as in the
// comparison table (stats.CompareRuns); 0 when it is not defined.
func runsRatio(p, base *pool) float64 {
	r := stats.CompareRuns(p.perRun, base.perRun, stats.DefaultRunsOptions()).Ratio
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return 0
	}
	return r
}

func geoRows(ratios map[string][]float64, group func(string) benchGroup) []overviewRow {
	rows := []overviewRow{}
	for k, rs := range ratios {
		rows = append(rows, overviewRow{benchGroup: group(k), GeoMean: stats.GeoMean(rs),
			Min: slices.Min(rs), Max: slices.Max(rs), Snippets: len(rs)})
	}
	slices.SortFunc(rows, func(a, b overviewRow) int { return cmp.Compare(a.GeoMean, b.GeoMean) })
	return rows
}
