package benchproto

import "github.com/pyplay/pyplay/snippets"

// StoreRun returns the run to hand to snippets.RunStore.CreateRun. The
// store sets Status and Created.
func (r *RunInfo) StoreRun() *snippets.Run {
	return &snippets.Run{
		ID:             r.ID,
		SnippetID:      r.Snippet,
		Runtime:        r.Runtime,
		RuntimeVersion: r.RuntimeVersion,
		Env:            r.Env,
		Config:         r.Config,
		Phases:         r.Phases,
		AB:             r.AB,
	}
}

// RunInfoOf returns the protocol's view of a stored run, e.g. to announce
// runs read back from the database or received through PostgreSQL NOTIFY.
func RunInfoOf(r *snippets.Run) RunInfo {
	return RunInfo{
		ID:             r.ID,
		Snippet:        r.SnippetID,
		Runtime:        r.Runtime,
		RuntimeVersion: r.RuntimeVersion,
		Env:            r.Env,
		Config:         r.Config,
		Phases:         r.Phases,
		AB:             r.AB,
	}
}

// StoreBatch returns the batch to hand to snippets.RunStore.AppendBatch.
// The samples are shared, not copied: decoded messages are not modified
// afterwards.
func (b *SampleBatch) StoreBatch() *snippets.Batch {
	return &snippets.Batch{RunID: b.Run, Seq: b.Batch, Samples: b.Samples}
}

// SampleBatchOf returns the protocol's view of a stored batch.
func SampleBatchOf(b *snippets.Batch) *SampleBatch {
	return &SampleBatch{Run: b.RunID, Batch: b.Seq, Samples: b.Samples}
}
