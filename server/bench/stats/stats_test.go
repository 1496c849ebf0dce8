package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Expected values in this file were computed independently with Python 3.12's
// statistics module (median, mean, stdev, quantiles(method="inclusive"),
// geometric_mean), math.comb for the binomial intervals, and brute-force
// enumeration or exact rational recursion for Mann–Whitney p-values.

var (
	// Timings with one outlier, even n.
	d1 = []float64{12.1, 11.8, 13.4, 12.0, 15.9, 11.7, 12.3, 12.2, 40.0, 11.9, 12.5, 12.05}
	// Odd n with a tie.
	d2 = []float64{5, 3, 9, 1, 7, 3, 8}
)

func near(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestBasics(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		xs   []float64
		f    func([]float64) float64
		want float64
	}{
		{"median even", d1, Median, 12.15},
		{"median odd", d2, Median, 5},
		{"median n=1", []float64{42}, Median, 42},
		{"median empty", nil, Median, nan},
		{"mean", d1, Mean, 14.820833333333333},
		{"mean odd", d2, Mean, 5.142857142857143},
		{"mean large close values", []float64{1e15 + 1, 1e15 + 2, 1e15 + 3}, Mean, 1e15 + 2},
		{"mean empty", nil, Mean, nan},
		{"stddev", d1, StdDev, 8.012588343955839},
		{"stddev odd", d2, StdDev, 2.9680841985233184},
		{"stddev all equal", []float64{4, 4, 4, 4}, StdDev, 0},
		{"stddev n=1", []float64{42}, StdDev, nan},
		{"mad", d1, MAD, 0.3},
		{"mad odd", d2, MAD, 2},
		{"mad all equal", []float64{4, 4, 4}, MAD, 0},
		{"mad n=1", []float64{42}, MAD, 0},
		{"mad empty", nil, MAD, nan},
		{"scaled mad", d2, ScaledMAD, 2 * 1.4826},
		{"p95", d1, P95, 26.745},
		{"p95 odd", d2, P95, 8.7},
		{"p95 n=1", []float64{42}, P95, 42},
		{"geomean", d1, GeoMean, 13.757054155335798},
		{"geomean odd", d2, GeoMean, 4.190199700340411},
		{"geomean zero", []float64{1, 0, 2}, GeoMean, nan},
		{"geomean negative", []float64{1, -2}, GeoMean, nan},
		{"geomean empty", nil, GeoMean, nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(tt.xs); !near(got, tt.want, 1e-12) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{d1, 0.05, 11.755},
		{d1, 0.25, 11.975},
		{d1, 0.75, 12.725},
		{d1, 0, 11.7},
		{d1, 1, 40},
		{d2, 0.05, 1.6},
		{d2, 0.25, 3},
		{d2, 0.75, 7.5},
		{[]float64{1, 2}, 0.5, 1.5},
		{[]float64{7}, 0.3, 7},
		{d1, -0.1, math.NaN()},
		{d1, 1.1, math.NaN()},
		{d1, math.NaN(), math.NaN()},
		{nil, 0.5, math.NaN()},
	}
	for _, tt := range tests {
		if got := Quantile(tt.xs, tt.p); !near(got, tt.want, 1e-12) {
			t.Errorf("Quantile(%v, %v) = %v, want %v", tt.xs, tt.p, got, tt.want)
		}
	}
}

func TestInputNotModified(t *testing.T) {
	xs := slices.Clone(d1)
	Summarize(xs)
	Median(xs)
	MAD(xs)
	MannWhitneyU(xs, d2)
	Ratio(xs, d2, 1)
	if !slices.Equal(xs, d1) {
		t.Fatalf("input reordered: %v", xs)
	}
}

func TestMedianCI(t *testing.T) {
	// k is the 1-based order statistic of the lower bound; coverage from
	// math.comb in Python.
	tests := []struct {
		n        int
		k        int // 0: [min, max]
		coverage float64
	}{
		{1, 0, 0},
		{2, 0, 0.5},
		{5, 0, 0.9375},
		{6, 1, 0.96875},
		{7, 1, 0.984375},
		{10, 2, 0.978515625},
		{12, 3, 0.96142578125},
		{20, 6, 0.9586105346679688},
		{50, 18, 0.9671608624357315},
		{100, 40, 0.9647997997822952},
		{1000, 469, 0.9537088026395019},
		{5000, 2431, 0.9506841418958282},
	}
	for _, tt := range tests {
		xs := make([]float64, tt.n)
		for i := range xs {
			xs[i] = float64(tt.n - i) // descending: MedianCI must sort
		}
		lo, hi, cov := MedianCI(xs, 0.95)
		wantLo, wantHi := 1.0, float64(tt.n)
		if tt.k > 0 {
			wantLo, wantHi = float64(tt.k), float64(tt.n+1-tt.k)
		}
		if lo != wantLo || hi != wantHi || !near(cov, tt.coverage, 1e-9) {
			t.Errorf("n=%d: got [%v, %v] coverage %v, want [%v, %v] coverage %v",
				tt.n, lo, hi, cov, wantLo, wantHi, tt.coverage)
		}
	}
	if lo, hi, cov := MedianCI(nil, 0.95); !math.IsNaN(lo) || !math.IsNaN(hi) || cov != 0 {
		t.Errorf("empty: got %v %v %v", lo, hi, cov)
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize(d1)
	want := Summary{
		N: 12, Median: 12.15, MAD: 0.3, Mean: 14.820833333333333, StdDev: 8.012588343955839,
		Min: 11.7, Max: 40, P5: 11.755, P95: 26.745,
		CILow: 11.9, CIHigh: 13.4, // x(3), x(10) for n = 12
		CV: 8.012588343955839 / 14.820833333333333,
	}
	got := []float64{float64(s.N), s.Median, s.MAD, s.Mean, s.StdDev, s.Min, s.Max, s.P5, s.P95, s.CILow, s.CIHigh, s.CV}
	exp := []float64{float64(want.N), want.Median, want.MAD, want.Mean, want.StdDev, want.Min, want.Max, want.P5, want.P95, want.CILow, want.CIHigh, want.CV}
	for i := range got {
		if !near(got[i], exp[i], 1e-12) {
			t.Errorf("got %+v\nwant %+v", s, want)
			break
		}
	}
}

func TestSummarizeEdges(t *testing.T) {
	if s := Summarize(nil); s != (Summary{}) {
		t.Errorf("empty: got %+v, want zero", s)
	}
	one := Summarize([]float64{42})
	if want := (Summary{N: 1, Median: 42, Mean: 42, Min: 42, Max: 42, P5: 42, P95: 42, CILow: 42, CIHigh: 42}); one != want {
		t.Errorf("n=1: got %+v, want %+v", one, want)
	}
	eq := Summarize([]float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5})
	if want := (Summary{N: 11, Median: 5, Mean: 5, Min: 5, Max: 5, P5: 5, P95: 5, CILow: 5, CIHigh: 5}); eq != want {
		t.Errorf("all equal: got %+v, want %+v", eq, want)
	}
	zeros := Summarize([]float64{0, 0, 0})
	if zeros.CV != 0 || zeros.N != 3 {
		t.Errorf("zeros: got %+v", zeros)
	}
	// Summaries are stored as JSON: none of these may hold NaN or Inf.
	for _, s := range []Summary{Summarize(nil), one, eq, zeros} {
		if _, err := json.Marshal(s); err != nil {
			t.Errorf("marshal %+v: %v", s, err)
		}
	}
}

func TestMannWhitneyU(t *testing.T) {
	seq := func(n int, f func(i int) float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = f(i)
		}
		return xs
	}
	tests := []struct {
		name string
		a, b []float64
		u, p float64
	}{
		// By hand: no a exceeds any b, U = 0; of the C(6,3) = 20 equally
		// likely arrangements only this one and its mirror are as extreme,
		// so the exact two-sided p is 2/20.
		{"separated exact", []float64{1, 2, 3}, []float64{4, 5, 6}, 0, 0.1},
		// By hand: a above b in 9 of 9 pairs, U = 9, same p by symmetry.
		{"mirror exact", []float64{4, 5, 6}, []float64{1, 2, 3}, 9, 0.1},
		// By hand: pairs with a > b: 1.1→0, 2.2→1, 3.3→1, 4.4→1, 9.9→4; U = 7.
		// p: enumeration of the C(9,5) = 126 arrangements.
		{"interleaved exact", []float64{1.1, 2.2, 3.3, 4.4, 9.9}, []float64{1.5, 5.5, 6.6, 7.7}, 7, 0.5555555555555556},
		// Exact via recursion (Python fractions), n = 22.
		{"mid exact", seq(10, func(i int) float64 { return 0.5 + 3*float64(i) }), seq(12, func(i int) float64 { return 2*float64(i) + 0.25 }), 72, 0.4561506604850258},
		// Exact at the n = 50 limit, against the same recursion.
		{"limit exact",
			seq(25, func(i int) float64 { return float64(i*i%101) + 0.1 }),
			seq(25, func(i int) float64 { return float64(i*i%103) + 5.2 }),
			298, 0.7877519564259031},
		{"limit separated exact", seq(25, func(i int) float64 { return float64(i) }), seq(25, func(i int) float64 { return float64(i + 100) }), 0, 1.5821457204897235e-14},
		// By hand with ties: pairs a>b count 1, ties ½:
		// 1→0; 2→0 + ½; 2→½; 3→1 + 2·½ = 2 — U = 3. Normal approximation
		// with tie correction Σ(t³−t) = 6 + 24 = 30 and continuity.
		{"ties normal", []float64{1, 2, 2, 3}, []float64{2, 3, 3, 4, 5}, 3, 0.09934224785346535},
		{"large normal", seq(30, func(i int) float64 { return float64(i) }), seq(40, func(i int) float64 { return float64(i) + 5.5 }), 300, 0.00037882660738852714},
		{"large ties normal", seq(40, func(i int) float64 { return float64(i % 7) }), seq(35, func(i int) float64 { return float64(i % 9) }), 540, 0.08781788584112826},
		{"all equal", []float64{3, 3, 3}, []float64{3, 3}, 3, 1},
		{"one each", []float64{1}, []float64{2}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, p := MannWhitneyU(tt.a, tt.b)
			if u != tt.u || !near(p, tt.p, 1e-9) {
				t.Errorf("got U=%v p=%v, want U=%v p=%v", u, p, tt.u, tt.p)
			}
		})
	}
	if u, p := MannWhitneyU(nil, []float64{1}); !math.IsNaN(u) || !math.IsNaN(p) {
		t.Errorf("empty: got %v %v", u, p)
	}
}

