package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// walshBrute is the definition of the Hodges–Lehmann estimate: the median
// of every Walsh average, listed and sorted.
func walshBrute(xs []float64) float64 {
	var w []float64
	for i := range xs {
		for j := i; j < len(xs); j++ {
			w = append(w, walsh(xs[i], xs[j]))
		}
	}
	slices.Sort(w)
	return quantileSorted(w, 0.5)
}

func TestHodgesLehmann(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		// By hand: Walsh averages 1, 1.5, 2, 2, 2.5, 3; median (2+2)/2.
		{[]float64{1, 2, 3}, 2},
		{[]float64{0, 10}, 5},
		// 1, 1.5, 2, 2.5, 3, 4: median (2+2.5)/2.
		{[]float64{4, 1, 2}, 2.25},
		// An outlier moves the mean to 26.5 but HL only to (2.5+3)/2:
		// averages 1 1.5 2 2 2.5 3 50.5 51 51.5 100.
		{[]float64{1, 2, 3, 100}, 2.75},
		{[]float64{7}, 7},
		{[]float64{3, 3, 3, 3}, 3},
		{nil, math.NaN()},
	}
	for _, tt := range tests {
		if got := HodgesLehmann(tt.xs); !near(got, tt.want, 1e-15) {
			t.Errorf("HodgesLehmann(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
	// Expected values of the verdict tests were checked independently in
	// Python (statistics.mean/stdev of the logs, t quantiles from mpmath).

	// Against the definition, with ties, heavy tails and sizes past the
	// point where the selection bisects.
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		n := 1 + rng.IntN(80)
		if trial%60 == 0 {
			n = 200 + rng.IntN(100)
		}
		xs := make([]float64, n)
		for i := range xs {
			switch trial % 3 {
			case 0:
				xs[i] = float64(rng.IntN(5)) // many ties
			case 1:
				xs[i] = rng.NormFloat64() / math.Max(0.05, math.Abs(rng.NormFloat64())) // Cauchy-like
			default:
				xs[i] = 1e-3 * rng.NormFloat64()
			}
		}
		orig := slices.Clone(xs)
		if got, want := HodgesLehmann(xs), walshBrute(xs); !near(got, want, 1e-15) {
			t.Fatalf("n=%d trial %d: got %v, want %v", n, trial, got, want)
		}
		if !slices.Equal(xs, orig) {
			t.Fatal("HodgesLehmann modified its input")
		}
	}
}

func TestStudentTQuantile(t *testing.T) {
	// Reference values: mpmath (30 digits) solving betainc-based CDFs, at
	// the float64 nearest p.
	tests := []struct{ p, df, want float64 }{
		{0.975, 1, 12.706204736174693},
		{0.975, 4, 2.7764451051977935},
		{0.995, 10, 3.1692726726169507},
		{0.999, 4, 7.1731822197823068},
		{0.975, 2.5, 3.5746548420036818},
		{0.975, 7.3, 2.3450667365477031},
		{0.98, 4, 2.9985278732065856},
		{0.9995, 1, 636.61924876878973},
		{0.975, math.Inf(1), 1.9599639845400536},
		{0.025, 4, -2.7764451051977935},
		{0.5, 3, 0},
	}
	for _, tt := range tests {
		if got := studentTQuantile(tt.p, tt.df); !near(got, tt.want, 1e-12) {
			t.Errorf("t quantile(%v, df %v) = %.17g, want %.17g", tt.p, tt.df, got, tt.want)
		}
	}
	if got := studentTCDF(1.5, 3); !near(got, 0.88470806737758847, 1e-14) {
		t.Errorf("t CDF(1.5, 3) = %.17g", got)
	}
}

// abConstant builds interpreters whose rounds all have B/A = ratios[i],
// A taking 1 ms.
func abConstant(rounds int, ratios ...float64) ABData {
	d := ABData{Interpreters: make([][]ABRound, len(ratios))}
	for i, r := range ratios {
		for range rounds {
			d.Interpreters[i] = append(d.Interpreters[i], ABRound{NS: []float64{1e6, 1e6 * r}})
		}
	}
	return d
}

func TestABCompareKnownAnswer(t *testing.T) {
	// Each interpreter's estimate is its own constant log ratio; the
	// interval is the t interval over the five of them.
	ratios := []float64{1.08, 1.10, 1.12, 1.09, 1.11}
	logs := make([]float64, len(ratios))
	for i, r := range ratios {
		logs[i] = math.Log(r)
	}
	centre := Mean(logs)
	half := 2.7764451051977935 * StdDev(logs) / math.Sqrt(5)
	r := ABCompare(abConstant(10, ratios...), 1, DefaultABOptions())
	if !near(r.Ratio, math.Exp(centre), 1e-12) || !near(r.CILow, math.Exp(centre-half), 1e-12) || !near(r.CIHigh, math.Exp(centre+half), 1e-12) {
		t.Fatalf("got %v [%v, %v], want %v [%v, %v]", r.Ratio, r.CILow, r.CIHigh, math.Exp(centre), math.Exp(centre-half), math.Exp(centre+half))
	}
	if r.Verdict != ABSlower || r.Rounds != 50 || r.Interpreters != 5 || r.Level != 0.95 || r.Arm != 1 {
		t.Errorf("got %+v", r)
	}
	if want := "B is 10.0 % slower than A [8.0–12.0 %], decided after 50 rounds in 5 interpreters."; r.Summary != want {
		t.Errorf("summary %q, want %q", r.Summary, want)
	}
}

func TestABCompareVerdicts(t *testing.T) {
	opts := DefaultABOptions()
	opts.Names = []string{"old", "new"}
	tests := []struct {
		name    string
		d       ABData
		opts    ABOptions
		verdict ABVerdict
		summary string
	}{
		{"faster", abConstant(8, 0.80, 0.82, 0.81), opts, ABFaster,
			"new is 19.0 % faster than old [16.5–21.5 % less time], decided after 24 rounds in 3 interpreters."},
		{"same", abConstant(8, 1.001, 0.999, 1.0, 1.002), opts, ABSame,
			"No difference larger than ±2.0 % between new and old (new/old 1.000 [0.998–1.003]), decided after 32 rounds in 4 interpreters."},
		{"undecided", abConstant(8, 0.97, 1.03, 1.0), opts, ABUndecided,
			"Undecided: needs more rounds or interpreters (new/old 1.000 [0.928–1.077] after 24 rounds in 3 interpreters)."},
		{"several times slower", abConstant(8, 3.1, 3.2, 3.3), opts, ABSlower,
			"new is 3.20× slower than old [2.96–3.46×], decided after 24 rounds in 3 interpreters."},
		{"several times faster", abConstant(8, 1/3.1, 1/3.2, 1/3.3), opts, ABFaster,
			"new is 3.20× faster than old [2.96–3.46×], decided after 24 rounds in 3 interpreters."},
		{"no rounds", ABData{}, opts, ABUndecided, "Undecided: no complete rounds of new and old yet."},
		{"threshold 0: a real 0.1 % is slower", abConstant(8, 1.001, 1.001, 1.001), ABOptions{Threshold: 0}, ABSlower,
			"B is 0.1 % slower than A [0.1–0.1 %], decided after 24 rounds in 3 interpreters."},
		{"threshold 0: identical is same", abConstant(8, 1, 1, 1), ABOptions{Threshold: 0}, ABSame,
			"No difference larger than ±0.0 % between B and A (B/A 1.000 [1.000–1.000]), decided after 24 rounds in 3 interpreters."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ABCompare(tt.d, 1, tt.opts)
			if r.Verdict != tt.verdict || r.Summary != tt.summary {
				t.Errorf("got %s %q\nwant %s %q", r.Verdict, r.Summary, tt.verdict, tt.summary)
			}
		})
	}
}

