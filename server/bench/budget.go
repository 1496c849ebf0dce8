package bench

// A comparison's cost grows with the samples it compares: the bootstrap of
// the ratio draws every sample of both sides thousands of times. So each
// side of a comparison takes at most maxComparedPerGroup samples, those of
// its newest runs (groups pool their runs newest first), and one table's
// comparisons take at most comparedSamples together. A row beyond the
// budget is shown with its statistics and the verdict "not compared".
// BENCHMARKS.md has what a table at the budget costs.
const (
	maxComparedPerGroup = 2_000
	comparedSamples     = 20_000
)

// notComparedText says why a row has no comparison.
const notComparedText = "not compared: this table compares at most 20000 samples in all (2000 per group, the newest); the rows above took them"

// compareBudget is what is left of comparedSamples.
type compareBudget int

// take returns the samples of both sides to compare, newest first, and
// counts them, or reports false when they do not fit what is left.
func (b *compareBudget) take(x, y []float64) ([]float64, []float64, bool) {
	x, y = x[:min(len(x), maxComparedPerGroup)], y[:min(len(y), maxComparedPerGroup)]
	n := compareBudget(len(x) + len(y))
	if n > *b {
		return nil, nil, false
	}
	*b -= n
	return x, y, true
}
