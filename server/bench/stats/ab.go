package stats

import (
	"fmt"
	"math"
)

// Paired-round A/B comparison.
//
// Samples of one benchmark run are taken within a fraction of a second and
// move together with whatever the machine does at that moment, so treating
// them as independent makes intervals far too narrow (issue 11). An A/B
// benchmark therefore takes turns: each round times every arm once, in a
// shuffled order, so machine drift hits all arms alike, and the benchmark
// spreads over several fresh interpreters, because an interpreter can favour
// one arm (memory layout, hash seeds, JIT state). The unit that varies
// independently is the interpreter; within it, the round. ABCompare
// estimates the ratio from per-round log ratios and bounds it by how much
// the per-interpreter estimates disagree. docs/statistics.md explains the
// design and the simulation that calibrates it.

// ABVerdict says how an arm compares with the baseline arm A.
type ABVerdict string

// The verdicts of ABCompare and CompareRuns. Timings are durations: faster
// means the arm takes less time than the baseline.
const (
	ABFaster ABVerdict = "faster" // the whole interval lies below 1
	ABSlower ABVerdict = "slower" // the whole interval lies above 1
	// ABSame: the whole interval lies within ±threshold, so no difference
	// larger than the threshold.
	ABSame ABVerdict = "same"
	// ABUndecided: the interval straddles 1 and reaches beyond the
	// threshold; more data would tell.
	ABUndecided ABVerdict = "undecided"
)

// Defaults of ABOptions and RunsOptions.
const (
	// DefaultABThreshold is the relative difference below which arms count
	// as the same: 2 %, about the smallest change a browser benchmark with
	// a few hundred rounds resolves.
	DefaultABThreshold = 0.02
	// DefaultABAlpha is the error rate of a verdict: the intervals are 95 %.
	DefaultABAlpha = 0.05
	// DefaultABInterpreters and DefaultABMaxRounds are the default budget of
	// an auto-sampled benchmark: 5 fresh interpreters, up to 60 rounds each.
	// A benchmark with a time budget plans its rounds with ABMaxRounds
	// instead, so that the budget, not a fixed count, ends it.
	DefaultABInterpreters = 5
	DefaultABMaxRounds    = 60
	// DefaultABPriorInterpreterSD is the assumed standard deviation, in log
	// units (≈ relative), of an interpreter's own B/A ratio around the true
	// one. It only matters with fewer than ABMinInterpreters interpreters,
	// when that spread cannot be measured.
	DefaultABPriorInterpreterSD = 0.02
)

// ABMinSampleMs is the shortest measured sample the browser harness takes
// (web/bench/harness.ts, minSampleMs of an A/B benchmark): no round can be
// quicker than this per arm, runtime and interpreter.
const ABMinSampleMs = 5

// abMaxPlannedRounds bounds the rounds per interpreter a benchmark plans
// for: beyond it the interval is ruled by how interpreters differ, not by
// more rounds, and the looks would be spread needlessly thin.
const abMaxPlannedRounds = 2000

// ABMaxRounds is the last look of the stop rule for a benchmark with a
// time budget: the most rounds per interpreter the budget could hold if
// every sample took ABMinSampleMs (lanes is arms × runtimes). The budget
// itself normally ends the benchmark first; ABShouldStop then judges all
// its rounds at the last look's level, so a slow program loses nothing by
// the plan being generous, and the plan depends only on the settings, not
// on the data (the looks stay fixed in advance).
func ABMaxRounds(budgetMs, interpreters, lanes int) int {
	if budgetMs <= 0 || interpreters <= 0 || lanes <= 0 {
		return DefaultABMaxRounds
	}
	n := budgetMs / (interpreters * lanes * ABMinSampleMs)
	return min(max(n, abFirstLook), abMaxPlannedRounds)
}

// ABMinInterpreters is the fewest interpreters whose disagreement ABCompare
// trusts as the measure of uncertainty. With one or two, the spread between
// interpreters cannot be estimated (a t interval on two values has one
// degree of freedom), so the interval instead combines the within-
// interpreter uncertainty with DefaultABPriorInterpreterSD.
const ABMinInterpreters = 3

// abBatches is the number of batches of consecutive rounds whose spread
// measures one interpreter's own uncertainty (batch means): enough for a
// usable t quantile, few enough that each batch holds several rounds.
const abBatches = 5

// abMinRounds is the fewest usable rounds for an interpreter to count: with
// fewer its estimate is mostly noise and its spread cannot be seen.
const abMinRounds = 5

// abMaxLog bounds log ratios before exponentiating, so that a hostile input
// (1e-300 against 1e300) still gives a finite ratio.
const abMaxLog = 700