func TestABDecide(t *testing.T) {
	tests := []struct {
		lo, hi, threshold float64
		want              ABVerdict
	}{
		{0.99, 1.01, 0.02, ABSame},
		{1/1.02 + 1e-12, 1.02, 0.02, ABSame},
		// Within the threshold wins over excluding 1: a difference, but
		// smaller than the user cares about.
		{1.001, 1.015, 0.02, ABSame},
		{1.001, 1.03, 0.02, ABSlower},
		{0.97, 0.995, 0.02, ABFaster},
		{0.97, 1.03, 0.02, ABUndecided},
		{0.99, 1.021, 0.02, ABUndecided},
		{1, 1, 0, ABSame},
		{0.999, 1.001, 0, ABUndecided},
		{1.0001, 1.001, 0, ABSlower},
	}
	for _, tt := range tests {
		if got := abDecide(tt.lo, tt.hi, tt.threshold); got != tt.want {
			t.Errorf("[%v, %v] threshold %v: got %s, want %s", tt.lo, tt.hi, tt.threshold, got, tt.want)
		}
	}
}

func TestABFewInterpreters(t *testing.T) {
	// One interpreter of constant log ratio c: no spread between batches,
	// so the interval is the prior alone, c ± z·0.02.
	c := math.Log(1.5)
	r := ABCompare(abConstant(20, 1.5), 1, DefaultABOptions())
	half := 1.9599639845400536 * DefaultABPriorInterpreterSD
	if !near(r.Ratio, 1.5, 1e-12) || !near(r.CILow, math.Exp(c-half), 1e-12) || !near(r.CIHigh, math.Exp(c+half), 1e-12) {
		t.Errorf("one constant interpreter: got %+v", r)
	}
	// B drifts 10 % slower halfway through: the batches of consecutive
	// rounds disagree, so the interval is wider than the prior alone.
	d := abConstant(20, 1.5)
	for i := range d.Interpreters[0] {
		if i >= 10 {
			d.Interpreters[0][i].NS[1] *= 1.1
		}
	}
	if w := ABCompare(d, 1, DefaultABOptions()); !(w.CIHigh/w.CILow > r.CIHigh/r.CILow) {
		t.Errorf("noisy interpreter: interval [%v, %v] not wider than the prior's [%v, %v]", w.CILow, w.CIHigh, r.CILow, r.CIHigh)
	}
	// Interpreters with fewer than abMinRounds usable rounds do not count.
	few := abConstant(4, 2, 2, 2)
	if r := ABCompare(few, 1, DefaultABOptions()); r.Rounds != 0 || r.Verdict != ABUndecided || r.Ratio != 0 {
		t.Errorf("4 rounds per interpreter: got %+v", r)
	}
}

