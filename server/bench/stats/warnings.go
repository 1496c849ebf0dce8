package stats

import (
	"fmt"
	"strconv"
)

// Thresholds of Warnings, named so the dashboard can explain them.
const (
	// MinSamples is the fewest samples for which the 95% median interval is
	// narrower than [min, max] with room to spare.
	MinSamples = 10
	// MaxCV and MaxRelMAD flag noisy runs: beyond them run-to-run
	// differences of a few percent are indistinguishable from noise.
	MaxCV     = 0.1
	MaxRelMAD = 0.05
	// TimerResolutionFactor: the timer must resolve 1/100 of the median,
	// otherwise quantisation alone moves the median by more than 1%.
	TimerResolutionFactor = 100
)

// Warnings returns human-readable reasons to distrust a run's numbers, in a
// fixed order, or nil when there are none.
//
// timerResolutionNs is the timer's resolution as it affects one iteration:
// when a sample times k iterations and divides by k, pass resolution/k. The
// check compares it with the median, which is per iteration. Pass 0 when
// unknown. hidden reports that the tab was hidden during some samples, when
// browsers throttle timers and CPU.
//
// High variance uses the raw MAD of Summary relative to the median.
func Warnings(s Summary, timerResolutionNs float64, hidden bool) []string {
	var w []string
	if s.N == 0 {
		w = append(w, "no samples: nothing was measured")
	} else if s.N < MinSamples {
		w = append(w, fmt.Sprintf("too few samples: %d (want at least %d); the median's confidence interval is wide", s.N, MinSamples))
	}
	if timerResolutionNs > 0 && s.N > 0 && timerResolutionNs > s.Median/TimerResolutionFactor {
		w = append(w, fmt.Sprintf("coarse timer: resolution %s is more than 1%% of the median %s; time more iterations per sample or enable cross-origin isolation",
			FormatNs(timerResolutionNs), FormatNs(s.Median)))
	}
	if s.N > 1 {
		relMAD := 0.0
		if s.Median != 0 {
			relMAD = s.MAD / s.Median
		}
		if s.CV > MaxCV || relMAD > MaxRelMAD {
			w = append(w, fmt.Sprintf("high variance: CV %.1f%%, MAD/median %.1f%% (want under %.0f%% and %.0f%%); close other tabs and programs and rerun",
				100*s.CV, 100*relMAD, 100*MaxCV, 100*MaxRelMAD))
		}
	}
	if hidden {
		w = append(w, "hidden tab: some samples were taken while the tab was hidden, when browsers throttle timers and CPU")
	}
	return w
}

// FormatNs prints a duration in nanoseconds with a unit a person reads at
// a glance ("12.3 ms"), to three significant digits.
//
// It rounds to three digits before choosing the unit, so 999.5 ns reads
// "1 µs", not "1e+03 ns". web/dom.ts's formatNs is held to the same table
// (web/testdata/format.json).
func FormatNs(ns float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(ns, 'g', 3, 64), 64)
	switch {
	case r >= 1e9:
		return fmt.Sprintf("%.3g s", r/1e9)
	case r >= 1e6:
		return fmt.Sprintf("%.3g ms", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.3g µs", r/1e3)
	}
	return fmt.Sprintf("%.3g ns", r)
}