// ABRound is one round of an A/B benchmark in one interpreter: NS[arm] is
// the arm's time in nanoseconds per iteration, arm 0 being A, the baseline.
// Arms run in a shuffled order within the round; NS is indexed by arm, not
// by running order.
type ABRound struct {
	NS []float64 `json:"ns"`
}

// ABData is an A/B benchmark: Interpreters[i] lists the rounds taken in
// fresh interpreter i, in the order they ran. Interpreters may have
// different numbers of rounds.
type ABData struct {
	Interpreters [][]ABRound `json:"interpreters"`
}

// ABOptions configures ABCompare and ABShouldStop. Start from
// DefaultABOptions: the zero value means a threshold of 0.
type ABOptions struct {
	// Threshold is the relative difference that counts as none: 0.02 means
	// ratios within [1/1.02, 1.02]. 0 is allowed (then ABSame is only given
	// to identical data); negative, infinite or NaN means
	// DefaultABThreshold.
	Threshold float64
	// Alpha is the error rate of a verdict, in (0, 1); anything else means
	// DefaultABAlpha. ABShouldStop spends it over its looks.
	Alpha float64
	// Interpreters and MaxRounds are the budget of ABShouldStop: looks need
	// that many interpreters, and the last look is at MaxRounds rounds each.
	// 0 or less means the defaults.
	Interpreters int
	MaxRounds    int
	// Names labels the arms in Summary; missing names are "A", "B", "C", ….
	Names []string
}

// DefaultABOptions returns the defaults: 2 % threshold, 95 % intervals, a
// budget of 5 interpreters × 60 rounds.
func DefaultABOptions() ABOptions {
	return ABOptions{
		Threshold:    DefaultABThreshold,
		Alpha:        DefaultABAlpha,
		Interpreters: DefaultABInterpreters,
		MaxRounds:    DefaultABMaxRounds,
	}
}

// withDefaults replaces unset or invalid fields by their defaults.
func (o ABOptions) withDefaults() ABOptions {
	d := DefaultABOptions()
	if !(o.Threshold >= 0) || math.IsInf(o.Threshold, 1) {
		o.Threshold = d.Threshold
	}
	if !(o.Alpha > 0 && o.Alpha < 1) {
		o.Alpha = d.Alpha
	}
	if o.Interpreters <= 0 {
		o.Interpreters = d.Interpreters
	}
	if o.MaxRounds <= 0 {
		o.MaxRounds = d.MaxRounds
	}
	return o
}

// name returns the label of arm i.
func (o ABOptions) name(i int) string {
	if i >= 0 && i < len(o.Names) && o.Names[i] != "" {
		return o.Names[i]
	}
	if i >= 0 && i < 26 {
		return string(rune('A' + i))
	}
	return fmt.Sprintf("arm %d", i)
}

// ABResult compares one arm with A. Every number is finite, so it encodes
// as JSON. When Rounds is 0 there was nothing to compare: Ratio, CILow and
// CIHigh are 0 and the verdict is ABUndecided.
type ABResult struct {
	Arm int `json:"arm"`
	// Ratio is the arm's time over A's: above 1 the arm is slower.
	Ratio  float64 `json:"ratio"`
	CILow  float64 `json:"ciLow"`
	CIHigh float64 `json:"ciHigh"`
	// Level is the confidence of [CILow, CIHigh]: 0.95 by default, higher
	// at the interim looks of ABShouldStop.
	Level     float64   `json:"level"`
	Threshold float64   `json:"threshold"`
	Verdict   ABVerdict `json:"verdict"`
	// Rounds counts the usable rounds (both times finite and positive) over
	// the Interpreters that contributed.
	Rounds       int `json:"rounds"`
	Interpreters int `json:"interpreters"`
	// Summary says the verdict in one sentence, e.g. "B is 9.6 % slower
	// than A [5.1–14.0 %], decided after 84 rounds in 5 interpreters."
	Summary string `json:"summary"`
}

