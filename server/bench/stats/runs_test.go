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

// Expected values here were checked independently in Python (statistics
// mean and stdev of the log run medians; t quantiles from mpmath).

func TestCompareRunsKnownAnswer(t *testing.T) {
	// Run medians 2, 4, 8 against 1, 1, 1: logs ln2·{1, 2, 3} against 0.
	// b has no spread, so df = 2 from a alone: ratio 4 ×/÷ exp(t₂·ln2/√3).
	a := [][]float64{{2, 2, 1.9, 2.1}, {4, 3, 5}, {8}}
	b := [][]float64{{1, 1}, {0.5, 1, 1.5}, {1}}
	r := CompareRuns(a, b, DefaultRunsOptions())
	// t₂ has a closed form: (2p−1)/√(2p(1−p)) at p = 0.975.
	half := 4.3026527297494637 * math.Ln2 / math.Sqrt(3)
	if !near(r.Ratio, 4, 1e-12) || !near(r.CILow, 4*math.Exp(-half), 1e-12) || !near(r.CIHigh, 4*math.Exp(half), 1e-12) {
		t.Fatalf("got %v [%v, %v], want 4 [%v, %v]", r.Ratio, r.CILow, r.CIHigh, 4*math.Exp(-half), 4*math.Exp(half))
	}
	if r.Verdict != ABUndecided || r.RunsA != 3 || r.RunsB != 3 || r.Note != "" || r.Level != 0.95 {
		t.Errorf("got %+v", r)
	}
	if want := "Undecided: needs more runs (a/b 4.000 [0.715–22.380] after 3 + 3 runs)."; r.Summary != want {
		t.Errorf("summary %q, want %q", r.Summary, want)
	}
}

func TestCompareRunsPrior(t *testing.T) {
	opts := DefaultRunsOptions()
	opts.NameA, opts.NameB = "Pyodide", "native"
	// One run each: the spread is the prior, 20 % per run, taken as known.
	r := CompareRuns([][]float64{{300, 310, 290}}, [][]float64{{100}}, opts)
	half := 1.9599639845400536 * math.Sqrt(2*0.2*0.2)
	if !near(r.Ratio, 3, 1e-12) || !near(r.CILow, 3*math.Exp(-half), 1e-12) || !near(r.CIHigh, 3*math.Exp(half), 1e-12) {
		t.Fatalf("got %+v", r)
	}
	if r.Verdict != ABSlower {
		t.Errorf("3× with one run each: %s", r.Verdict)
	}
	want := "Pyodide has 1 run and native has 1 run: too few to measure run-to-run variation, so the interval assumes at least 20 % (take 3 or more runs to measure it)."
	if r.Note != want {
		t.Errorf("note %q, want %q", r.Note, want)
	}
	if want := "Pyodide is 3.00× slower than native [1.72–5.22×], decided after 1 + 1 runs."; r.Summary != want {
		t.Errorf("summary %q, want %q", r.Summary, want)
	}
	// Two runs further apart than the prior: their own spread counts.
	wide := CompareRuns([][]float64{{100}, {200}}, [][]float64{{100}, {100}, {100}}, DefaultRunsOptions())
	sd := math.Ln2 / math.Sqrt2
	half = 1.9599639845400536 * sd / math.Sqrt2
	if !near(wide.Ratio, math.Sqrt2, 1e-12) || !near(wide.CIHigh, math.Sqrt2*math.Exp(half), 1e-12) {
		t.Errorf("two spread runs: got %+v, want half-width %v", wide, half)
	}
	if !strings.HasPrefix(wide.Note, "a has 2 runs:") {
		t.Errorf("note %q", wide.Note)
	}
	// A 5 % difference cannot be told from one run each.
	if r := CompareRuns([][]float64{{105}}, [][]float64{{100}}, DefaultRunsOptions()); r.Verdict != ABUndecided {
		t.Errorf("5 %% with one run each: %+v", r)
	}
}

