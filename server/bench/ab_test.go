package bench

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/server/bench/stats"
	"github.com/pyplay/pyplay/snippets"
)

// putSnippet stores a snippet with the given code and returns its ID.
func putSnippet(t *testing.T, store snippets.Store, code string) string {
	t.Helper()
	sn := &snippets.Snippet{Code: code, Runtime: snippets.Pyodide}
	sn.Seal()
	if _, err := store.Put(context.Background(), sn); err != nil {
		t.Fatal(err)
	}
	return sn.ID
}

// post sends a body to the env's server and returns the status and body.
func (e *benchEnv) post(t *testing.T, path, contentType, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

// createAB creates an A/B benchmark through the API and returns its ID.
func (e *benchEnv) createAB(t *testing.T, body string) string {
	t.Helper()
	status, h, b := e.post(t, "/api/bench/ab", "application/json", body)
	var out abCreated
	if status != http.StatusCreated || json.Unmarshal(b, &out) != nil || !snippets.ValidABID(out.ID) {
		t.Fatalf("POST /api/bench/ab %s: %d %s", body, status, b)
	}
	if out.URL != "/bench/ab/"+out.ID || h.Get("Location") != "/api/bench/ab/"+out.ID {
		t.Errorf("created %+v, Location %q", out, h.Get("Location"))
	}
	return out.ID
}

type apiError struct {
	Error struct{ Code, Message string } `json:"error"`
}

func TestABCreate(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	a, b := e.snippet, putSnippet(t, e.store, "sum(range(2000))\n")
	missing := &snippets.Snippet{Code: "never shared", Runtime: snippets.Pyodide}
	missing.Seal()
	arms := `"a":"` + a + `","b":"` + b + `"`
	for _, tt := range []struct {
		name, contentType, body string
		status                  int
		code, msg               string
	}{
		{"no content type", "", `{` + arms + `,"runtimes":["pyodide"]}`, 415, "unsupported_media_type", "Content-Type is missing"},
		{"form", "application/x-www-form-urlencoded", "a=1", 415, "unsupported_media_type", "send the A/B benchmark as application/json"},
		{"latin-1", "application/json; charset=latin1", `{}`, 415, "unsupported_media_type", "charset"},
		{"too large", "application/json", `{"a":"` + strings.Repeat("x", snippets.MaxABBody) + `"}`, 413, "too_large", "limit is 4096 bytes"},
		{"empty", "application/json", ``, 400, "invalid", "request body is empty"},
		{"not json", "application/json", `{a}`, 400, "invalid", "malformed JSON at line 1, column 2"},
		{"array", "application/json", `[]`, 400, "invalid", "must be a JSON object, not an array"},
		{"trailing", "application/json", `{` + arms + `,"runtimes":["pyodide"]} {}`, 400, "invalid", "unexpected data after the JSON object"},
		{"no a", "application/json", `{"b":"` + b + `","runtimes":["pyodide"]}`, 400, "invalid", "a is missing"},
		{"no b", "application/json", `{"a":"` + a + `","runtimes":["pyodide"]}`, 400, "invalid", "b is missing"},
		{"no runtimes", "application/json", `{` + arms + `}`, 400, "invalid", "runtimes is missing"},
		{"empty runtimes", "application/json", `{` + arms + `,"runtimes":[]}`, 400, "invalid", "runtimes is empty"},
		{"pyscript", "application/json", `{` + arms + `,"runtimes":["pyscript"]}`, 400, "invalid", "runtime pyscript cannot take part in an A/B benchmark"},
		{"unknown runtime", "application/json", `{` + arms + `,"runtimes":["brython"]}`, 400, "invalid", `unknown runtime "brython"`},
		{"runtime twice", "application/json", `{` + arms + `,"runtimes":["pyodide","pyodide"]}`, 400, "invalid", "listed twice"},
		{"runtime number", "application/json", `{` + arms + `,"runtimes":[1]}`, 400, "invalid", "must be a string"},
		{"bad arm id", "application/json", `{"a":"short","b":"` + b + `","runtimes":["pyodide"]}`, 400, "invalid", `a "short" is not a snippet ID`},
		{"arm number", "application/json", `{"a":1,"b":"` + b + `","runtimes":["pyodide"]}`, 400, "invalid", `field "a" must be a string`},
		{"unknown field", "application/json", `{` + arms + `,"runtimes":["pyodide"],"d":"x"}`, 400, "invalid", `unknown field "d"`},
		{"field case", "application/json", `{` + arms + `,"Runtimes":["pyodide"]}`, 400, "invalid", `unknown field "Runtimes"`},
		{"duplicate field", "application/json", `{` + arms + `,"b":"` + a + `","runtimes":["pyodide"]}`, 400, "invalid", `field "b" appears more than once`},
		{"negative threshold", "application/json", `{` + arms + `,"runtimes":["pyodide"],"threshold":-0.1}`, 400, "invalid", "threshold -0.1 must be between 0 and 1"},
		{"threshold string", "application/json", `{` + arms + `,"runtimes":["pyodide"],"threshold":"2%"}`, 400, "invalid", `field "threshold" must be a number`},
		{"budget fraction", "application/json", `{` + arms + `,"runtimes":["pyodide"],"budgetMs":1.5}`, 400, "invalid", `field "budgetMs" must be a whole number`},
		{"budget tiny", "application/json", `{` + arms + `,"runtimes":["pyodide"],"budgetMs":10}`, 400, "invalid", "budgetMs 10 must be between 100 and 3600000"},
		{"no interpreters", "application/json", `{` + arms + `,"runtimes":["pyodide"],"interpreters":0}`, 400, "invalid", "interpreters 0 must be between 1 and 20"},
		{"interpreters null", "application/json", `{` + arms + `,"runtimes":["pyodide"],"interpreters":null}`, 400, "invalid", `field "interpreters" must be an integer, not null`},
		{"unknown snippet", "application/json", `{"a":"` + a + `","b":"` + missing.ID + `","runtimes":["pyodide"]}`, 404, "not_found", "B: no snippet with ID " + missing.ID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := e.post(t, "/api/bench/ab", tt.contentType, tt.body)
			var got apiError
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%d %s: %v", status, body, err)
			}
			if status != tt.status || got.Error.Code != tt.code || !strings.Contains(got.Error.Message, tt.msg) {
				t.Errorf("got %d %s %q, want %d %s containing %q", status, got.Error.Code, got.Error.Message, tt.status, tt.code, tt.msg)
			}
		})
	}

	c := putSnippet(t, e.store, "sum(range(3000))\n")
	id := e.createAB(t, `{"a":"`+a+`","b":"`+b+`","c":"`+c+`","runtimes":["micropython","pyodide"],"threshold":0,"budgetMs":5000,"interpreters":3}`)
	var v abView
	e.getJSON(t, "/api/bench/ab/"+id, 200, &v)
	if v.ID != id || v.A != a || v.B != b || v.C != c || !reflect.DeepEqual(v.Runtimes, []string{"micropython", "pyodide"}) ||
		v.Threshold != 0 || v.BudgetMs != 5000 || v.Interpreters != 3 || v.Rounds != 0 || v.Done || v.Decided || len(v.Results) != 4 {
		t.Errorf("GET = %+v", v)
	}
	// Defaults, and an A/A benchmark.
	id = e.createAB(t, `{"a":"`+a+`","b":"`+a+`","runtimes":["pyodide"]}`)
	v = abView{}
	e.getJSON(t, "/api/bench/ab/"+id, 200, &v)
	// MaxRounds: 60 s over 5 interpreters × 2 arms × 5 ms samples.
	if v.Threshold != 0.02 || v.BudgetMs != 60000 || v.Interpreters != 5 || v.C != "" || v.MaxRounds != 1200 {
		t.Errorf("defaults: %+v", v)
	}
}