// ABCompare compares arm (1 for B, 2 for C, …) with arm 0 (A) at the
// confidence 1 − opts.Alpha, using all of d. It is the analysis of a fixed
// budget; when rounds are added until a verdict appears, use ABShouldStop,
// which accounts for the repeated looks.
//
// Each usable round gives a log ratio log(arm/A). Each interpreter with at
// least 5 of them gives an estimate: the Hodges–Lehmann centre of its log
// ratios. The ratio is exp of the mean of those estimates, and the interval
// is a Student t interval over them (df = interpreters − 1): the
// interpreters are the independent units, and with a handful of them a
// bootstrap over interpreters would be too narrow. With fewer than
// ABMinInterpreters interpreters the interval combines each interpreter's
// own uncertainty, from batches of consecutive rounds, with a prior spread
// between interpreters. The result is deterministic: no random resampling.
func ABCompare(d ABData, arm int, opts ABOptions) ABResult {
	o := opts.withDefaults()
	series := make([][]float64, len(d.Interpreters))
	for i, rounds := range d.Interpreters {
		series[i], _ = abLogRatios(rounds, arm)
	}
	res := abAnalyse(series, arm, o, o.Alpha)
	res.Summary = abSummary(res, o)
	return res
}

// abInterpreter is what one interpreter contributes: its usable per-round
// log ratios and their Hodges–Lehmann estimate.
type abInterpreter struct {
	logs     []float64
	estimate float64
}

// abLogRatios returns log(arm/A) for the rounds where both times are finite
// and positive; other rounds (a missing arm, a zero or negative time, a NaN)
// are skipped rather than allowed to poison the estimate. upto[r] is the
// number of log ratios from the first r rounds, so that logs[:upto[r]] is
// the series of a prefix of the rounds.
func abLogRatios(rounds []ABRound, arm int) (logs []float64, upto []int) {
	logs = make([]float64, 0, len(rounds))
	upto = make([]int, len(rounds)+1)
	for i, r := range rounds {
		upto[i] = len(logs)
		if arm < 0 || arm >= len(r.NS) {
			continue
		}
		a, b := r.NS[0], r.NS[arm]
		if !(a > 0 && b > 0) || math.IsInf(a, 1) || math.IsInf(b, 1) {
			continue
		}
		logs = append(logs, math.Log(b)-math.Log(a))
	}
	upto[len(rounds)] = len(logs)
	return logs, upto
}

// abAnalyse is ABCompare at a given alpha, with options already defaulted,
// on the log ratios of each interpreter, without the Summary (callers add
// it to the result they return). Interpreters with fewer than abMinRounds
// log ratios do not count.
func abAnalyse(series [][]float64, arm int, o ABOptions, alpha float64) ABResult {
	res := ABResult{Arm: arm, Level: 1 - alpha, Threshold: o.Threshold, Verdict: ABUndecided}
	var interps []abInterpreter
	for _, logs := range series {
		if len(logs) >= abMinRounds {
			interps = append(interps, abInterpreter{logs: logs, estimate: HodgesLehmann(logs)})
		}
	}
	if len(interps) == 0 {
		return res
	}
	centre, halfWidth := abInterval(interps, alpha)
	res.Ratio = abExp(centre)
	res.CILow = abExp(centre - halfWidth)
	res.CIHigh = abExp(centre + halfWidth)
	for _, in := range interps {
		res.Rounds += len(in.logs)
	}
	res.Interpreters = len(interps)
	res.Verdict = abDecide(res.CILow, res.CIHigh, o.Threshold)
	return res
}

// abInterval returns the centre (mean of the per-interpreter estimates, in
// log units) and the half-width of the 1 − alpha interval around it.
func abInterval(interps []abInterpreter, alpha float64) (centre, halfWidth float64) {
	k := len(interps)
	estimates := make([]float64, k)
	for i, in := range interps {
		estimates[i] = in.estimate
	}
	centre = Mean(estimates)
	if k >= ABMinInterpreters {
		se := StdDev(estimates) / math.Sqrt(float64(k))
		return centre, studentTQuantile(1-alpha/2, float64(k-1)) * se
	}
	// Too few interpreters to see how much they disagree: each one's own
	// uncertainty plus the prior spread between them, which is taken as
	// known (infinite degrees of freedom).
	prior := DefaultABPriorInterpreterSD * DefaultABPriorInterpreterSD / float64(k)
	variances, dfs := []float64{prior}, []float64{math.Inf(1)}
	for _, in := range interps {
		v, df := batchMeansVariance(in.logs)
		variances = append(variances, v/float64(k*k))
		dfs = append(dfs, df)
	}
	var total float64
	for _, v := range variances {
		total += v
	}
	return centre, studentTQuantile(1-alpha/2, satterthwaiteDF(variances, dfs)) * math.Sqrt(total)
}