func TestRatio(t *testing.T) {
	a := []float64{10, 11, 12, 13, 14, 15, 16, 17, 18}
	b := []float64{20, 22, 24, 26, 28, 30, 32, 34, 36}
	r := Ratio(a, b, 42)
	if r.Ratio != 0.5 || r.Resamples != BootstrapResamples {
		t.Fatalf("got %+v, want ratio 0.5", r)
	}
	// Every resampled median of a is in [10, 18] and of b in [20, 36].
	if !(r.CILow >= 10.0/36 && r.CILow < 0.5 && r.CIHigh > 0.5 && r.CIHigh <= 18.0/20) {
		t.Errorf("interval [%v, %v] does not bracket 0.5 within the data's range", r.CILow, r.CIHigh)
	}
	if again := Ratio(a, b, 42); again != r {
		t.Errorf("same seed, different result: %+v vs %+v", again, r)
	}
	if other := Ratio(a, b, 43); other == r {
		t.Errorf("different seeds gave identical intervals %+v (possible but unlikely)", r)
	}
	// Constant data: no sampling variability, so the interval collapses.
	if c := Ratio([]float64{3, 3, 3}, []float64{2, 2}, 1); c.Ratio != 1.5 || c.CILow != 1.5 || c.CIHigh != 1.5 {
		t.Errorf("constant: got %+v", c)
	}
	for _, tt := range []struct {
		name string
		a, b []float64
	}{
		{"empty a", nil, b},
		{"empty b", a, nil},
		{"zero baseline", a, []float64{0, 0, 0}},
		{"mostly zero baseline", a, []float64{0, 0, 0, 0, 1, 0, 0, 0, 2}},
	} {
		if r := Ratio(tt.a, tt.b, 1); r != (RatioResult{}) || r.Valid() {
			t.Errorf("%s: got %+v, want the zero value", tt.name, r)
		}
	}
}

