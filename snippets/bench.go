package snippets

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
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
	// AB links the run to the A/B benchmark it is an arm of; nil for an
	// ordinary run.
	AB          *ABLink  `json:"ab,omitempty"`
	Samples     []Sample `json:"samples,omitempty"` // filled by GetRun only
	SampleCount int      `json:"sampleCount"`
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
	// another snippet it is a Conflict. The snippet must exist (NotFound),
	// and so must the A/B benchmark r.AB names, if any (NotFound). A resent
	// run keeps the link it was created with: a resend without r.AB is
	// given the stored one, a resend naming another is a Conflict.
	// r must pass Run.Validate (Invalid otherwise). CreateRun sets r.Status
	// and r.Created (UTC, millisecond precision) to the stored values, which
	// for a resent run are the original ones.
	CreateRun(ctx context.Context, r *Run) error
	// AppendBatch stores a batch's samples in one transaction and reports
	// whether it was new (false: already stored, nothing changed). A sample
	// Seq already stored in the run by another batch is a Conflict, and then
	// nothing of the batch is stored. The run must exist (NotFound); b must
	// pass Batch.Validate (Invalid otherwise). Batches may arrive after
	// FinishRun: the client flushes what it buffered.
	AppendBatch(ctx context.Context, b *Batch) (stored bool, err error)
	// FinishRun sets a run's final status, error text and finish time. The
	// arguments must pass ValidateFinish; an unknown run is NotFound. A
	// finished run's outcome is final: finishing it again with the same
	// status (a resend) changes nothing, with another status it is a
	// Conflict.
	FinishRun(ctx context.Context, runID, status, errText string) error
	// ListRuns returns a snippet's runs, newest first, without samples but
	// with SampleCount. A snippet without runs, or an unknown one, has an
	// empty list (not an error).
	ListRuns(ctx context.Context, snippetID string) ([]*Run, error)
	// GetRun returns one run with every sample ordered by Seq, or NotFound.
	GetRun(ctx context.Context, runID string) (*Run, error)

	RunOwners
}

// CPythonNative is the Run.Runtime of benchmarks measured natively by
// `pyplay bench-native` rather than in a browser.
const CPythonNative = "cpython-native"

// Runtimes of the reference suite's compiled kernels (issue 15): Go and
// Rust compiled to WebAssembly, run by the browser harness, and native Go,
// measured by `pyplay bench-native`.
const (
	GoWasm   = "go-wasm"
	RustWasm = "rust-wasm"
	GoNative = "native-go"
)

// RunRuntimes lists every runtime a run may name: the snippet runtimes,
// native CPython and the suite's compiled kernels.
var RunRuntimes = []string{string(Pyodide), string(MicroPython), string(PyScript), CPythonNative, GoWasm, RustWasm, GoNative}

// ValidRunRuntime reports whether rt is one of RunRuntimes.
func ValidRunRuntime(rt string) bool {
	for _, r := range RunRuntimes {
		if r == rt {
			return true
		}
	}
	return false
}

// NativeRuntime reports whether rt is measured outside a browser.
func NativeRuntime(rt string) bool { return rt == CPythonNative || rt == GoNative }

// Limits on what a run may carry. Runs come from browsers over WebSockets,
// so every field is bounded before it reaches the database.
const (
	maxRunIDLen      = 64
	maxRunTextLen    = 200      // runtime and runtime version
	maxRunJSONLen    = 16 << 10 // each of env, config and phases
	maxRunErrorBytes = 4 << 10
)

// RunIDRule is ValidRunID's rule in words, for error messages.
var RunIDRule = fmt.Sprintf("1 to %d letters, digits, '-' or '_'", maxRunIDLen)

// ValidRunID reports whether id can name a run: 1 to 64 ASCII letters,
// digits, '-' or '_' (the base64url alphabet), which covers
// crypto.randomUUID() and base64url tokens and keeps IDs safe in URLs and
// logs. It is the one rule: the WebSocket protocol checks it on run.start,
// the stores on CreateRun, the API before a lookup.
func ValidRunID(id string) bool {
	if id == "" || len(id) > maxRunIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isBase64URL(id[i]) {
			return false
		}
	}
	return true
}