func TestCompareRunsVerdicts(t *testing.T) {
	runs := func(medians ...float64) [][]float64 {
		var out [][]float64
		for _, m := range medians {
			out = append(out, []float64{m * 0.99, m, m * 1.02})
		}
		return out
	}
	tests := []struct {
		name string
		a, b [][]float64
		want ABVerdict
	}{
		{"faster", runs(80, 81, 79, 80), runs(100, 101, 99, 100), ABFaster},
		{"slower", runs(120, 121, 119), runs(100, 101, 99), ABSlower},
		{"same", runs(100, 100.1, 99.9, 100), runs(100, 100.1, 99.9), ABSame},
		{"undecided", runs(90, 110, 100), runs(100, 95, 105), ABUndecided},
	}
	for _, tt := range tests {
		if got := CompareRuns(tt.a, tt.b, DefaultRunsOptions()); got.Verdict != tt.want {
			t.Errorf("%s: got %+v, want %s", tt.name, got, tt.want)
		}
	}
}

func TestCompareRunsHostileInputFinite(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	bad := []float64{0, -1, nan, inf, -inf, 1e160, 1e-300, 1e300, math.MaxFloat64, math.SmallestNonzeroFloat64}
	groups := [][][]float64{nil, {}, {nil}, {{}}, {{nan, 0, -5}}, {{math.MaxFloat64}}, {{math.SmallestNonzeroFloat64}, {math.MaxFloat64}, {1}}}
	rng := rand.New(rand.NewPCG(11, 12))
	for range 40 {
		var g [][]float64
		for range rng.IntN(6) {
			var run []float64
			for range rng.IntN(8) {
				if rng.IntN(2) == 0 {
					run = append(run, bad[rng.IntN(len(bad))])
				} else {
					run = append(run, 1e6*(1+rng.Float64()))
				}
			}
			g = append(g, run)
		}
		groups = append(groups, g)
	}
	options := []RunsOptions{DefaultRunsOptions(), {}, {Threshold: nan, Alpha: -1, PriorCV: inf}}
	for i, a := range groups {
		for j, b := range groups {
			for _, o := range options {
				r := CompareRuns(a, b, o)
				for _, x := range []float64{r.Ratio, r.CILow, r.CIHigh, r.Level, r.Threshold} {
					if math.IsNaN(x) || math.IsInf(x, 0) {
						t.Fatalf("groups %d, %d: non-finite %+v", i, j, r)
					}
				}
				if _, err := json.Marshal(r); err != nil || r.Summary == "" || r.CILow > r.CIHigh {
					t.Fatalf("groups %d, %d: %+v (%v)", i, j, r, err)
				}
			}
		}
	}
	if r := CompareRuns(nil, [][]float64{{1}}, DefaultRunsOptions()); r.Summary != "Undecided: no runs of a to compare." || r.Ratio != 0 {
		t.Errorf("empty a: %+v", r)
	}
}

func TestCompareRunsDeterministic(t *testing.T) {
	w := newSimWorld(rand.New(rand.NewPCG(13, 14)), 0.12, 0.19)
	a, b := simRunGroups(w, 4, 0.1)
	ca, cb := cloneRuns(a), cloneRuns(b)
	if x, y := CompareRuns(a, b, DefaultRunsOptions()), CompareRuns(a, b, DefaultRunsOptions()); x != y {
		t.Errorf("%+v then %+v", x, y)
	}
	if !reflect.DeepEqual(a, ca) || !reflect.DeepEqual(b, cb) {
		t.Error("CompareRuns modified its input")
	}
}

func cloneRuns(runs [][]float64) [][]float64 {
	out := make([][]float64, len(runs))
	for i, r := range runs {
		out[i] = slices.Clone(r)
	}
	return out
}

// BenchmarkCompareRuns compares 10 runs of 30 samples with 10 others.
func BenchmarkCompareRuns(b *testing.B) {
	w := newSimWorld(rand.New(rand.NewPCG(1, 2)), 0.12, 0.19)
	x, y := simRunGroups(w, 10, 0.1)
	for b.Loop() {
		CompareRuns(x, y, DefaultRunsOptions())
	}
}
