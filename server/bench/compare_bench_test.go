//go:build unix

package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/sqlite"
)

// BenchmarkCompareWorstCase is the cost of GET /api/bench/compare on a
// snippet filled to what one request reads (maxReadSamples samples, newest
// runs first): its statistics are not cached yet, so every sample is read
// from SQLite, every group summarised and compared with the baseline. Two
// shapes: many small runs, each its own group (the most rows), and runs at
// MaxSamplesPerRun (the largest runs).
//
//	go test -run '^$' -bench CompareWorstCase -benchtime 3x ./server/bench/
func BenchmarkCompareWorstCase(b *testing.B) {
	for _, shape := range []struct {
		name      string
		runs, per int
	}{
		{"200runs_x1000", 200, 1000},
		{"10runs_x20000", 10, 20000},
	} {
		b.Run(shape.name, func(b *testing.B) {
			st, snippet := fillSnippet(b, shape.runs, shape.per)
			lab := &Lab{cfg: Config{Store: st}}
			cpu := cpuTime()
			for b.Loop() {
				lab.stats = newStatsCaches() // nothing cached: the first request after a change
				t, err := lab.compareTableOf(context.Background(), snippet, "")
				if err != nil {
					b.Fatal(err)
				}
				if len(t.Groups) != shape.runs {
					b.Fatalf("%d groups", len(t.Groups))
				}
			}
			b.StopTimer()
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
			// Once cached, the same request costs a listing of the runs.
			t, _ := lab.compareTableOf(context.Background(), snippet, "")
			compared := 0
			for _, g := range t.Groups {
				if g.RunComparison != nil {
					compared++
				}
			}
			b.ReportMetric(float64(compared), "rows-compared")
		})
	}
}

// BenchmarkCompareCached is the same request once the table is cached.
func BenchmarkCompareCached(b *testing.B) {
	st, snippet := fillSnippet(b, 200, 1000)
	lab := &Lab{cfg: Config{Store: st}, stats: newStatsCaches()}
	if _, err := lab.compareTableOf(context.Background(), snippet, ""); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := lab.compareTableOf(context.Background(), snippet, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// fillSnippet stores a snippet with runs of per samples each, every run on
// its own machine (so its own group of the table).
func fillSnippet(b *testing.B, runs, per int) (snippets.Store, string) {
	b.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "pyplay.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	sn := &snippets.Snippet{Code: "sum(range(1000))\n", Runtime: snippets.Pyodide}
	sn.Seal()
	ctx := context.Background()
	if _, err := st.Put(ctx, sn); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for r := range runs {
		id := fmt.Sprintf("run-%04d", r)
		env := fmt.Sprintf(`{"browser":"Chrome","browserVersion":"156","platform":"machine %d","cores":2,"timerResolutionNs":5000}`, r)
		if err := st.CreateRun(ctx, &snippets.Run{ID: id, SnippetID: sn.ID, Runtime: "pyodide", Env: []byte(env)}); err != nil {
			b.Fatal(err)
		}
		for batch := 0; batch*500 < per; batch++ {
			bt := &snippets.Batch{RunID: id, Seq: batch}
			for i := batch * 500; i < min(per, (batch+1)*500); i++ {
				bt.Samples = append(bt.Samples, snippets.Sample{Seq: i, NsPerIter: 1e6 * (1 + 0.1*float64(r%7)) * (1 + 0.05*rng.NormFloat64()), Iterations: 1})
			}
			if _, err := st.AppendBatch(ctx, bt); err != nil {
				b.Fatal(err)
			}
		}
	}
	return st, sn.ID
}

// cpuTime is the CPU time this process has used: on a machine shared with
// other work, a steadier measure of a request's cost than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
