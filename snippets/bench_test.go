package snippets

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestValidRunID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"0b5c2b0e-8f0a-4c1e-9a55-2f4d6f1f0a11", true},
		{"r", true},
		{"b_c-D9", true},
		{"a.b", false}, // the protocol never allowed '.', so no stored run has one
		{strings.Repeat("r", 64), true},
		{"", false},
		{strings.Repeat("r", 65), false},
		{"a b", false},
		{"a/b", false},
		{"ré", false},
	}
	for _, tt := range tests {
		if got := ValidRunID(tt.id); got != tt.want {
			t.Errorf("ValidRunID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestRunValidate(t *testing.T) {
	valid := func() Run {
		return Run{ID: "run-1", SnippetID: "vyTiMdDUalW", Runtime: "pyodide", RuntimeVersion: "314.0.7",
			Env: json.RawMessage(`{"cores":2}`), Config: json.RawMessage(`{}`)}
	}
	tests := []struct {
		name   string
		change func(*Run)
		code   string
		msg    string
	}{
		{"valid", func(*Run) {}, "", ""},
		{"native runtime", func(r *Run) { r.Runtime = CPythonNative }, "", ""},
		{"no JSON at all", func(r *Run) { r.Env, r.Config, r.Phases = nil, nil, nil }, "", ""},
		{"bad run id", func(r *Run) { r.ID = "a b" }, Invalid, `run id "a b"`},
		{"bad snippet id", func(r *Run) { r.SnippetID = "short" }, Invalid, `snippet "short" is not a snippet ID`},
		{"unknown runtime", func(r *Run) { r.Runtime = "brython" }, Invalid, `unknown runtime "brython"`},
		{"long version", func(r *Run) { r.RuntimeVersion = strings.Repeat("1", 201) }, Invalid, "runtimeVersion is 201 bytes"},
		{"NUL in version", func(r *Run) { r.RuntimeVersion = "1\x00" }, Invalid, "runtimeVersion contains a NUL"},
		{"env an array", func(r *Run) { r.Env = json.RawMessage(`[1]`) }, Invalid, "env must be a JSON object"},
		{"config malformed", func(r *Run) { r.Config = json.RawMessage(`{"a":`) }, Invalid, "config must be a JSON object"},
		{"phases with NUL escape", func(r *Run) { r.Phases = json.RawMessage(`{"a":"\u0000"}`) }, Invalid, `phases must not contain \u0000`},
		{"env too large", func(r *Run) { r.Env = json.RawMessage(`{"a":"` + strings.Repeat("x", 16<<10) + `"}`) }, Invalid, "env is 16392 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid()
			tt.change(&r)
			checkErr(t, r.Validate(), tt.code, tt.msg)
		})
	}
	var nilRun *Run
	checkErr(t, nilRun.Validate(), Invalid, "no run")
}

func TestBatchValidate(t *testing.T) {
	ok := Sample{Seq: 0, NsPerIter: 12.5, Iterations: 10}
	tests := []struct {
		name string
		b    Batch
		code string
		msg  string
	}{
		{"valid", Batch{RunID: "r", Seq: 0, Samples: []Sample{ok, {Seq: 1, NsPerIter: 0, Iterations: 1, Warmup: true}}}, "", ""},
		{"empty", Batch{RunID: "r", Seq: 3}, "", ""},
		{"bad run id", Batch{RunID: ""}, Invalid, "run id"},
		{"negative batch seq", Batch{RunID: "r", Seq: -1}, Invalid, "batch seq -1 is negative"},
		{"negative sample seq", Batch{RunID: "r", Samples: []Sample{{Seq: -2, NsPerIter: 1, Iterations: 1}}}, Invalid, "sample seq -2 is negative"},
		{"duplicate sample seq", Batch{RunID: "r", Seq: 4, Samples: []Sample{ok, ok}}, Invalid, "sample seq 0 appears twice in batch 4"},
		{"no iterations", Batch{RunID: "r", Samples: []Sample{{Seq: 0, NsPerIter: 1}}}, Invalid, "sample 0 has 0 iterations"},
		{"NaN", Batch{RunID: "r", Samples: []Sample{{Seq: 0, NsPerIter: math.NaN(), Iterations: 1}}}, Invalid, "finite, non-negative"},
		{"Inf", Batch{RunID: "r", Samples: []Sample{{Seq: 0, NsPerIter: math.Inf(1), Iterations: 1}}}, Invalid, "finite, non-negative"},
		{"negative time", Batch{RunID: "r", Samples: []Sample{{Seq: 0, NsPerIter: -1, Iterations: 1}}}, Invalid, "finite, non-negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.b.Validate(), tt.code, tt.msg)
		})
	}
	var nilBatch *Batch
	checkErr(t, nilBatch.Validate(), Invalid, "no batch")
}

func TestValidateFinish(t *testing.T) {
	for _, st := range []string{RunDone, RunFailed, RunStopped} {
		checkErr(t, ValidateFinish(st, ""), "", "")
	}
	checkErr(t, ValidateFinish(RunFailed, "Traceback: ..."), "", "")
	checkErr(t, ValidateFinish(RunRunning, ""), Invalid, `status "running" cannot end a run`)
	checkErr(t, ValidateFinish("ok", ""), Invalid, `status "ok"`)
	checkErr(t, ValidateFinish(RunFailed, strings.Repeat("e", 4097)), Invalid, "error is 4097 bytes")
	checkErr(t, ValidateFinish(RunFailed, "\xff"), Invalid, "error is not valid UTF-8")
}