// Validate reports the first problem with r as a new run (an *Error with
// code Invalid), or nil. Status, Created, Finished, Samples and SampleCount
// are the store's to set and are not checked. Empty Env, Config and Phases
// are allowed and stored as {}.
func (r *Run) Validate() error {
	if r == nil {
		return Errorf(Invalid, "no run")
	}
	if !ValidRunID(r.ID) {
		return Errorf(Invalid, "run id %q must be %s", r.ID, RunIDRule)
	}
	if !ValidID(r.SnippetID) {
		return Errorf(Invalid, "snippet %q is not a snippet ID", r.SnippetID)
	}
	if !ValidRunRuntime(r.Runtime) {
		return Errorf(Invalid, "unknown runtime %q; use one of %s", r.Runtime, strings.Join(RunRuntimes, ", "))
	}
	if len(r.RuntimeVersion) > maxRunTextLen {
		return Errorf(Invalid, "runtimeVersion is %d bytes; the limit is %d bytes", len(r.RuntimeVersion), maxRunTextLen)
	}
	if err := checkText("runtimeVersion", r.RuntimeVersion); err != nil {
		return err
	}
	if r.AB != nil {
		if err := r.AB.Validate(); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name  string
		value []byte
	}{{"env", r.Env}, {"config", r.Config}, {"phases", r.Phases}} {
		if err := checkJSONObject(f.name, f.value); err != nil {
			return err
		}
	}
	return nil
}

// checkJSONObject accepts an empty value or a JSON object small enough to
// store, without \u0000 (PostgreSQL's jsonb cannot hold it).
func checkJSONObject(name string, v []byte) error {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return nil
	}
	if len(v) > maxRunJSONLen {
		return Errorf(Invalid, "%s is %d bytes; the limit is %d bytes", name, len(v), maxRunJSONLen)
	}
	if v[0] != '{' || !json.Valid(v) {
		return Errorf(Invalid, "%s must be a JSON object", name)
	}
	if !utf8.Valid(v) {
		return Errorf(Invalid, "%s is not valid UTF-8", name)
	}
	if bytes.Contains(v, []byte(`\u0000`)) {
		return Errorf(Invalid, `%s must not contain \u0000`, name)
	}
	return nil
}

// Validate reports the first problem with b (an *Error with code Invalid),
// or nil: sequence numbers are non-negative and unique within the batch,
// every sample ran at least once and took a finite, non-negative time.
// Whether a sample's Seq is already stored is the store's to check.
func (b *Batch) Validate() error {
	if b == nil {
		return Errorf(Invalid, "no batch")
	}
	if !ValidRunID(b.RunID) {
		return Errorf(Invalid, "run id %q must be %s", b.RunID, RunIDRule)
	}
	if b.Seq < 0 {
		return Errorf(Invalid, "batch seq %d is negative", b.Seq)
	}
	seen := make(map[int]bool, len(b.Samples))
	for _, s := range b.Samples {
		switch {
		case s.Seq < 0:
			return Errorf(Invalid, "sample seq %d is negative", s.Seq)
		case seen[s.Seq]:
			return Errorf(Invalid, "sample seq %d appears twice in batch %d", s.Seq, b.Seq)
		case s.Iterations < 1:
			return Errorf(Invalid, "sample %d has %d iterations; it needs at least 1", s.Seq, s.Iterations)
		case math.IsNaN(s.NsPerIter) || math.IsInf(s.NsPerIter, 0) || s.NsPerIter < 0:
			return Errorf(Invalid, "sample %d has time %v ns; it must be a finite, non-negative number", s.Seq, s.NsPerIter)
		}
		seen[s.Seq] = true
	}
	return nil
}

// ValidateFinish reports whether status and errText can end a run: status
// is done, failed or stopped, and the error text is at most 4 KiB of UTF-8
// without NUL.
func ValidateFinish(status, errText string) error {
	switch status {
	case RunDone, RunFailed, RunStopped:
	default:
		return Errorf(Invalid, "status %q cannot end a run; use %s, %s or %s", status, RunDone, RunFailed, RunStopped)
	}
	if len(errText) > maxRunErrorBytes {
		return Errorf(Invalid, "error is %d bytes; the limit is %d bytes", len(errText), maxRunErrorBytes)
	}
	return checkText("error", errText)
}
