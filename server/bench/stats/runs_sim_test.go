package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Calibration of CompareRuns on simulated runs made at different times:
// every run is a fresh interpreter of 30 samples whose level moves by
// 12–19 % from run to run (the spread issue 11 measured), with the noise,
// drift and pauses of simWorld.

// simRunGroups draws n runs of 30 samples for each side of a comparison,
// b's true log effect being effect.
func simRunGroups(w *simWorld, n int, effect float64) (a, b [][]float64) {
	for range n {
		a = append(a, w.run(30, 0))
		b = append(b, w.run(30, effect))
	}
	return a, b
}

// simRuns is one pooled-table comparison of n runs against n runs.
func simRuns(n int, effect float64) func(*rand.Rand) (ABVerdict, int) {
	return func(rng *rand.Rand) (ABVerdict, int) {
		a, b := simRunGroups(newSimWorld(rng, 0.12, 0.19), n, effect)
		return CompareRuns(b, a, DefaultRunsOptions()).Verdict, 0
	}
}

// TestRunsCalibration checks that CompareRuns keeps A/A false alarms at
// 5 % for groups of 1 to 10 runs, and shows the old statistics on the same
// runs' pooled samples failing.
//
// With 3 runs or more Welch's interval is exact when run offsets are normal,
// as simulated, so its false-alarm rate is the nominal 5 % itself, and the
// observed rate scatters around it. The check therefore fails when the rate
// is significantly above 5 %: more than two binomial standard errors.
func TestRunsCalibration(t *testing.T) {
	n, nOld := simExperiments(), simOldExperiments()
	var rows []simCounts
	for i, runs := range []int{1, 2, 3, 5, 10} {
		rows = append(rows, simulate(fmt.Sprintf("new, %d vs %d runs: A/A", runs, runs), n, uint64(100+i), simRuns(runs, 0)))
	}
	old := simulate("old, 3 vs 3 runs pooled: A/A", nOld, 110, func(rng *rand.Rand) (ABVerdict, int) {
		a, b := simRunGroups(newSimWorld(rng, 0.12, 0.19), 3, 0)
		return simOldCompare(slices.Concat(b...), slices.Concat(a...), rng.Uint64()), 0
	})
	simLogTable(t, append(rows, old))
	for _, r := range rows {
		limit := 0.05 + 2*math.Sqrt(0.05*0.95/float64(r.n))
		if fa := r.falseAlarms(); fa > limit {
			t.Errorf("%s: false alarms %.1f %% (%d faster, %d slower of %d), want 5 %% (at most %.1f %% with simulation error)",
				r.name, 100*fa, r.faster, r.slower, r.n, 100*limit)
		}
	}
	if fa := old.falseAlarms(); fa <= 0.05 {
		t.Errorf("%s: false alarms %.1f %%; the old statistics were expected to fail (> 5 %%)", old.name, 100*fa)
	}
}

// TestRunsCalibrationDetails shows what CompareRuns can detect, and the
// evidence for its interval: a hierarchical bootstrap (runs, then samples
// within runs) of the ratio of medians of run medians is too narrow with
// few runs.
func TestRunsCalibrationDetails(t *testing.T) {
	simSkipEvidence(t)
	n := 1000
	rows := []simCounts{
		simulate("new, 10 vs 10 runs: +30 %", n, 120, simRuns(10, math.Log(1.3))),
		simulate("new, 1 vs 1 run: 3× slower", n, 121, simRuns(1, math.Log(3))),
	}
	for i, runs := range []int{3, 5, 10} {
		name := fmt.Sprintf("A/A, %d vs %d runs: hierarchical bootstrap", runs, runs)
		rows = append(rows, simulate(name, n, uint64(130+i), func(rng *rand.Rand) (ABVerdict, int) {
			a, b := simRunGroups(newSimWorld(rng, 0.12, 0.19), runs, 0)
			lo, hi := simRunsBootstrap(b, a, rng, 200)
			return abDecide(lo, hi, DefaultABThreshold), 0
		}))
	}
	simLogTable(t, rows)
}

// simRunsBootstrap is the alternative interval: resample runs with
// replacement, then samples within each drawn run, and take the 2.5 % and
// 97.5 % percentiles of the ratio of the medians of run medians.
func simRunsBootstrap(a, b [][]float64, rng *rand.Rand, resamples int) (lo, hi float64) {
	sortRuns := func(runs [][]float64) [][]float64 {
		out := make([][]float64, len(runs))
		for i, r := range runs {
			out[i] = slices.Sorted(slices.Values(r))
		}
		return out
	}
	sa, sb := sortRuns(a), sortRuns(b)
	var medians []float64
	counts := make([]int, 64)
	groupMedian := func(runs [][]float64) float64 {
		medians = medians[:0]
		for range runs {
			run := runs[rng.IntN(len(runs))]
			medians = append(medians, resampledMedian(rng, run, counts[:len(run)]))
		}
		slices.Sort(medians)
		return quantileSorted(medians, 0.5)
	}
	ratios := make([]float64, resamples)
	for i := range ratios {
		ratios[i] = groupMedian(sa) / groupMedian(sb)
	}
	slices.Sort(ratios)
	return quantileSorted(ratios, 0.025), quantileSorted(ratios, 0.975)
}