func TestCompare(t *testing.T) {
	fast := make([]float64, 30)
	slow := make([]float64, 30)
	for i := range fast {
		jitter := float64((i * 37) % 11)
		fast[i] = 100 + jitter
		slow[i] = 130 + jitter
	}
	tests := []struct {
		name string
		a, b []float64
		want Verdict
	}{
		{"faster", fast, slow, Faster},
		{"slower", slow, fast, Slower},
		{"same", fast, fast, NotSignificant},
		{"too few", []float64{1}, []float64{2}, NotSignificant},
		{"empty", nil, fast, NotSignificant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(tt.a, tt.b, 7)
			if c.Verdict != tt.want {
				t.Errorf("got %+v, want %q", c, tt.want)
			}
			if _, err := json.Marshal(c); err != nil {
				t.Errorf("marshal: %v", err)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	ok := func(lo, hi float64) RatioResult {
		return RatioResult{Ratio: (lo + hi) / 2, CILow: lo, CIHigh: hi, Resamples: 1}
	}
	tests := []struct {
		name string
		r    RatioResult
		p    float64
		want Verdict
	}{
		{"both agree faster", ok(0.7, 0.9), 0.01, Faster},
		{"both agree slower", ok(1.1, 1.3), 0.01, Slower},
		{"test only", ok(0.9, 1.05), 0.01, NotSignificant},
		{"interval only", ok(0.7, 0.9), 0.2, NotSignificant},
		{"p at alpha", ok(0.7, 0.9), 0.05, NotSignificant},
		{"nan p", ok(0.7, 0.9), math.NaN(), NotSignificant},
		{"invalid ratio", RatioResult{}, 0.001, NotSignificant},
	}
	for _, tt := range tests {
		if got := Decide(tt.r, tt.p, Alpha); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestWarnings(t *testing.T) {
	quiet := Summary{N: 50, Median: 1e6, MAD: 1e4, Mean: 1e6, StdDev: 2e4, CV: 0.02}
	tests := []struct {
		name   string
		s      Summary
		res    float64
		hidden bool
		want   []string // prefixes, in order
	}{
		{"clean", quiet, 5e3, false, nil},
		{"unknown resolution", quiet, 0, false, nil},
		{"resolution at limit", quiet, 1e4, false, nil},
		{"coarse timer", quiet, 1e5, false, []string{"coarse timer"}},
		{"few samples", Summary{N: 9, Median: 1e6, MAD: 1e3, Mean: 1e6, StdDev: 1e3, CV: 0.001}, 0, false, []string{"too few samples"}},
		{"no samples", Summary{}, 5e3, false, []string{"no samples"}},
		{"cv", Summary{N: 50, Median: 1e6, MAD: 1e3, Mean: 1e6, StdDev: 2e5, CV: 0.2}, 0, false, []string{"high variance"}},
		{"mad", Summary{N: 50, Median: 1e6, MAD: 6e4, Mean: 1e6, StdDev: 1e4, CV: 0.01}, 0, false, []string{"high variance"}},
		{"hidden", quiet, 0, true, []string{"hidden tab"}},
		{"everything", Summary{N: 3, Median: 100, MAD: 50, Mean: 120, StdDev: 60, CV: 0.5}, 1e5, true,
			[]string{"too few samples", "coarse timer", "high variance", "hidden tab"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Warnings(tt.s, tt.res, tt.hidden)
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want prefixes %q", got, tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("warning %d = %q, want prefix %q", i, got[i], tt.want[i])
				}
			}
		})
	}
	if got := Warnings(quiet, 1e5, false)[0]; !strings.Contains(got, "100 µs") || !strings.Contains(got, "1 ms") {
		t.Errorf("units not readable: %q", got)
	}
}

func BenchmarkRatio(b *testing.B) {
	xs := make([]float64, 200)
	for i := range xs {
		xs[i] = float64(1000 + (i*7919)%113)
	}
	for b.Loop() {
		Ratio(xs, xs, 1)
	}
}

// The counting shortcut in resampledMedian must agree with sorting the drawn
// values, for odd and even sizes and with repeated values.
func TestResampledMedianMatchesSort(t *testing.T) {
	for _, src := range [][]float64{{1}, {1, 2}, {1, 2, 3}, {1, 1, 2, 5, 5, 9}, sortedCopy(d1), sortedCopy(d2)} {
		for seed := range uint64(50) {
			r1 := rand.New(rand.NewPCG(seed, 1))
			r2 := rand.New(rand.NewPCG(seed, 1))
			got := resampledMedian(r1, src, make([]int, len(src)))
			drawn := make([]float64, len(src))
			for i := range drawn {
				drawn[i] = src[r2.IntN(len(src))]
			}
			if want := Median(drawn); !near(got, want, 1e-15) {
				t.Fatalf("src %v seed %d: got %v, want %v", src, seed, got, want)
			}
		}
	}
}

func sortedCopy(xs []float64) []float64 { s := slices.Clone(xs); slices.Sort(s); return s }