// abHostile mixes every kind of value a broken or malicious producer could
// send.
func abHostile() []ABData {
	nan, inf := math.NaN(), math.Inf(1)
	bad := []float64{0, -1, nan, inf, -inf, 1e160, 1e-300, 1e300, math.MaxFloat64, math.SmallestNonzeroFloat64}
	var out []ABData
	out = append(out, ABData{}, ABData{Interpreters: [][]ABRound{nil, {}, {{}}, {{NS: nil}}}})
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 30 {
		d := ABData{Interpreters: make([][]ABRound, 1+rng.IntN(6))}
		for i := range d.Interpreters {
			for range rng.IntN(40) {
				ns := make([]float64, rng.IntN(4))
				for a := range ns {
					if rng.IntN(3) == 0 {
						ns[a] = bad[rng.IntN(len(bad))]
					} else {
						ns[a] = 1e6 * (1 + rng.Float64())
					}
				}
				d.Interpreters[i] = append(d.Interpreters[i], ABRound{NS: ns})
			}
		}
		out = append(out, d)
		if trial%5 == 0 {
			// Extreme but valid: 1e-300 against 1e300 in every round, both
			// ways, and B 0 where A is valid.
			extreme := ABData{Interpreters: make([][]ABRound, 5)}
			for i := range extreme.Interpreters {
				for j := range 30 {
					ns := []float64{1e-300, 1e300}
					if i%2 == 1 {
						ns = []float64{math.MaxFloat64, math.SmallestNonzeroFloat64}
					}
					if j%7 == 0 {
						ns[1] = 0
					}
					extreme.Interpreters[i] = append(extreme.Interpreters[i], ABRound{NS: ns})
				}
			}
			out = append(out, extreme)
		}
	}
	return out
}

