package stats

import "math"

// Auto-sampling: keep taking rounds until the verdict is clear.
//
// Looking at a growing benchmark after every round and stopping at the first
// interval that excludes 1 would find a "difference" between identical arms
// far more often than 5 % of the time. ABShouldStop therefore looks only at
// a few planned points (rounds per interpreter growing geometrically,
// ABLooks) and spends the error rate over them: every interim look uses a
// strict level, the last one most of alpha. By the union bound the chance of
// any false verdict over all looks stays below alpha whatever the data.

const (
	// abFirstLook is the rounds per interpreter at the first look: fewer
	// tell too little to stop on, even for large differences.
	abFirstLook = 10
	// abLookGrowth spaces looks geometrically: each look has about 1.5×
	// the rounds of the previous one, so the number of looks (and the
	// alpha each must give up) grows only with the log of the budget.
	abLookGrowth = 1.5
	// abInterimShare is the part of alpha spent on the interim looks
	// together; the last look keeps the rest, so a benchmark that runs its
	// whole budget is judged almost as sharply as a fixed one.
	abInterimShare = 0.2
)

// ABLooks returns the rounds per interpreter at which ABShouldStop looks,
// for a budget of maxRounds per interpreter: from 10 up to maxRounds,
// spaced geometrically by about 1.5×, always ending at maxRounds. For
// DefaultABMaxRounds (60) it is [10 14 20 29 42 60].
func ABLooks(maxRounds int) []int {
	if maxRounds <= abFirstLook {
		return []int{max(1, maxRounds)}
	}
	ratio := float64(maxRounds) / abFirstLook
	steps := int(math.Ceil(math.Log(ratio) / math.Log(abLookGrowth)))
	looks := make([]int, 0, steps+1)
	for j := 0; j <= steps; j++ {
		n := int(math.Round(abFirstLook * math.Pow(ratio, float64(j)/float64(steps))))
		if len(looks) == 0 || n > looks[len(looks)-1] {
			looks = append(looks, n)
		}
	}
	looks[len(looks)-1] = maxRounds
	return looks
}

// abLookAlpha is the alpha of look j (0-based) of n: the interim looks share
// abInterimShare·alpha equally, the last look gets the rest. With a single
// look it is alpha itself.
func abLookAlpha(j, n int, alpha float64) float64 {
	if n <= 1 {
		return alpha
	}
	if j == n-1 {
		return alpha * (1 - abInterimShare)
	}
	return alpha * abInterimShare / float64(n-1)
}

// ABShouldStop applies the auto-sampling rule to an A/B benchmark in
// progress and reports whether the comparison of arm with A is settled.
//
// It needs the interpreters to progress together (rounds taken in turn
// across opts.Interpreters live interpreters). Look j happens once each of
// the first opts.Interpreters interpreters has ABLooks(opts.MaxRounds)[j]
// rounds, and analyses exactly those rounds, at the look's level. The first
// look whose verdict is not ABUndecided settles the comparison, as does the
// last look. Because each look sees a fixed prefix of the data, calling
// ABShouldStop again as rounds arrive replays the same looks and returns the
// same answer: extra calls are not extra looks.
//
// budgetOver says the caller cannot take more rounds (the time budget ran
// out before the last look): the comparison is then settled by all of d at
// the last look's level, still within alpha overall.
//
// While not settled it returns the latest look's result (ABUndecided), or,
// before the first look, a result with Rounds 0. For a live picture of the
// data so far, use ABCompare, whose verdict is provisional.
func ABShouldStop(d ABData, arm int, budgetOver bool, opts ABOptions) (ABResult, bool) {
	o := opts.withDefaults()
	looks := ABLooks(o.MaxRounds)
	last := abAnalyse(nil, arm, o, abLookAlpha(0, len(looks), o.Alpha)) // no look yet
	if len(d.Interpreters) >= o.Interpreters {
		// The log ratios of each interpreter, computed once; every look
		// analyses a prefix of them.
		logs := make([][]float64, o.Interpreters)
		upto := make([][]int, o.Interpreters)
		for i, rounds := range d.Interpreters[:o.Interpreters] {
			logs[i], upto[i] = abLogRatios(rounds, arm)
		}
		prefix := make([][]float64, o.Interpreters)
		for j, n := range looks {
			if !abReached(d, o.Interpreters, n) {
				break
			}
			for i := range prefix {
				prefix[i] = logs[i][:upto[i][n]]
			}
			last = abAnalyse(prefix, arm, o, abLookAlpha(j, len(looks), o.Alpha))
			if last.Verdict != ABUndecided || j == len(looks)-1 {
				last.Summary = abSummary(last, o)
				return last, true
			}
		}
	}
	if budgetOver {
		return ABCompare(d, arm, ABOptions{
			Threshold: o.Threshold, Alpha: abLookAlpha(len(looks)-1, len(looks), o.Alpha), Names: o.Names,
		}), true
	}
	last.Summary = abSummary(last, o)
	return last, false
}

// abReached reports whether the first k interpreters of d have at least n
// rounds each.
func abReached(d ABData, k, n int) bool {
	for _, rounds := range d.Interpreters[:k] {
		if len(rounds) < n {
			return false
		}
	}
	return true
}
