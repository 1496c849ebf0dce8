package bench

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/pyplay/pyplay/server/bench/stats"
	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
)

// storeRun stores a run with the given samples (ns per iteration; the
// first warmups are warmup samples) and final status.
func storeRun(t *testing.T, store snippets.Store, id, snippet, runtime, env string, warmups int, ns []float64, iters int, status string) {
	t.Helper()
	ctx := context.Background()
	r := &snippets.Run{ID: id, SnippetID: snippet, Runtime: runtime, RuntimeVersion: "1.0", Env: json.RawMessage(env)}
	if err := store.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	b := &snippets.Batch{RunID: id}
	for i, x := range ns {
		b.Samples = append(b.Samples, snippets.Sample{Seq: i, Warmup: i < warmups, NsPerIter: x, Iterations: iters})
	}
	if _, err := store.AppendBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	if status != snippets.RunRunning {
		if err := store.FinishRun(ctx, id, status, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// near compares ratios that went through logarithms.
func near(x, want float64) bool { return math.Abs(x-want) <= 1e-9*want }

func series(n int, from, step float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = from + float64(i)*step
	}
	return xs
}

const (
	nativeEnv  = `{"platform":"Linux x86_64","cores":2,"timerResolutionNs":5,"python":"CPython 3.11.7"}`
	chromeEnv  = `{"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36","platform":"Linux x86_64","cores":2,"timerResolutionNs":5000}`
	firefoxEnv = `{"browser":"Firefox","browserVersion":"128.0.1","platform":"Linux x86_64","cores":2,"timerResolutionNs":20000}`
)

// getJSON fetches a URL of the env's server and decodes its JSON body.
func (e *benchEnv) getJSON(t *testing.T, path string, wantStatus int, v any) *http.Response {
	t.Helper()
	res, err := http.Get(e.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != wantStatus {
		t.Fatalf("GET %s: %d %s, want %d", path, res.StatusCode, body, wantStatus)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
	return res
}

func TestBenchRunsAPI(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	native := append([]float64{5000}, series(20, 1000, 1)...)
	storeRun(t, e.store, "n1", e.snippet, snippets.CPythonNative, nativeEnv, 1, native, 1, snippets.RunDone)
	storeRun(t, e.store, "p1", e.snippet, "pyodide", chromeEnv, 1, append([]float64{9000}, series(20, 2000, 2)...), 10, snippets.RunDone)
	storeRun(t, e.store, "p2", e.snippet, "pyodide", `{"userAgent":"Chrome/156.1","platform":"Linux x86_64","cores":2,"timerResolutionNs":5000,"hidden":true}`, 0, []float64{2000, 2002, 2004}, 10, snippets.RunStopped)
	storeRun(t, e.store, "m1", e.snippet, "micropython", firefoxEnv, 1, native, 1, snippets.RunRunning)
	storeRun(t, e.store, "f1", e.snippet, "micropython", chromeEnv, 0, []float64{1, 1, 1}, 1, snippets.RunFailed)

	var list struct {
		Snippet snippetInfo `json:"snippet"`
		Runs    []struct {
			ID       string        `json:"id"`
			Samples  []any         `json:"samples"`
			Count    int           `json:"sampleCount"`
			Warmups  int           `json:"warmupCount"`
			Group    benchGroup    `json:"group"`
			Summary  stats.Summary `json:"summary"`
			Warnings []string      `json:"warnings"`
		} `json:"runs"`
	}
	e.getJSON(t, "/api/bench/runs?snippet="+e.snippet, 200, &list)
	if list.Snippet.ID != e.snippet || list.Snippet.Title != "sum" || len(list.Runs) != 5 {
		t.Fatalf("listing: %+v", list)
	}
	byID := map[string]int{}
	for i, r := range list.Runs {
		byID[r.ID] = i
		if r.Samples != nil || r.Warnings == nil {
			t.Errorf("run %s: samples %v, warnings %v: the listing has no samples and [] for no warnings", r.ID, r.Samples, r.Warnings)
		}
	}
	p1 := list.Runs[byID["p1"]]
	if p1.Count != 21 || p1.Warmups != 1 || p1.Summary.N != 20 || p1.Summary.Median != 2019 {
		t.Errorf("p1: %+v", p1)
	}
	if p1.Group.Browser != "Chrome 156" || p1.Group.Machine != "Linux x86_64, 2 cores" || p1.Group.Key != "pyodide|Chrome 156|Linux x86_64, 2 cores" {
		t.Errorf("p1 group: %+v", p1.Group)
	}
	if g := list.Runs[byID["n1"]].Group; g.Browser != "native" || g.Label != "cpython-native · native · Linux x86_64, 2 cores" {
		t.Errorf("n1 group: %+v", g)
	}
	if g := list.Runs[byID["m1"]].Group; g.Browser != "Firefox 128" {
		t.Errorf("m1 group: %+v", g)
	}
	// p2: 3 samples, hidden, 5000 ns / 10 iterations = 500 ns against a
	// 2002 ns median: too few, coarse timer, hidden tab.
	w := strings.Join(list.Runs[byID["p2"]].Warnings, "\n")
	for _, want := range []string{"too few samples", "coarse timer", "hidden tab"} {
		if !strings.Contains(w, want) {
			t.Errorf("p2 warnings lack %q: %s", want, w)
		}
	}
	if w := list.Runs[byID["n1"]].Warnings; len(w) != 0 {
		t.Errorf("n1 warnings: %v", w)
	}

	// One run with every sample.
	var run struct {
		ID      string            `json:"id"`
		Samples []snippets.Sample `json:"samples"`
		Summary stats.Summary     `json:"summary"`
	}
	res := e.getJSON(t, "/api/bench/runs/p1", 200, &run)
	if len(run.Samples) != 21 || !run.Samples[0].Warmup || run.Samples[20].NsPerIter != 2038 || run.Summary.N != 20 {
		t.Fatalf("run p1: %d samples, %+v", len(run.Samples), run.Summary)
	}
	if d := res.Header.Get("Content-Disposition"); d != "" {
		t.Errorf("plain JSON has Content-Disposition %q", d)
	}
	res = e.getJSON(t, "/api/bench/runs/p1?format=json", 200, &run)
	if d := res.Header.Get("Content-Disposition"); d != `attachment; filename="pyplay-run-p1.json"` {
		t.Errorf("format=json: Content-Disposition %q", d)
	}

	// CSV exports: one run, and every run of the snippet.
	for _, tc := range []struct {
		path, file string
		rows       int
	}{
		{"/api/bench/runs/p1?format=csv", "pyplay-run-p1.csv", 21},
		{"/api/bench/runs?snippet=" + e.snippet + "&format=csv", "pyplay-bench-" + e.snippet + ".csv", 21 + 21 + 3 + 21 + 3},
	} {
		res, err := http.Get(e.http.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(res.Body).ReadAll()
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		if d := res.Header.Get("Content-Disposition"); d != `attachment; filename="`+tc.file+`"` {
			t.Errorf("%s: Content-Disposition %q", tc.path, d)
		}
		if len(rows) != tc.rows+1 || strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
			t.Fatalf("%s: %d rows, header %v", tc.path, len(rows), rows[0])
		}
		if tc.rows == 21 && strings.Join(rows[21], ",") != "p1,"+e.snippet+",pyodide,,1.0,Chrome 156,"+"Linux x86_64, 2 cores,done,20,false,2038,10,false" {
			t.Errorf("last row %v", rows[21])
		}
	}

	// Errors are JSON with the right status.
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/api/bench/runs", 400, "invalid"},
		{"/api/bench/runs?snippet=no", 400, "invalid"},
		{"/api/bench/runs?snippet=AAAAAAAAAAA", 404, "not_found"},
		{"/api/bench/runs?snippet=" + e.snippet + "&format=xml", 400, "invalid"},
		{"/api/bench/runs/nope", 404, "not_found"},
		{"/api/bench/runs/bad%20id", 404, "not_found"},
		{"/api/bench/compare?snippet=" + e.snippet + "&baseline=bogus", 400, "invalid"},
		{"/api/bench/compare?snippet=" + e.snippet + "&baseline=f1", 400, "invalid"},
		{"/api/bench/compare?snippet=" + e.snippet + "&baseline=pyscript", 400, "invalid"},
		{"/api/bench/overview?baseline=java", 400, "invalid"},
		{"/bench/AAAAAAAAAAA", 404, "not_found"},
	} {
		var body response.ErrorBody
		e.getJSON(t, tc.path, tc.status, &body)
		if body.Error.Code != tc.code || body.Error.Message == "" {
			t.Errorf("%s: %+v", tc.path, body)
		}
	}
}

func TestBenchCompareAPI(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	native := series(30, 1000, 1)
	storeRun(t, e.store, "n1", e.snippet, snippets.CPythonNative, nativeEnv, 0, native, 1, snippets.RunDone)
	storeRun(t, e.store, "p1", e.snippet, "pyodide", chromeEnv, 0, series(20, 2000, 2), 10, snippets.RunDone)
	storeRun(t, e.store, "p2", e.snippet, "pyodide", chromeEnv, 0, series(10, 2010, 2), 10, snippets.RunDone)
	storeRun(t, e.store, "m1", e.snippet, "micropython", firefoxEnv, 0, series(30, 1000.5, 1), 1, snippets.RunDone)
	storeRun(t, e.store, "f1", e.snippet, "micropython", chromeEnv, 0, []float64{1}, 1, snippets.RunFailed)

	var table compareTable
	e.getJSON(t, "/api/bench/compare?snippet="+e.snippet, 200, &table)
	if table.Snippet.ID != e.snippet || len(table.Groups) != 3 {
		t.Fatalf("table: %+v", table)
	}
	base, first, second := table.Groups[0], table.Groups[1], table.Groups[2]
	if !base.Baseline || base.Runtime != snippets.CPythonNative || table.Baseline != base.Key || base.Verdict != "baseline" || base.RunComparison != nil || base.Ratio != 0 {
		t.Fatalf("baseline row: %+v", base)
	}
	if base.Summary.N != 30 || base.Summary.Median != 1014.5 {
		t.Errorf("baseline summary: %+v", base.Summary)
	}
	// MicroPython in Firefox: the same distribution shifted by 0.5 ns, in
	// one run against one: runs are the unit, and one run each cannot show
	// how much runs vary, so the verdict asks for more runs.
	if first.Runtime != "micropython" || first.Verdict != "undecided" || !strings.HasPrefix(first.Text, "Undecided: needs more runs") ||
		!strings.Contains(first.Text, "too few to measure run-to-run variation") {
		t.Errorf("micropython row: %+v", first)
	}
	// Pyodide: two runs, each counted once by its median, about twice as
	// slow; the interval includes the assumed run-to-run variation.
	wantRatio := math.Sqrt(stats.Median(series(20, 2000, 2))*stats.Median(series(10, 2010, 2))) / stats.Median(native)
	c := second.RunComparison
	if second.Runtime != "pyodide" || len(second.Runs) != 2 || second.Summary.N != 30 || c == nil ||
		math.Abs(second.Ratio-wantRatio) > 1e-9 || second.Ratio != c.Ratio || second.CILow != c.CILow || second.CIHigh != c.CIHigh ||
		second.Verdict != "slower" || c.RunsA != 2 || c.RunsB != 1 || second.CILow <= 1 || second.CILow > 1.5 {
		t.Fatalf("pyodide row: %+v %+v", second, c)
	}
	if !strings.Contains(second.Text, "slower than cpython-native · native") || !strings.Contains(second.Text, "2 + 1 runs") {
		t.Errorf("pyodide text: %s", second.Text)
	}
	if strings.Join(second.RuntimeVersions, ",") != "1.0" {
		t.Errorf("runtime versions %v", second.RuntimeVersions)
	}

	// The same data compares the same way on every load.
	var again compareTable
	e.getJSON(t, "/api/bench/compare?snippet="+e.snippet, 200, &again)
	if *again.Groups[2].RunComparison != *c {
		t.Errorf("comparison changed between loads: %+v then %+v", c, again.Groups[2].RunComparison)
	}

	// Baseline by run ID, by group key, by runtime.
	for _, b := range []string{"p2", "pyodide|Chrome%20156|Linux%20x86_64,%202%20cores", "pyodide"} {
		var tb compareTable
		e.getJSON(t, "/api/bench/compare?snippet="+e.snippet+"&baseline="+b, 200, &tb)
		if tb.Groups[0].Runtime != "pyodide" || !tb.Groups[0].Baseline {
			t.Fatalf("baseline=%s: first row %+v", b, tb.Groups[0])
		}
		for _, g := range tb.Groups[1:] {
			if g.Verdict != "faster" || !strings.Contains(g.Text, "faster than pyodide") {
				t.Errorf("baseline=%s: row %s: %s", b, g.Key, g.Text)
			}
		}
	}
}

func TestBenchOverviewAPI(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	other := &snippets.Snippet{Code: "x = 1\n", Runtime: snippets.MicroPython, Title: "assign"}
	other.Seal()
	if _, err := e.store.Put(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	lonely := &snippets.Snippet{Code: "y = 2\n", Runtime: snippets.Pyodide}
	lonely.Seal()
	if _, err := e.store.Put(context.Background(), lonely); err != nil {
		t.Fatal(err)
	}
	// Snippet 1: Pyodide 2×, MicroPython 10× native. Snippet 2: Pyodide
	// 8× native. Snippet 3: no native run, so no ratios.
	storeRun(t, e.store, "a-n", e.snippet, snippets.CPythonNative, nativeEnv, 0, []float64{100, 100, 100}, 1, snippets.RunDone)
	storeRun(t, e.store, "a-p", e.snippet, "pyodide", chromeEnv, 0, []float64{200, 200, 200}, 1, snippets.RunDone)
	storeRun(t, e.store, "a-m", e.snippet, "micropython", chromeEnv, 0, []float64{1000, 1000}, 1, snippets.RunDone)
	storeRun(t, e.store, "b-n", other.ID, snippets.CPythonNative, nativeEnv, 0, []float64{50}, 1, snippets.RunDone)
	storeRun(t, e.store, "b-p", other.ID, "pyodide", firefoxEnv, 0, []float64{400}, 1, snippets.RunDone)
	storeRun(t, e.store, "c-p", lonely.ID, "pyodide", chromeEnv, 0, []float64{400}, 1, snippets.RunDone)

	var ov benchOverviewBody
	e.getJSON(t, "/api/bench/overview", 200, &ov)
	if ov.Baseline != snippets.CPythonNative || len(ov.Snippets) != 3 {
		t.Fatalf("overview: %+v", ov)
	}
	rt := map[string]overviewRow{}
	for _, r := range ov.Runtimes {
		rt[r.Runtime] = r
	}
	if p := rt["pyodide"]; p.Snippets != 2 || !near(p.GeoMean, 4) || !near(p.Min, 2) || !near(p.Max, 8) {
		t.Errorf("pyodide: %+v", p)
	}
	if m := rt["micropython"]; m.Snippets != 1 || math.Abs(m.GeoMean-10) > 1e-9 {
		t.Errorf("micropython: %+v", m)
	}
	if len(ov.Groups) != 3 { // pyodide in Chrome, pyodide in Firefox, micropython in Chrome
		t.Errorf("groups: %+v", ov.Groups)
	}
	for _, s := range ov.Snippets {
		switch s.ID {
		case lonely.ID:
			if len(s.Ratios) != 0 || s.BaselineMedian != 0 {
				t.Errorf("snippet without native runs: %+v", s)
			}
		case other.ID:
			if s.Title != "assign" || !near(s.Ratios["pyodide"], 8) || s.BaselineMedian != 50 {
				t.Errorf("snippet 2: %+v", s)
			}
		}
	}
	// The overview relative to Pyodide instead.
	e.getJSON(t, "/api/bench/overview?baseline=pyodide", 200, &ov)
	if ov.Baseline != "pyodide" || len(ov.Runtimes) != 2 {
		t.Errorf("baseline=pyodide: %+v", ov.Runtimes)
	}
}

func TestBenchPages(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	for _, tc := range []struct{ path, want string }{
		{"/bench", `id="pyplay-config"`},
		{"/bench", "<head>\n<meta charset=\"utf-8\">"},
		{"/bench", "<title>Benchmarks · pyplay</title>\n<link rel=\"icon\""},
		{"/bench/" + e.snippet, `"snippet":{"id":"` + e.snippet + `","title":"sum"`},
		{"/bench/" + e.snippet, "<title>Benchmarks of sum · pyplay</title>"},
		{"/bench/" + e.snippet, "<meta name=\"robots\" content=\"noindex\">\n</head>"},
	} {
		res, err := http.Get(e.http.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), tc.want) {
			t.Errorf("GET %s: %d %s\n%s", tc.path, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
}

func TestGroupOf(t *testing.T) {
	for _, tc := range []struct {
		runtime, env     string
		browser, machine string
	}{
		{"pyodide", chromeEnv, "Chrome 156", "Linux x86_64, 2 cores"},
		{"pyodide", firefoxEnv, "Firefox 128", "Linux x86_64, 2 cores"},
		{"pyodide", `{"browser":"Chrome Headless","browserVersion":"156.0.7000.1","platform":"unknown","cores":4}`, "Chrome Headless 156", "4 cores"},
		{"pyodide", `{"browser":{"name":"Safari","version":"17.4"},"platform":"MacIntel","cores":8}`, "Safari 17", "MacIntel, 8 cores"},
		{"micropython", `{"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.2849.68"}`, "Edge 130", "Windows"},
		{"pyodide", `{"userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1","cores":1}`, "Safari 17", "iOS, 1 core"},
		{"pyodide", `{"userAgent":"Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"}`, "Firefox 128", "Android"},
		{"pyodide", `{}`, "unknown browser", "unknown machine"},
		{"pyodide", `{"browser":7,"cores":"many","platform":["x"]}`, "unknown browser", "unknown machine"},
		{snippets.CPythonNative, nativeEnv, "native", "Linux x86_64, 2 cores"},
		{"pyodide", `{"platform":"Lin|ux","cores":2}`, "unknown browser", "Lin/ux, 2 cores"},
	} {
		g := groupOf(&snippets.Run{Runtime: tc.runtime, Env: json.RawMessage(tc.env)})
		if g.Browser != tc.browser || g.Machine != tc.machine || g.Key != tc.runtime+"|"+tc.browser+"|"+tc.machine {
			t.Errorf("%s: got %+v, want browser %q machine %q", tc.env, g, tc.browser, tc.machine)
		}
	}
}

// TestBenchPyScriptSeries: PyScript runs are compared per interpreter, as
// their own series beside the console runtimes, in the table, the run
// listing and the overview.
func TestBenchPyScriptSeries(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	withInterp := func(interp string) string {
		return strings.Replace(chromeEnv, `{`, `{"interpreter":"`+interp+`",`, 1)
	}
	storeRun(t, e.store, "n1", e.snippet, snippets.CPythonNative, nativeEnv, 0, []float64{100, 100, 100}, 1, snippets.RunDone)
	storeRun(t, e.store, "p1", e.snippet, "pyodide", chromeEnv, 0, []float64{200, 200, 200}, 1, snippets.RunDone)
	storeRun(t, e.store, "sp", e.snippet, "pyscript", withInterp("pyodide"), 0, []float64{300, 300, 300}, 1, snippets.RunDone)
	storeRun(t, e.store, "sm", e.snippet, "pyscript", withInterp("micropython"), 0, []float64{3000, 3000, 3000}, 1, snippets.RunDone)
	storeRun(t, e.store, "s0", e.snippet, "pyscript", chromeEnv, 0, []float64{400, 400}, 1, snippets.RunDone)

	var table compareTable
	e.getJSON(t, "/api/bench/compare?snippet="+e.snippet, 200, &table)
	rows := map[string]compareRow{}
	for _, g := range table.Groups {
		rows[g.Runtime] = g
	}
	if len(table.Groups) != 5 {
		t.Fatalf("%d groups, want native, pyodide and three PyScript series: %+v", len(table.Groups), table.Groups)
	}
	for rt, want := range map[string]float64{"pyscript/pyodide": 300, "pyscript/micropython": 3000, "pyscript": 400} {
		g, ok := rows[rt]
		if !ok || g.Summary.Median != want || g.Key != rt+"|Chrome 156|Linux x86_64, 2 cores" || g.RunComparison == nil {
			t.Errorf("%s row: %+v", rt, g)
		}
	}
	var bt compareTable
	e.getJSON(t, "/api/bench/compare?snippet="+e.snippet+"&baseline=pyscript/micropython", 200, &bt)
	if g := bt.Groups[0]; !g.Baseline || g.Runtime != "pyscript/micropython" {
		t.Errorf("baseline=pyscript/micropython: first row %+v", g)
	}

	var list struct {
		Runs []struct {
			ID    string     `json:"id"`
			Group benchGroup `json:"group"`
		} `json:"runs"`
	}
	e.getJSON(t, "/api/bench/runs?snippet="+e.snippet, 200, &list)
	for _, r := range list.Runs {
		if r.ID == "sm" && r.Group.Label != "pyscript/micropython · Chrome 156 · Linux x86_64, 2 cores" {
			t.Errorf("run sm: group %+v", r.Group)
		}
	}

	var ov benchOverviewBody
	e.getJSON(t, "/api/bench/overview", 200, &ov)
	if len(ov.Snippets) != 1 || !near(ov.Snippets[0].Ratios["pyscript/micropython"], 30) || !near(ov.Snippets[0].Ratios["pyscript/pyodide"], 3) {
		t.Errorf("overview ratios: %+v", ov.Snippets)
	}
	e.getJSON(t, "/api/bench/overview?baseline=pyscript/pyodide", 200, &ov)
	if ov.Baseline != "pyscript/pyodide" || !near(ov.Snippets[0].Ratios["pyscript/micropython"], 10) {
		t.Errorf("overview relative to PyScript on Pyodide: %+v", ov.Snippets)
	}
	// The CSV export keeps the interpreters apart too.
	res, err := http.Get(e.http.URL + "/api/bench/runs?snippet=" + e.snippet + "&format=csv")
	if err != nil {
		t.Fatal(err)
	}
	all, err := csv.NewReader(res.Body).ReadAll()
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	interps := map[string]string{}
	for _, row := range all[1:] {
		interps[row[0]] = row[2] + "/" + row[3]
	}
	for run, want := range map[string]string{"sp": "pyscript/pyodide", "sm": "pyscript/micropython", "s0": "pyscript/", "p1": "pyodide/", "n1": "cpython-native/"} {
		if interps[run] != want {
			t.Errorf("CSV run %s: runtime/interpreter %q, want %q", run, interps[run], want)
		}
	}

	var body response.ErrorBody
	e.getJSON(t, "/api/bench/overview?baseline=pyscript/brython", 400, &body)
	e.getJSON(t, "/api/bench/compare?snippet="+e.snippet+"&baseline=pyodide/micropython", 400, &body)
}
