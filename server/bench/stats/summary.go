package stats

import "math"

// Summary describes one set of samples. It is meant to be stored and sent as
// JSON, so it never holds NaN or infinities: when a statistic is undefined
// for the data (every field when N is 0, StdDev and CV when N is 1) it is 0,
// and N tells which case applies.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	// MAD is the raw median absolute deviation (not multiplied by MADScale).
	MAD    float64 `json:"mad"`
	Mean   float64 `json:"mean"`
	StdDev float64 `json:"stddev"` // sample standard deviation, n−1
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	P5     float64 `json:"p5"`  // type-7 quantile, see Quantile
	P95    float64 `json:"p95"` // type-7 quantile, see Quantile
	// CILow and CIHigh bound the median with at least 95% confidence by the
	// order-statistic method of MedianCI. With fewer than 6 samples no pair
	// of order statistics reaches 95%, and they are Min and Max.
	CILow  float64 `json:"ciLow"`
	CIHigh float64 `json:"ciHigh"`
	// CV is the coefficient of variation StdDev/Mean, 0 when Mean is 0.
	CV float64 `json:"cv"`
}

// Summarize computes the Summary of xs, sorting a copy of it once.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := sorted(xs)
	lo, hi, _ := medianCISorted(s, 0.95)
	sum := Summary{
		N:      len(s),
		Median: quantileSorted(s, 0.5),
		MAD:    madSorted(s),
		Mean:   Mean(s),
		Min:    s[0],
		Max:    s[len(s)-1],
		P5:     quantileSorted(s, 0.05),
		P95:    quantileSorted(s, 0.95),
		CILow:  lo,
		CIHigh: hi,
	}
	if len(s) > 1 {
		sum.StdDev = StdDev(s)
		if sum.Mean != 0 {
			sum.CV = sum.StdDev / sum.Mean
		}
	}
	return sum
}

// MedianCI returns a distribution-free confidence interval for the median of
// xs at the given level (e.g. 0.95) and the coverage it actually achieves.
//
// The number of samples below the true median is Binomial(n, ½) whatever the
// distribution, so the interval between the k-th smallest and the k-th
// largest sample, [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎], covers the median with probability
// 1 − 2·P(B ≤ k−1). MedianCI picks the largest k whose coverage is still at
// least level, so the interval is as narrow as the guarantee allows and the
// coverage is usually a little above level. When even [min, max] falls short
// (fewer than 6 samples at 95%) it returns [min, max] and the lower coverage
// that interval has. For empty xs it returns NaN bounds and 0 coverage.
func MedianCI(xs []float64, level float64) (lo, hi, coverage float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN(), 0
	}
	return medianCISorted(sorted(xs), level)
}

func medianCISorted(s []float64, level float64) (lo, hi, coverage float64) {
	n := len(s)
	tail := (1 - level) / 2
	// Walk the binomial CDF up from 0 in log space: 0.5ⁿ underflows for a
	// few thousand samples, while the interesting tail sits near n/2.
	logHalfN := -float64(n) * math.Ln2
	logPMF := logHalfN // log P(B = 0)
	cdf := 0.0         // P(B ≤ k−1) for the current k
	k := 0
	for j := 0; j < n/2; j++ {
		next := cdf + math.Exp(logPMF)
		if next > tail {
			break
		}
		cdf = next
		k = j + 1
		// P(B = j+1) = P(B = j)·(n−j)/(j+1)
		logPMF += math.Log(float64(n-j)) - math.Log(float64(j+1))
	}
	if k == 0 {
		return s[0], s[n-1], 1 - 2*math.Exp(logHalfN)
	}
	return s[k-1], s[n-k], 1 - 2*cdf
}
