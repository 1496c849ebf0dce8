package stats

import (
	"fmt"
	"math"
)

// Run-level comparison for pooled tables.
//
// Runs made at different times (the runtime × browser × machine table) differ
// by far more than their samples suggest: the issue measured run medians of
// the same program varying by 12–19 % (CV) on one machine, while a run's own
// samples are tight. So the unit is the run: each run is reduced to its
// median, and groups are compared by how their run medians vary.

// DefaultRunsPriorCV is the run-to-run variation assumed when a group has too
// few runs to measure it (fewer than RunsMinRuns): 20 %, the upper end of the
// 12–19 % CV of run medians measured in issue 11, rounded up. Assuming too
// little would turn chance into verdicts; assuming too much only leaves
// small differences undecided, and large ones (a 3× slower runtime) still
// come out.
const DefaultRunsPriorCV = 0.2

// RunsMinRuns is the fewest runs in a group whose spread CompareRuns
// measures; below it the spread is DefaultRunsPriorCV (or the options').
const RunsMinRuns = 3

// RunsOptions configures CompareRuns. Start from DefaultRunsOptions: the
// zero value means a threshold of 0.
type RunsOptions struct {
	// Threshold and Alpha mean what they mean in ABOptions.
	Threshold float64
	Alpha     float64
	// PriorCV is the run-to-run variation assumed for a group with fewer
	// than RunsMinRuns runs; 0 or less means DefaultRunsPriorCV.
	PriorCV float64
	// NameA and NameB label the groups in Summary; empty means "a" and "b".
	NameA, NameB string
}

// DefaultRunsOptions returns a 2 % threshold, 95 % intervals and the default
// prior.
func DefaultRunsOptions() RunsOptions {
	return RunsOptions{Threshold: DefaultABThreshold, Alpha: DefaultABAlpha, PriorCV: DefaultRunsPriorCV}
}

// withDefaults replaces unset or invalid fields by their defaults.
func (o RunsOptions) withDefaults() RunsOptions {
	d := DefaultRunsOptions()
	if !(o.Threshold >= 0) || math.IsInf(o.Threshold, 1) {
		o.Threshold = d.Threshold
	}
	if !(o.Alpha > 0 && o.Alpha < 1) {
		o.Alpha = d.Alpha
	}
	if !(o.PriorCV > 0) || math.IsInf(o.PriorCV, 1) {
		o.PriorCV = d.PriorCV
	}
	if o.NameA == "" {
		o.NameA = "a"
	}
	if o.NameB == "" {
		o.NameB = "b"
	}
	return o
}

// RunsComparison compares group a with baseline group b, run by run. Every
// number is finite. When a group has no usable run, Ratio, CILow and CIHigh
// are 0 and the verdict is ABUndecided.
type RunsComparison struct {
	// Ratio is a's typical run median over b's (geometric means): above 1
	// a is slower.
	Ratio     float64   `json:"ratio"`
	CILow     float64   `json:"ciLow"`
	CIHigh    float64   `json:"ciHigh"`
	Level     float64   `json:"level"`
	Threshold float64   `json:"threshold"`
	Verdict   ABVerdict `json:"verdict"`
	// RunsA and RunsB count the usable runs (at least one finite, positive
	// sample).
	RunsA int `json:"runsA"`
	RunsB int `json:"runsB"`
	// Note says when the interval rests on the assumed run-to-run
	// variation rather than a measured one; empty otherwise.
	Note    string `json:"note,omitempty"`
	Summary string `json:"summary"`
}

