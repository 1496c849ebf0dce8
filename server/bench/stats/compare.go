package stats

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Alpha is the significance level of Compare: 5%, matching the 95%
// intervals used everywhere else in the package.
const Alpha = 0.05

// BootstrapResamples is how many resamples Ratio draws. 2000 keeps the
// Monte Carlo error of the 2.5% and 97.5% percentiles well below the
// sampling error of browser timings while taking milliseconds.
const BootstrapResamples = 2000

// exactMaxN bounds the pooled sample size for which MannWhitneyU computes an
// exact p-value. Below it every count of the null distribution is an integer
// smaller than 2⁵³, so the float64 arithmetic is exact.
const exactMaxN = 50

// RatioResult is the ratio of the medians of two samples with a 95%
// bootstrap percentile interval. The zero value (Resamples 0) means the
// ratio is undefined: a sample was empty, or the baseline median (of the
// data, or of so many resamples that the interval is unbounded) was 0.
type RatioResult struct {
	Ratio     float64 `json:"ratio"` // median(a)/median(b); < 1 means a is faster
	CILow     float64 `json:"ciLow"`
	CIHigh    float64 `json:"ciHigh"`
	Resamples int     `json:"resamples"`
}

// Valid reports whether r holds a defined ratio and interval.
func (r RatioResult) Valid() bool { return r.Resamples > 0 }

// Ratio returns median(a)/median(b) and its 95% bootstrap percentile
// interval: a and b are resampled independently with replacement
// BootstrapResamples times and the interval is the 2.5% and 97.5% type-7
// quantiles of the resampled ratios. The generator is a PCG seeded with
// seed, so equal inputs and seeds give equal results (a stored comparison
// can be recomputed exactly).
func Ratio(a, b []float64, seed uint64) RatioResult {
	if len(a) == 0 || len(b) == 0 {
		return RatioResult{}
	}
	sa, sb := sorted(a), sorted(b)
	ma, mb := quantileSorted(sa, 0.5), quantileSorted(sb, 0.5)
	if !(mb > 0) {
		return RatioResult{}
	}
	// The second PCG word is a fixed odd constant: callers supply one seed,
	// and any fixed stream selector keeps the sequence reproducible.
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	countsA := make([]int, len(a))
	countsB := make([]int, len(b))
	ratios := make([]float64, BootstrapResamples)
	for i := range ratios {
		ratios[i] = resampledMedian(rng, sa, countsA) / resampledMedian(rng, sb, countsB)
	}
	slices.Sort(ratios) // a 0/0 NaN sorts first and then fails the finiteness check
	lo, hi := quantileSorted(ratios, 0.025), quantileSorted(ratios, 0.975)
	if !isFinite(lo) || !isFinite(hi) {
		return RatioResult{}
	}
	return RatioResult{Ratio: ma / mb, CILow: lo, CIHigh: hi, Resamples: BootstrapResamples}
}