// batchMeansVariance estimates the squared standard error of the
// Hodges–Lehmann estimate of xs, a series whose neighbours may be
// correlated, by batch means: split xs into abBatches runs of consecutive
// values, estimate each, and divide the variance of those estimates by
// their number. Consecutive rounds stay together, so slow drift in the
// difference between arms shows up as spread between batches instead of
// being averaged away. It also returns the degrees of freedom.
func batchMeansVariance(xs []float64) (variance, df float64) {
	m := min(abBatches, len(xs))
	estimates := make([]float64, m)
	for b := range m {
		estimates[b] = HodgesLehmann(xs[b*len(xs)/m : (b+1)*len(xs)/m])
	}
	sd := StdDev(estimates)
	return sd * sd / float64(m), float64(m - 1)
}

// satterthwaiteDF is the Welch–Satterthwaite degrees of freedom of a sum of
// independent variance estimates with the given degrees of freedom; a known
// (infinite-df) term adds no uncertainty of its own. When no term is
// uncertain, or all are 0, it is +Inf (the normal distribution).
func satterthwaiteDF(variances, dfs []float64) float64 {
	var total, denom float64
	for i, v := range variances {
		total += v
		if !math.IsInf(dfs[i], 1) {
			denom += v * v / dfs[i]
		}
	}
	if !(denom > 0) {
		return math.Inf(1)
	}
	return math.Max(1, total*total/denom)
}

// abExp turns a log ratio into a ratio that is finite whatever the input.
func abExp(x float64) float64 {
	return math.Exp(math.Max(-abMaxLog, math.Min(abMaxLog, x)))
}

// abDecide applies the verdict rule to an interval [lo, hi] of ratios:
// same when it lies within [1/(1+t), 1+t]; otherwise slower when it lies
// above 1, faster when below; otherwise undecided.
func abDecide(lo, hi, threshold float64) ABVerdict {
	switch {
	case lo >= 1/(1+threshold) && hi <= 1+threshold:
		return ABSame
	case lo > 1:
		return ABSlower
	case hi < 1:
		return ABFaster
	}
	return ABUndecided
}

// abSummary says the result in one sentence a non-statistician reads right.
func abSummary(r ABResult, o ABOptions) string {
	arm, base := o.name(r.Arm), o.name(0)
	if r.Rounds == 0 {
		return fmt.Sprintf("Undecided: no complete rounds of %s and %s yet.", arm, base)
	}
	return abSentence(r.Verdict, r.Ratio, r.CILow, r.CIHigh, r.Threshold, abWording{
		arm: arm, base: base, more: "rounds or interpreters",
		after: fmt.Sprintf("%d rounds in %d interpreter%s", r.Rounds, r.Interpreters, abPlural(r.Interpreters)),
	})
}

// abWording fills the sentence of abSentence: the names of the arm and the
// baseline, what the verdict rests on ("84 rounds in 5 interpreters") and
// what more of would settle an undecided one ("runs").
type abWording struct{ arm, base, after, more string }

// abSentence is the sentence shared by ABResult and RunsComparison.
// Percentages are of the baseline's time: "20 % faster" means 20 % less
// time. From 2× on the ratio itself reads better than a percentage.
func abSentence(v ABVerdict, ratio, lo, hi, threshold float64, w abWording) string {
	switch v {
	case ABSlower:
		if ratio >= 2 {
			return fmt.Sprintf("%s is %.2f× slower than %s [%.2f–%.2f×], decided after %s.", w.arm, ratio, w.base, lo, hi, w.after)
		}
		return fmt.Sprintf("%s is %s slower than %s [%s–%s], decided after %s.", w.arm, abPct(ratio-1), w.base, abPctNum(lo-1), abPct(hi-1), w.after)
	case ABFaster:
		if ratio <= 0.5 {
			return fmt.Sprintf("%s is %.2f× faster than %s [%.2f–%.2f×], decided after %s.", w.arm, 1/ratio, w.base, 1/hi, 1/lo, w.after)
		}
		return fmt.Sprintf("%s is %s faster than %s [%s–%s less time], decided after %s.", w.arm, abPct(1-ratio), w.base, abPctNum(1-hi), abPct(1-lo), w.after)
	case ABSame:
		return fmt.Sprintf("No difference larger than ±%s between %s and %s (%s/%s %.3f [%.3f–%.3f]), decided after %s.",
			abPct(threshold), w.arm, w.base, w.arm, w.base, ratio, lo, hi, w.after)
	}
	return fmt.Sprintf("Undecided: needs more %s (%s/%s %.3f [%.3f–%.3f] after %s).", w.more, w.arm, w.base, ratio, lo, hi, w.after)
}

// abPct formats a relative difference as a percentage, "9.6 %"; abPctNum
// without the sign, for the lower end of a range.
func abPct(x float64) string    { return abPctNum(x) + " %" }
func abPctNum(x float64) string { return fmt.Sprintf("%.1f", 100*x) }

func abPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