func TestABHostileInputFinite(t *testing.T) {
	options := []ABOptions{
		DefaultABOptions(), {}, {Threshold: math.NaN(), Alpha: 7, MaxRounds: -3},
		{Threshold: math.Inf(1), Alpha: math.NaN(), Interpreters: 1, MaxRounds: 1},
	}
	for i, d := range abHostile() {
		for _, arm := range []int{-1, 0, 1, 2, 3, 100} {
			for _, o := range options {
				r := ABCompare(d, arm, o)
				s, stop := ABShouldStop(d, arm, i%2 == 0, o)
				for _, res := range []ABResult{r, s} {
					for _, x := range []float64{res.Ratio, res.CILow, res.CIHigh, res.Level, res.Threshold} {
						if math.IsNaN(x) || math.IsInf(x, 0) {
							t.Fatalf("data %d arm %d opts %+v: non-finite result %+v", i, arm, o, res)
						}
					}
					if _, err := json.Marshal(res); err != nil || res.Summary == "" || res.CILow > res.CIHigh {
						t.Fatalf("data %d arm %d: %+v (%v)", i, arm, res, err)
					}
				}
				if i%2 == 0 && !stop {
					t.Fatalf("data %d: budget over but not stopped", i)
				}
			}
		}
	}
}

func TestABDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	d := newSimWorld(rng, 0.05, 0.15).interleaved(5, 40, []float64{0, 0.05, -0.02})
	clone := ABData{Interpreters: make([][]ABRound, len(d.Interpreters))}
	for i, rounds := range d.Interpreters {
		for _, r := range rounds {
			clone.Interpreters[i] = append(clone.Interpreters[i], ABRound{NS: slices.Clone(r.NS)})
		}
	}
	for arm := 1; arm <= 2; arm++ {
		a, b := ABCompare(d, arm, DefaultABOptions()), ABCompare(d, arm, DefaultABOptions())
		if a != b {
			t.Errorf("arm %d: %+v then %+v", arm, a, b)
		}
	}
	if !reflect.DeepEqual(d, clone) {
		t.Error("ABCompare modified its input")
	}
	// A/B/C: arm 2 (C) is compared with A and named C.
	if r := ABCompare(d, 2, DefaultABOptions()); r.Arm != 2 || !strings.Contains(r.Summary, "C") {
		t.Errorf("arm 2: %+v", r)
	}
}

func TestABLooks(t *testing.T) {
	tests := []struct {
		max  int
		want []int
	}{
		{60, []int{10, 14, 20, 29, 42, 60}},
		{10, []int{10}},
		{5, []int{5}},
		{11, []int{10, 11}},
		{200, []int{10, 15, 21, 31, 45, 65, 95, 138, 200}},
	}
	for _, tt := range tests {
		if got := ABLooks(tt.max); !slices.Equal(got, tt.want) {
			t.Errorf("ABLooks(%d) = %v, want %v", tt.max, got, tt.want)
		}
		// The looks spend exactly alpha (the union bound).
		var total float64
		looks := ABLooks(tt.max)
		for j := range looks {
			total += abLookAlpha(j, len(looks), 0.05)
		}
		if !near(total, 0.05, 1e-12) {
			t.Errorf("ABLooks(%d): looks spend %v, want 0.05", tt.max, total)
		}
	}
}

