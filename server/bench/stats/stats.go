// Package stats summarises benchmark samples (nanoseconds per iteration) and
// compares two sets of them.
//
// Benchmark timings are skewed and have outliers (GC pauses, a busy
// neighbour tab, JIT tiers), so the package leans on robust, distribution-free
// statistics: the median and the median absolute deviation describe a sample,
// an order-statistic interval bounds its median, and two samples are compared
// by the ratio of their medians with a bootstrap interval plus a Mann–Whitney
// U test. Means and standard deviations are offered because people expect
// them, not because decisions rest on them.
//
// Conventions shared by every function:
//   - Inputs are never modified; functions that need order sort a copy.
//   - Inputs are expected to be finite (the protocol decoder rejects NaN and
//     infinities); a NaN in the input makes results meaningless.
//   - A statistic that is undefined for its input (the median of nothing, the
//     standard deviation of one value) is NaN. Summary, RatioResult and
//     Comparison are meant to be JSON-encoded, so they use 0 instead and
//     document how to tell.
package stats

import (
	"math"
	"slices"
)

// MADScale turns a raw median absolute deviation into a consistent estimator
// of the standard deviation of normally distributed data (1/Φ⁻¹(3/4)).
const MADScale = 1.4826

// sorted returns a sorted copy so that callers' slices stay untouched.
func sorted(xs []float64) []float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}

// Mean returns the arithmetic mean of xs, or NaN when xs is empty.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	// Shifting by the first value keeps precision when all values are large
	// and close together, which is typical of timings.
	k := xs[0]
	var sum float64
	for _, x := range xs {
		sum += x - k
	}
	return k + sum/float64(len(xs))
}

// StdDev returns the sample standard deviation of xs (denominator n−1, as
// Python's statistics.stdev and numpy's std(ddof=1)), or NaN when xs has
// fewer than two values.
func StdDev(xs []float64) float64 {
	if len(xs) < 2 {
		return math.NaN()
	}
	m := Mean(xs)
	var ss float64
	for _, x := range xs {
		d := x - m
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

// Median returns the median of xs (the mean of the two middle values when
// len(xs) is even), or NaN when xs is empty.
func Median(xs []float64) float64 {
	return Quantile(xs, 0.5)
}

// Quantile returns the p-quantile of xs, 0 ≤ p ≤ 1, by linear interpolation
// between order statistics: Hyndman & Fan type 7, the default of R's
// quantile, numpy's percentile and Python's statistics.quantiles with
// method="inclusive". It returns NaN when xs is empty or p is outside [0, 1].
func Quantile(xs []float64, p float64) float64 {
	if len(xs) == 0 || !(p >= 0 && p <= 1) {
		return math.NaN()
	}
	return quantileSorted(sorted(xs), p)
}

// P95 returns the 95th percentile of xs (type 7, see Quantile).
func P95(xs []float64) float64 {
	return Quantile(xs, 0.95)
}

// quantileSorted is Quantile for an already sorted, non-empty slice.
func quantileSorted(s []float64, p float64) float64 {
	h := float64(len(s)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	a, b := s[lo], s[lo+1]
	if a == b {
		// Avoids Inf−Inf = NaN when the bootstrap feeds in infinite ratios.
		return a
	}
	return a + (h-float64(lo))*(b-a)
}

// MAD returns the raw median absolute deviation of xs, median(|xᵢ − median|),
// in the units of xs, or NaN when xs is empty. It is not scaled: multiply by
// MADScale (or call ScaledMAD) to estimate a standard deviation.
func MAD(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return madSorted(sorted(xs))
}

// ScaledMAD returns MAD(xs)·MADScale, a robust estimate of the standard
// deviation, or NaN when xs is empty.
func ScaledMAD(xs []float64) float64 {
	return MAD(xs) * MADScale
}

func madSorted(s []float64) float64 {
	m := quantileSorted(s, 0.5)
	dev := make([]float64, len(s))
	for i, x := range s {
		dev[i] = math.Abs(x - m)
	}
	slices.Sort(dev)
	return quantileSorted(dev, 0.5)
}

// GeoMean returns the geometric mean of xs, the right average for ratios
// (e.g. speed-ups across several snippets). It returns NaN when xs is empty
// or holds a value ≤ 0, where the geometric mean is undefined.
func GeoMean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, x := range xs {
		if !(x > 0) {
			return math.NaN()
		}
		sum += math.Log(x)
	}
	return math.Exp(sum / float64(len(xs)))
}
