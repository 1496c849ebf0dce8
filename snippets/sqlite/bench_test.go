package sqlite

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pyplay/pyplay/snippets"
)

// BenchmarkAppendBatchConcurrent appends 25-sample batches from many
// goroutines at once, each streaming its own run, as the WebSocket
// endpoint does for many producers: mode=serial is one transaction (one
// fsync) per batch, as before group commit; mode=group commits the batches
// queued meanwhile together. The file is on disk (t.TempDir) with
// synchronous=FULL: each commit waits for an fsync. ns/op is per batch.
//
//	go test -run '^$' -bench AppendBatchConcurrent -benchtime 2000x -count 6 ./snippets/sqlite/
func BenchmarkAppendBatchConcurrent(b *testing.B) {
	for _, mode := range []string{"serial", "group"} {
		for _, producers := range []int{1, 16, 200} {
			b.Run(fmt.Sprintf("mode=%s/producers=%d", mode, producers), func(b *testing.B) {
				benchmarkAppend(b, mode == "serial", producers)
			})
		}
	}
}

func benchmarkAppend(b *testing.B, serial bool, producers int) {
	s, err := Open(b.Context(), b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.w.serial = serial
	ctx := b.Context()
	sn := &snippets.Snippet{Runtime: snippets.Pyodide, Code: "sum(range(1000))"}
	sn.Seal()
	if _, err := s.Put(ctx, sn); err != nil {
		b.Fatal(err)
	}
	for p := range producers {
		if err := s.CreateRun(ctx, &snippets.Run{ID: fmt.Sprint("run-", p), SnippetID: sn.ID, Runtime: "pyodide"}); err != nil {
			b.Fatal(err)
		}
	}
	const perBatch = 25
	var next atomic.Int64 // batches handed out
	var wg sync.WaitGroup
	b.ResetTimer()
	for p := range producers {
		wg.Go(func() {
			run := fmt.Sprint("run-", p)
			samples := make([]snippets.Sample, perBatch)
			for seq := 0; next.Add(1) <= int64(b.N); seq++ {
				for i := range samples {
					samples[i] = snippets.Sample{Seq: seq*perBatch + i, NsPerIter: 1000, Iterations: 100}
				}
				if stored, err := s.AppendBatch(ctx, &snippets.Batch{RunID: run, Seq: seq, Samples: samples}); err != nil || !stored {
					b.Errorf("AppendBatch = %v, %v", stored, err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "batches/s")
}