// CompareRuns compares runs of a (the candidate) with runs of b (the
// baseline); each inner slice holds one run's samples (ns per iteration).
//
// Each run counts once, by its median. The ratio is the geometric mean of
// a's run medians over b's, and the interval is Welch's t interval on the
// log run medians: runs are the independent units, and a group of a handful
// of runs needs t's wider quantiles (a bootstrap over so few runs is too
// narrow). A group with fewer than RunsMinRuns runs cannot show its spread,
// so it is taken as opts.PriorCV (or the two runs' own spread if larger),
// and Note says so.
func CompareRuns(a, b [][]float64, opts RunsOptions) RunsComparison {
	o := opts.withDefaults()
	la, lb := runLogMedians(a), runLogMedians(b)
	res := RunsComparison{
		Level: 1 - o.Alpha, Threshold: o.Threshold, Verdict: ABUndecided,
		RunsA: len(la), RunsB: len(lb),
	}
	if len(la) == 0 || len(lb) == 0 {
		res.Summary = fmt.Sprintf("Undecided: no runs of %s to compare.", runsMissing(o, len(la), len(lb)))
		return res
	}
	va, dfa := runsSpread(la, o.PriorCV)
	vb, dfb := runsSpread(lb, o.PriorCV)
	centre := Mean(la) - Mean(lb)
	halfWidth := studentTQuantile(1-o.Alpha/2, satterthwaiteDF([]float64{va, vb}, []float64{dfa, dfb})) * math.Sqrt(va+vb)
	res.Ratio = abExp(centre)
	res.CILow = abExp(centre - halfWidth)
	res.CIHigh = abExp(centre + halfWidth)
	res.Verdict = abDecide(res.CILow, res.CIHigh, o.Threshold)
	res.Note = runsNote(o, len(la), len(lb))
	res.Summary = abSentence(res.Verdict, res.Ratio, res.CILow, res.CIHigh, o.Threshold, abWording{
		arm: o.NameA, base: o.NameB, more: "runs", after: fmt.Sprintf("%d + %d runs", len(la), len(lb)),
	})
	return res
}

// runLogMedians returns the log of each run's median over its finite,
// positive samples, skipping runs that have none.
func runLogMedians(runs [][]float64) []float64 {
	var out []float64
	for _, run := range runs {
		var ok []float64
		for _, x := range run {
			if x > 0 && !math.IsInf(x, 1) {
				ok = append(ok, x)
			}
		}
		if len(ok) > 0 {
			out = append(out, math.Log(Median(ok)))
		}
	}
	return out
}

// runsSpread returns the variance of the mean of logs (the squared standard
// error) and its degrees of freedom: measured with RunsMinRuns runs or more,
// otherwise the prior (or the measured spread of two runs, if larger) taken
// as known, with infinite degrees of freedom.
func runsSpread(logs []float64, priorCV float64) (variance, df float64) {
	n := float64(len(logs))
	if len(logs) >= RunsMinRuns {
		sd := StdDev(logs)
		return sd * sd / n, n - 1
	}
	v := priorCV * priorCV
	if len(logs) == 2 {
		sd := StdDev(logs)
		v = math.Max(v, sd*sd)
	}
	return v / n, math.Inf(1)
}

// runsNote explains an interval that rests on the assumed spread.
func runsNote(o RunsOptions, na, nb int) string {
	var few []string
	if na < RunsMinRuns {
		few = append(few, fmt.Sprintf("%s has %d run%s", o.NameA, na, abPlural(na)))
	}
	if nb < RunsMinRuns {
		few = append(few, fmt.Sprintf("%s has %d run%s", o.NameB, nb, abPlural(nb)))
	}
	switch len(few) {
	case 0:
		return ""
	case 2:
		few = []string{few[0] + " and " + few[1]}
	}
	return fmt.Sprintf("%s: too few to measure run-to-run variation, so the interval assumes at least %.0f %% (take %d or more runs to measure it).",
		few[0], 100*o.PriorCV, RunsMinRuns)
}

// runsMissing names the group(s) without runs.
func runsMissing(o RunsOptions, na, nb int) string {
	switch {
	case na == 0 && nb == 0:
		return o.NameA + " or " + o.NameB
	case na == 0:
		return o.NameA
	}
	return o.NameB
}