// resampledMedian draws len(src) values of the sorted src with replacement
// and returns their median. Counting how often each index is drawn and
// walking the counts finds the middle order statistics in O(n) instead of
// sorting every resample, which matters at 2000 resamples of large runs.
func resampledMedian(rng *rand.Rand, src []float64, counts []int) float64 {
	n := len(src)
	clear(counts)
	for range n {
		counts[rng.IntN(n)]++
	}
	// 0-based ranks of the middle: equal when n is odd.
	lo, hi := (n-1)/2, n/2
	var loVal float64
	seen := 0
	for i, c := range counts {
		if c == 0 {
			continue
		}
		if seen <= lo && lo < seen+c {
			loVal = src[i]
		}
		if hi < seen+c {
			return (loVal + src[i]) / 2
		}
		seen += c
	}
	panic("unreachable: counts sum to len(src)")
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// MannWhitneyU tests whether values of a tend to be larger or smaller than
// values of b (two-sided), without assuming any distribution.
//
// U is the statistic of a: the number of pairs (aᵢ, bⱼ) with aᵢ > bⱼ, ties
// counting ½ (the convention of scipy.stats.mannwhitneyu and R's W). U near
// len(a)·len(b)/2 means no shift; 0 means every a is below every b.
//
// When there are no ties and len(a)+len(b) ≤ 50 the p-value is exact, from
// the null distribution of U. Otherwise it uses the normal approximation
// with the tie correction of the variance and a continuity correction of ½.
// Both return NaN when a or b is empty.
func MannWhitneyU(a, b []float64) (U, p float64) {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return math.NaN(), math.NaN()
	}
	type obs struct {
		x     float64
		fromA bool
	}
	pool := make([]obs, 0, n1+n2)
	for _, x := range a {
		pool = append(pool, obs{x, true})
	}
	for _, x := range b {
		pool = append(pool, obs{x, false})
	}
	slices.SortFunc(pool, func(p, q obs) int {
		switch {
		case p.x < q.x:
			return -1
		case p.x > q.x:
			return 1
		}
		return 0
	})

	// Tied values share the mean of the ranks they span; Σ(t³−t) over tie
	// groups shrinks the variance of U.
	var rankSumA, tieTerm float64
	for i := 0; i < len(pool); {
		j := i + 1
		for j < len(pool) && pool[j].x == pool[i].x {
			j++
		}
		rank := float64(i+1+j) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			if pool[k].fromA {
				rankSumA += rank
			}
		}
		if t := float64(j - i); t > 1 {
			tieTerm += t*t*t - t
		}
		i = j
	}

	f1, f2 := float64(n1), float64(n2)
	U = rankSumA - f1*(f1+1)/2
	// The distribution is symmetric, so the two-sided p-value is twice the
	// upper tail beyond the larger of U and its mirror n1·n2 − U.
	uMax := math.Max(U, f1*f2-U)

	if tieTerm == 0 && n1+n2 <= exactMaxN {
		return U, exactUpperTail(n1, n2, uMax)
	}

	n := f1 + f2
	variance := f1 * f2 / 12 * ((n + 1) - tieTerm/(n*(n-1)))
	if variance <= 0 {
		return U, 1 // every value equal: nothing to tell apart
	}
	z := (uMax - f1*f2/2 - 0.5) / math.Sqrt(variance)
	if z <= 0 {
		return U, 1
	}
	// 2·(1 − Φ(z)) = erfc(z/√2), accurate far into the tail.
	return U, math.Min(1, math.Erfc(z/math.Sqrt2))
}

// exactUpperTail returns 2·P(U ≥ u) under the null hypothesis, capped at 1.
// The counts of arrangements giving each U are the coefficients of the
// Gaussian binomial [m+n choose m]_q, built as ∏ᵢ (1 − q^(n+i)) / (1 − q^i).
func exactUpperTail(m, n int, u float64) float64 {
	deg := m * n
	c := make([]float64, deg+1)
	c[0] = 1
	for i := 1; i <= m; i++ {
		for k := deg; k >= n+i; k-- {
			c[k] -= c[k-n-i]
		}
		for k := i; k <= deg; k++ {
			c[k] += c[k-i]
		}
	}
	var total, tail float64
	start := int(math.Ceil(u))
	for k, v := range c {
		total += v
		if k >= start {
			tail += v
		}
	}
	return math.Min(1, 2*tail/total)
}

// A Verdict says how a candidate compares with a baseline.
type Verdict string

// The possible verdicts. Timings are durations, so "faster" means the
// candidate's samples are smaller.
const (
	Faster         Verdict = "faster"
	Slower         Verdict = "slower"
	NotSignificant Verdict = "not significant"
)

// Decide combines a test and an interval into a Verdict: a difference is
// only claimed when the Mann–Whitney p-value is below alpha AND the ratio's
// interval excludes 1, in the same direction. Requiring both guards against
// a "significant" shift too small for the interval to resolve and against a
// lucky bootstrap. An invalid ratio or a NaN p is NotSignificant.
func Decide(r RatioResult, p, alpha float64) Verdict {
	if !r.Valid() || !(p < alpha) {
		return NotSignificant
	}
	switch {
	case r.CIHigh < 1:
		return Faster
	case r.CILow > 1:
		return Slower
	}
	return NotSignificant
}

// Comparison is the full comparison of a candidate a with a baseline b.
// It is JSON-safe: when a sample is empty U is 0 and P is 1.
type Comparison struct {
	Ratio   RatioResult `json:"ratio"`
	U       float64     `json:"u"`
	P       float64     `json:"p"`
	Verdict Verdict     `json:"verdict"`
}

// Compare compares candidate samples a with baseline samples b: ratio of
// medians with its bootstrap interval (seeded by seed), Mann–Whitney U test,
// and the Verdict at level Alpha.
func Compare(a, b []float64, seed uint64) Comparison {
	c := Comparison{Ratio: Ratio(a, b, seed), P: 1}
	if len(a) > 0 && len(b) > 0 {
		c.U, c.P = MannWhitneyU(a, b)
	}
	c.Verdict = Decide(c.Ratio, c.P, Alpha)
	return c
}