func TestABShouldStop(t *testing.T) {
	opts := DefaultABOptions()
	rng := rand.New(rand.NewPCG(9, 10))
	full := newSimWorld(rng, 0.05, 0.15).interleaved(5, 60, []float64{0, math.Log(1.25)})

	// Before every interpreter has 10 rounds there is no look yet.
	prefix := func(n int) ABData {
		p := ABData{Interpreters: make([][]ABRound, len(full.Interpreters))}
		for i, rounds := range full.Interpreters {
			p.Interpreters[i] = rounds[:n]
		}
		return p
	}
	if r, stop := ABShouldStop(prefix(9), 1, false, opts); stop || r.Rounds != 0 || r.Verdict != ABUndecided {
		t.Fatalf("9 rounds: stop=%v %+v", stop, r)
	}
	// A 25 % slowdown is clear at the first look, whose level is strict.
	first, stop := ABShouldStop(prefix(10), 1, false, opts)
	if !stop || first.Verdict != ABSlower || first.Rounds != 50 || !near(first.Level, 1-0.05*0.2/5, 1e-12) {
		t.Fatalf("first look: stop=%v %+v", stop, first)
	}
	// Calling again as rounds arrive replays the looks: the same answer,
	// not another chance to stop on noise.
	for n := 10; n <= 60; n++ {
		if r, stop := ABShouldStop(prefix(n), 1, n%2 == 0, opts); !stop || r != first {
			t.Fatalf("%d rounds: stop=%v %+v, want the first look's %+v", n, stop, r, first)
		}
	}

	// Interpreters that disagree (B/A from 0.94 to 1.06, no difference on
	// average): undecided at every interim look, settled at the last one
	// with its level.
	aa := abConstant(60, 0.94, 0.97, 1, 1.03, 1.06)
	if r, stop := ABShouldStop(aa, 1, false, opts); !stop || r.Rounds != 300 || !near(r.Level, 0.96, 1e-12) {
		t.Errorf("A/A: stop=%v %+v", stop, r)
	}
	// Too few interpreters for the plan: never a look, until the budget
	// is over; then all the data at the last look's level.
	three := ABData{Interpreters: full.Interpreters[:3]}
	if r, stop := ABShouldStop(three, 1, false, opts); stop || r.Rounds != 0 {
		t.Errorf("3 of 5 interpreters: stop=%v %+v", stop, r)
	}
	r, stop := ABShouldStop(three, 1, true, opts)
	if !stop || r.Rounds != 180 || r.Interpreters != 3 || !near(r.Level, 0.96, 1e-12) || r.Verdict != ABSlower {
		t.Errorf("3 of 5 interpreters, budget over: stop=%v %+v", stop, r)
	}
}

// BenchmarkABCompare measures the live analysis of a large benchmark: 5
// interpreters × 200 rounds (t interval over interpreters).
func BenchmarkABCompare(b *testing.B) {
	d := newSimWorld(rand.New(rand.NewPCG(1, 2)), 0.05, 0.15).interleaved(5, 200, []float64{0, 0.03})
	for b.Loop() {
		ABCompare(d, 1, DefaultABOptions())
	}
}

// BenchmarkABCompareTwoInterpreters measures the batch-means path: 2
// interpreters × 200 rounds.
func BenchmarkABCompareTwoInterpreters(b *testing.B) {
	d := newSimWorld(rand.New(rand.NewPCG(1, 2)), 0.05, 0.15).interleaved(2, 200, []float64{0, 0.03})
	for b.Loop() {
		ABCompare(d, 1, DefaultABOptions())
	}
}

// BenchmarkABShouldStop measures the auto-sampling rule at the end of the
// default budget, replaying all six looks of 5 × 60 rounds.
func BenchmarkABShouldStop(b *testing.B) {
	d := newSimWorld(rand.New(rand.NewPCG(1, 2)), 0.05, 0.15).interleaved(5, 60, []float64{0, 0})
	for b.Loop() {
		ABShouldStop(d, 1, false, DefaultABOptions())
	}
}

func TestABMaxRounds(t *testing.T) {
	for _, c := range []struct{ budget, interps, lanes, want int }{
		{60000, 5, 2, 1200},   // the panel's defaults
		{20000, 5, 4, 200},    // two runtimes
		{100, 5, 2, 10},       // never fewer than the first look
		{3600000, 1, 2, 2000}, // an hour: capped
		{0, 5, 2, DefaultABMaxRounds},
		{60000, 0, 2, DefaultABMaxRounds},
	} {
		if got := ABMaxRounds(c.budget, c.interps, c.lanes); got != c.want {
			t.Errorf("ABMaxRounds(%d, %d, %d) = %d, want %d", c.budget, c.interps, c.lanes, got, c.want)
		}
	}
}