func TestABNotFound(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	missing := &snippets.Snippet{Code: "never shared", Runtime: snippets.Pyodide}
	missing.Seal()
	for _, tt := range []struct {
		path   string
		status int
		code   string
	}{
		{"/api/bench/ab/AAAAAAAAAAAAAAAA", 404, "not_found"},
		{"/api/bench/ab/short", 404, "not_found"},
		{"/api/bench/ab/" + strings.Repeat("é", 8), 404, "not_found"},
		{"/bench/ab/AAAAAAAAAAAAAAAA", 404, "not_found"},
		{"/api/bench/ab", 400, "invalid"},
		{"/api/bench/ab?snippet=..", 400, "invalid"},
		{"/api/bench/ab?snippet=" + missing.ID, 404, "not_found"},
	} {
		var got apiError
		e.getJSON(t, tt.path, tt.status, &got)
		if got.Error.Code != tt.code || got.Error.Message == "" {
			t.Errorf("GET %s: %+v, want code %s", tt.path, got, tt.code)
		}
	}
}

// abRun stores a run linked to an A/B benchmark, with the given measured
// samples after warmups warmup samples, in one batch.
func abRun(t *testing.T, store snippets.Store, ab, arm string, interp int, snippet, runtime string, warmups int, ns []float64, status string) string {
	t.Helper()
	id := ab[:6] + "-" + runtime[:2] + "-" + arm + "-" + string(rune('0'+interp))
	ctx := context.Background()
	r := &snippets.Run{ID: id, SnippetID: snippet, Runtime: runtime, AB: &snippets.ABLink{ID: ab, Arm: arm, Interpreter: interp}}
	if err := store.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	b := &snippets.Batch{RunID: id}
	for i := range warmups {
		b.Samples = append(b.Samples, snippets.Sample{Seq: i, Warmup: true, NsPerIter: 1e9, Iterations: 1})
	}
	for i, x := range ns {
		b.Samples = append(b.Samples, snippets.Sample{Seq: warmups + i, NsPerIter: x, Iterations: 1})
	}
	if len(b.Samples) > 0 {
		if _, err := store.AppendBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if status != snippets.RunRunning {
		if err := store.FinishRun(ctx, id, status, ""); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// The k-th measured sample of each arm's run is round k of its
// interpreter; warmups do not count and rounds some arm lacks are left out.
func TestABRoundPairing(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	a, b := e.snippet, putSnippet(t, e.store, "b = 1\n")
	id := e.createAB(t, `{"a":"`+a+`","b":"`+b+`","runtimes":["pyodide"],"interpreters":2}`)
	// Interpreter 0: 3 complete rounds (B has a fourth sample, A not yet).
	abRun(t, e.store, id, "a", 0, a, "pyodide", 2, []float64{100, 200, 400}, snippets.RunRunning)
	abRun(t, e.store, id, "b", 0, b, "pyodide", 1, []float64{110, 180, 400, 999}, snippets.RunRunning)
	// Interpreter 7 (indexes need not be dense): 2 complete rounds.
	abRun(t, e.store, id, "b", 7, b, "pyodide", 0, []float64{300, 50}, snippets.RunRunning)
	abRun(t, e.store, id, "a", 7, a, "pyodide", 3, []float64{150, 100}, snippets.RunRunning)
	// A run of another runtime or outside the benchmark does not count.
	storeRun(t, e.store, "plain", a, "pyodide", chromeEnv, 0, []float64{1, 1, 1}, 1, snippets.RunDone)

	var v abView
	e.getJSON(t, "/api/bench/ab/"+id, 200, &v)
	if v.Rounds != 5 {
		t.Errorf("rounds = %d, want 5", v.Rounds)
	}
	want := []abDiff{
		{"pyodide", "b", 0, 0, 1.1}, {"pyodide", "b", 0, 1, 0.9}, {"pyodide", "b", 0, 2, 1},
		{"pyodide", "b", 7, 0, 2}, {"pyodide", "b", 7, 1, 0.5},
	}
	if len(v.Diffs) != len(want) {
		t.Fatalf("diffs = %+v, want %+v", v.Diffs, want)
	}
	for i, d := range v.Diffs {
		w := want[i]
		if d.Runtime != w.Runtime || d.Arm != w.Arm || d.Interpreter != w.Interpreter || d.Round != w.Round || math.Abs(d.Ratio-w.Ratio) > 1e-12 {
			t.Errorf("diff %d = %+v, want %+v", i, d, w)
		}
	}
	if len(v.Results) != 1 {
		t.Fatalf("results = %+v", v.Results)
	}
	r := v.Results[0]
	// Medians over the complete rounds only: A {100,200,400,150,100}, B {110,180,400,300,50}.
	if r.Runtime != "pyodide" || r.Arm != "b" || r.MedianA != 150 || r.MedianB != 180 || r.Verdict != "undecided" || r.Decided {
		t.Errorf("result = %+v", r)
	}
	if len(v.Runs) != 4 {
		t.Errorf("runs = %+v, want the 4 linked runs", v.Runs)
	}
	for _, run := range v.Runs {
		if run.Arm == "b" && run.Interpreter == 0 && run.Samples != 4 {
			t.Errorf("run %+v: want 4 measured samples", run)
		}
	}
}

// countingStore counts ABRuns calls, to tell a computed answer from a
// cached one.
type countingStore struct {
	snippets.Store
	abRuns atomic.Int64
}

func (s *countingStore) ABRuns(ctx context.Context, id string) ([]*snippets.Run, error) {
	s.abRuns.Add(1)
	return s.Store.ABRuns(ctx, id)
}

// Polling an unchanged benchmark is answered from the cache; a new batch,
// a new run or a run's end invalidates it.
func TestABCache(t *testing.T) {
	base := newBenchEnv(t, WSConfig{}).store
	cs := &countingStore{Store: base}
	e := newBenchEnvStore(t, WSConfig{}, cs)
	a, b := e.snippet, putSnippet(t, cs, "b = 2\n")
	id := e.createAB(t, `{"a":"`+a+`","b":"`+b+`","runtimes":["pyodide"],"interpreters":1}`)
	ra := abRun(t, cs, id, "a", 0, a, "pyodide", 0, []float64{100, 100}, snippets.RunRunning)
	abRun(t, cs, id, "b", 0, b, "pyodide", 0, []float64{120, 120}, snippets.RunRunning)

	rounds := func() int {
		var v abView
		e.getJSON(t, "/api/bench/ab/"+id, 200, &v)
		return v.Rounds
	}
	if n := rounds(); n != 2 {
		t.Fatalf("rounds = %d, want 2", n)
	}
	computed := cs.abRuns.Load()
	if n := rounds(); n != 2 || cs.abRuns.Load() != computed {
		t.Errorf("second GET: rounds %d, %d computations; want 2 from the cache", n, cs.abRuns.Load()-computed+1)
	}
	// The listing shares the cache.
	var list abListing
	e.getJSON(t, "/api/bench/ab?snippet="+b, 200, &list)
	if len(list.ABs) != 1 || list.ABs[0].ID != id || list.ABs[0].Rounds != 2 || cs.abRuns.Load() != computed {
		t.Errorf("listing = %+v after %d computations", list, cs.abRuns.Load())
	}

	if _, err := cs.AppendBatch(context.Background(), &snippets.Batch{RunID: ra, Seq: 1, Samples: []snippets.Sample{{Seq: 2, NsPerIter: 100, Iterations: 1}}}); err != nil {
		t.Fatal(err)
	}
	if n := rounds(); n != 2 || cs.abRuns.Load() != computed+1 {
		t.Errorf("after A's third sample: rounds %d, computations %d; want 2, %d", n, cs.abRuns.Load(), computed+1)
	}
	if _, err := cs.AppendBatch(context.Background(), &snippets.Batch{RunID: id[:6] + "-py-b-0", Seq: 1, Samples: []snippets.Sample{{Seq: 2, NsPerIter: 120, Iterations: 1}}}); err != nil {
		t.Fatal(err)
	}
	if n := rounds(); n != 3 {
		t.Errorf("after B's third sample: rounds %d, want 3", n)
	}
	computed = cs.abRuns.Load()
	if err := cs.FinishRun(context.Background(), ra, snippets.RunDone, ""); err != nil {
		t.Fatal(err)
	}
	rounds()
	if cs.abRuns.Load() != computed+1 {
		t.Errorf("a run's end did not invalidate the cache")
	}
}

// shift makes n rounds of A around 1 ms and B at factor × A, with
// deterministic wobble shared by both (machine drift hits both arms).
func shifted(n int, factor, phase float64) (a, b []float64) {
	for i := range n {
		base := 1e6 * (1 + 0.05*math.Sin(float64(i)*0.7+phase))
		noise := 1 + 0.01*math.Cos(float64(i)*1.3+2*phase)
		a = append(a, base)
		b = append(b, base*factor*noise)
	}
	return a, b
}

func TestABDecidedAndDone(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	a, b := e.snippet, putSnippet(t, e.store, "b = 3\n")

	// B twice as slow in every interpreter: decided at the first look
	// (10 rounds in each of 5 interpreters), while the runs still run.
	slow := e.createAB(t, `{"a":"`+a+`","b":"`+b+`","runtimes":["pyodide"]}`)
	for k := range 5 {
		xa, xb := shifted(10, 2, float64(k))
		abRun(t, e.store, slow, "a", k, a, "pyodide", 1, xa, snippets.RunRunning)
		abRun(t, e.store, slow, "b", k, b, "pyodide", 1, xb, snippets.RunRunning)
	}
	var v abView
	e.getJSON(t, "/api/bench/ab/"+slow, 200, &v)
	r := v.Results[0]
	if !v.Decided || !v.Done || !r.Decided || r.Verdict != "slower" || r.Ratio < 1.9 || r.Ratio > 2.1 || r.CILow > r.Ratio || r.CIHigh < r.Ratio ||
		r.Rounds != 50 || r.Interpreters != 5 || !strings.HasPrefix(r.Summary, "B is 100.0 % slower than A") {
		t.Errorf("B twice as slow: %+v, result %+v", v, r)
	}
	if v.Ended == nil {
		t.Errorf("a done benchmark has no end time")
	}
	if ab, err := e.store.GetAB(context.Background(), slow); err != nil || ab.Ended == nil {
		t.Errorf("the store did not record the end: %+v, %v", ab, err)
	}

	// Two of five interpreters run and ended: the producer is between
	// interpreters, not done.
	between := e.createAB(t, `{"a":"`+a+`","b":"`+b+`","runtimes":["pyodide"]}`)
	for k := range 2 {
		xa, xb := shifted(8, 1.001, float64(k))
		abRun(t, e.store, between, "a", k, a, "pyodide", 0, xa, snippets.RunDone)
		abRun(t, e.store, between, "b", k, b, "pyodide", 0, xb, snippets.RunDone)
	}
	e.getJSON(t, "/api/bench/ab/"+between, 200, &v)
	if v.Done || v.Decided || v.Results[0].Verdict != "undecided" || !strings.HasPrefix(v.Results[0].Summary, "Undecided so far: B/A 1.0") {
		t.Errorf("between interpreters: %+v", v)
	}
	// The producer gives up (stopped): done, judged on what there is.
	abRun(t, e.store, between, "a", 2, a, "pyodide", 0, nil, snippets.RunStopped)
	e.getJSON(t, "/api/bench/ab/"+between, 200, &v)
	if !v.Done || !v.Results[0].Decided || v.Ended == nil {
		t.Errorf("after a stopped run: %+v", v)
	}
	// Every JSON number came out finite (encoding would have failed).
	for _, res := range v.Results {
		for _, x := range []float64{res.Ratio, res.CILow, res.CIHigh, res.MedianA, res.MedianB, res.Level} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Errorf("not finite: %+v", res)
			}
		}
	}
}

func TestABDiffsCapped(t *testing.T) {
	series := []*abSeries{{runtime: "pyodide", interpreters: []int{0}}, {runtime: "micropython", interpreters: []int{0}}}
	for _, s := range series {
		rounds := make([]stats.ABRound, 1500)
		for i := range rounds {
			rounds[i].NS = []float64{1, float64(i + 1)}
		}
		s.data.Interpreters = [][]stats.ABRound{rounds}
	}
	d := abDiffs(series, 2)
	if len(d) != abDiffCap {
		t.Fatalf("%d diffs, want %d", len(d), abDiffCap)
	}
	// The newest rounds of each series are kept.
	if d[0].Runtime != "pyodide" || d[0].Round != 500 || d[999].Round != 1499 || d[1000].Runtime != "micropython" || d[1000].Round != 500 {
		t.Errorf("kept %+v … %+v, %+v", d[0], d[999], d[1000])
	}
}

// A producer streams an A/B benchmark over /ws, a viewer of A sees the
// runs with their link, and the API pairs what was stored.
func TestABOverWebSocket(t *testing.T) {
	// One sample per message, as fast as the test sends them.
	e := newBenchEnv(t, WSConfig{Limits: benchproto.Limits{MaxBatchesPerSecond: 100000}})
	a, b := e.snippet, putSnippet(t, e.store, "b = 4\n")
	other := putSnippet(t, e.store, "other = 4\n")
	id := e.createAB(t, `{"a":"`+a+`","b":"`+b+`","runtimes":["pyodide"],"interpreters":2}`)
	v := e.viewer(t)

	p := dialRaw(t, e.url, nil)
	p.hello("producer")
	start := func(run, snippet, runtime string, link map[string]any) int64 {
		r := map[string]any{"id": run, "snippet": snippet, "runtime": runtime}
		if link != nil {
			r["ab"] = link
		}
		return p.send("run.start", map[string]any{"run": r})
	}
	link := func(arm string, k int) map[string]any { return map[string]any{"id": id, "arm": arm, "interpreter": k} }

	// Refusals: unknown benchmark, the wrong snippet for the arm, an arm
	// the benchmark lacks, a runtime it does not measure.
	p.fail(start("x1", a, "pyodide", map[string]any{"id": "AAAAAAAAAAAAAAAA", "arm": "a", "interpreter": 0}), benchproto.CodeNotFound)
	if e := p.fail(start("x2", other, "pyodide", link("b", 0)), benchproto.CodeBadField); !strings.Contains(e.Message, "arm b of A/B benchmark") {
		t.Errorf("wrong snippet: %s", e.Message)
	}
	p.fail(start("x3", a, "pyodide", link("c", 0)), benchproto.CodeBadField)
	p.fail(start("x4", a, "micropython", link("a", 0)), benchproto.CodeBadField)
	if _, err := e.store.GetRun(context.Background(), "x2"); snippets.ErrorCode(err) != snippets.NotFound {
		t.Errorf("a refused run was stored: %v", err)
	}

	// Two interpreters, each with A and B taking turns for 6 rounds.
	const rounds = 6
	for k := range 2 {
		runs := map[string]string{"a": "ra" + string(rune('0'+k)), "b": "rb" + string(rune('0'+k))}
		p.ack(start(runs["a"], a, "pyodide", link("a", k)))
		p.ack(start(runs["b"], b, "pyodide", link("b", k)))
		for r := range rounds {
			for _, arm := range []string{"b", "a"} {
				ns := 1000.0
				if arm == "b" {
					ns = 1100
				}
				p.ack(p.send("samples", map[string]any{"run": runs[arm], "batch": r,
					"samples": []map[string]any{{"seq": r, "warmup": false, "ns": ns, "iters": 1}}}))
			}
		}
		// A resend after a reconnect may leave the link out; it is kept.
		ack := p.ack(start(runs["a"], a, "pyodide", nil))
		if !ack.Duplicate {
			t.Errorf("resent run.start: %+v", ack)
		}
		for _, run := range runs {
			p.ack(p.send("run.end", map[string]any{"run": run, "status": "done"}))
		}
	}

	// The viewer of A sees A's runs with their link, also when resent
	// without it.
	started := 0
	for started < 4 {
		m := nextFor(t, v)
		if st, ok := m.Payload.(*benchproto.RunStarted); ok {
			started++
			if st.Run.AB == nil || st.Run.AB.ID != id || st.Run.AB.Arm != "a" {
				t.Errorf("run.started %+v without its link", st.Run)
			}
		}
	}

	var view abView
	e.getJSON(t, "/api/bench/ab/"+id, 200, &view)
	if view.Rounds != 2*rounds || len(view.Runs) != 4 || !view.Done || len(view.Diffs) != 2*rounds {
		t.Errorf("after streaming: %+v", view)
	}
	for _, d := range view.Diffs {
		if math.Abs(d.Ratio-1.1) > 1e-12 {
			t.Errorf("diff %+v, want 1.1", d)
		}
	}
	if r := view.Results[0]; math.Abs(r.Ratio-1.1) > 1e-9 || r.MedianA != 1000 || r.MedianB != 1100 {
		t.Errorf("result %+v", r)
	}
}

func TestABPage(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	b := putSnippet(t, e.store, "b = 5\n")
	id := e.createAB(t, `{"a":"`+e.snippet+`","b":"`+b+`","runtimes":["pyodide"]}`)
	res, err := http.Get(e.http.URL + "/bench/ab/" + id)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`<main id="ab" data-ab="` + id + `">`,
		`"ab":{"id":"` + id + `","arms":["` + e.snippet + `","` + b + `"]`,
		`"api":"/api/bench/ab/` + id + `"`,
		`<a href="/s/` + e.snippet + `">sum</a> (baseline)`,
		`role="status"`,
	} {
		if res.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET /bench/ab/%s: %d, want %q in\n%s", id, res.StatusCode, want, body)
		}
	}
}

// A benchmark past its budget whose producer vanished is done.
func TestABAbandoned(t *testing.T) {
	ab := &snippets.AB{ID: "AAAAAAAAAAAAAAAA", Arms: []string{"a", "b"}, Runtimes: []string{"pyodide"}, Interpreters: 5,
		BudgetMs: 1000, Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	running := []*snippets.Run{{ID: "r", Runtime: "pyodide", Status: snippets.RunRunning, AB: &snippets.ABLink{ID: ab.ID, Arm: "a"}}}
	for _, tt := range []struct {
		after time.Duration
		done  bool
	}{{time.Minute, false}, {time.Second + abAbandonAfter + time.Millisecond, true}} {
		v, err := computeAB(context.Background(), ab, running, ab.Created.Add(tt.after))
		if err != nil || v.Done != tt.done {
			t.Errorf("%v after creation: done %v (%v), want %v", tt.after, v.Done, err, tt.done)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := computeAB(ctx, ab, running, ab.Created); err == nil {
		t.Errorf("computeAB ignored a cancelled request")
	}
}
