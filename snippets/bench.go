package snippets

import (
	"context"
	"encoding/json"
	"time"
)

// A Run is one benchmark of one snippet in one runtime in one browser (or
// natively, runtime "cpython-native"). The client chooses its ID (a random
// token) so that it can resend after a reconnect without creating a second
// run.
type Run struct {
	ID             string          `json:"id"`
	SnippetID      string          `json:"snippet"`
	Runtime        string          `json:"runtime"` // pyodide, micropython, pyscript, cpython-native
	RuntimeVersion string          `json:"runtimeVersion"`
	Env            json.RawMessage `json:"env"`    // JSON object: userAgent, browser, cores, crossOriginIsolated, timerResolutionNs, hidden, …
	Config         json.RawMessage `json:"config"` // JSON object: warmup and sample rules the harness used
	Phases         json.RawMessage `json:"phases"` // JSON object of start-up phase durations in ms: fetch, compile, init, firstRun
	Created        time.Time       `json:"created"`
	Finished       *time.Time      `json:"finished,omitempty"`
	Status         string          `json:"status"` // running, done, failed, stopped
	Error          string          `json:"error,omitempty"`
	Samples        []Sample        `json:"samples,omitempty"` // filled by GetRun only
	SampleCount    int             `json:"sampleCount"`
}

// A Sample is one timed measurement: Iterations executions of the snippet
// that together took Iterations*NsPerIter nanoseconds.
type Sample struct {
	Seq        int     `json:"seq"`    // position in the run, from 0, unique within the run
	Warmup     bool    `json:"warmup"` // warmup samples are stored and shown but not in statistics
	NsPerIter  float64 `json:"ns"`     // nanoseconds per iteration
	Iterations int     `json:"iters"`
	Hidden     bool    `json:"hidden,omitempty"` // the tab was hidden while this sample was taken
}

// A Batch is a group of samples sent together. Batches are stored exactly
// once: appending a batch whose (RunID, Seq) is already stored is a no-op.
type Batch struct {
	RunID   string   `json:"run"`
	Seq     int      `json:"seq"`
	Samples []Sample `json:"samples"`
}

// Run statuses.
const (
	RunRunning = "running"
	RunDone    = "done"
	RunFailed  = "failed"
	RunStopped = "stopped"
)

// RunStore keeps benchmark runs and their samples.
type RunStore interface {
	// CreateRun stores a new run with status running. Creating a run whose ID
	// exists for the same snippet is a no-op (the client resent it); for
	// another snippet it is a Conflict. The snippet must exist (NotFound).
	CreateRun(ctx context.Context, r *Run) error
	// AppendBatch stores a batch's samples in one transaction and reports
	// whether it was new (false: already stored, nothing changed). A sample
	// Seq already stored in the run by another batch is a Conflict.
	AppendBatch(ctx context.Context, b *Batch) (stored bool, err error)
	// FinishRun sets a run's final status, error text and finish time.
	FinishRun(ctx context.Context, runID, status, errText string) error
	// ListRuns returns a snippet's runs, newest first, without samples.
	ListRuns(ctx context.Context, snippetID string) ([]*Run, error)
	// GetRun returns one run with every sample ordered by Seq.
	GetRun(ctx context.Context, runID string) (*Run, error)
}
