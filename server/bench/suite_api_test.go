package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pyplay/pyplay/server/bench/stats"
	"github.com/pyplay/pyplay/server/bench/suite"
	"github.com/pyplay/pyplay/snippets"
)

// putSuiteSnippet stores a workload's Python example as the page does.
func putSuiteSnippet(t *testing.T, store snippets.Store, id string) string {
	t.Helper()
	w, ok := suite.ByID(id)
	if !ok {
		t.Fatalf("no workload %s", id)
	}
	sn, err := suiteSnippet(w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(context.Background(), sn); err != nil {
		t.Fatal(err)
	}
	return sn.ID
}

func suiteRowOf(t *testing.T, table suiteTable, runtime string) suiteRow {
	t.Helper()
	for _, r := range table.Rows {
		if r.Runtime == runtime {
			return r
		}
	}
	t.Fatalf("no row %s in %+v", runtime, table.Rows)
	return suiteRow{}
}

func TestSuiteAPI(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	fib := putSuiteSnippet(t, e.store, "fib")
	nbody := putSuiteSnippet(t, e.store, "nbody")
	const edgeEnv = `{"browser":"Edge","browserVersion":"150.0.1","platform":"Win32","cores":8}`
	// fib: native CPython ~1000 ns, Pyodide ~3000 (Chrome), Go→WASM ~100
	// (Chrome) and ~200 (Edge on another machine), native Go ~50.
	for i, base := range []float64{1000, 1010, 990} {
		storeRun(t, e.store, "fib-cpy-"+string(rune('a'+i)), fib, snippets.CPythonNative, nativeEnv, 1, append([]float64{9e9}, series(10, base, 1)...), 10, snippets.RunDone)
	}
	for i, base := range []float64{3000, 3050, 2950} {
		storeRun(t, e.store, "fib-pyo-"+string(rune('a'+i)), fib, "pyodide", chromeEnv, 0, series(10, base, 2), 10, snippets.RunDone)
	}
	storeRun(t, e.store, "fib-go-1", fib, snippets.GoWasm, chromeEnv, 0, series(10, 100, 0.1), 100, snippets.RunDone)
	storeRun(t, e.store, "fib-go-2", fib, snippets.GoWasm, chromeEnv, 0, series(10, 102, 0.1), 100, snippets.RunDone)
	storeRun(t, e.store, "fib-go-edge", fib, snippets.GoWasm, edgeEnv, 0, series(10, 200, 0.1), 100, snippets.RunDone)
	// bench-native -go names the platform as Go does.
	storeRun(t, e.store, "fib-gon", fib, snippets.GoNative, `{"platform":"linux amd64","cores":2,"timerResolutionNs":30}`, 0, series(10, 50, 0.1), 100, snippets.RunDone)
	// A failed run is left out, however fast it was.
	storeRun(t, e.store, "fib-rust-bad", fib, snippets.RustWasm, chromeEnv, 0, series(5, 1, 0), 100, snippets.RunFailed)
	// nbody: only Pyodide, no native CPython.
	storeRun(t, e.store, "nbody-pyo", nbody, "pyodide", chromeEnv, 0, series(10, 5e6, 100), 1, snippets.RunDone)

	var all suiteTable
	e.getJSON(t, "/api/bench/suite?workloads=fib,nbody", http.StatusOK, &all)
	if all.Scope != "all" || len(all.Workloads) != 2 || all.Workloads[0].ID != "fib" || all.Workloads[0].Snippet != fib || all.Workloads[1].Snippet != nbody {
		t.Fatalf("workloads: %+v", all)
	}
	wantRows := []string{"pyodide", "micropython", "pyscript/pyodide", "go-wasm", "rust-wasm", "cpython-native", "native-go", "rustpython"}
	if len(all.Rows) != len(wantRows) {
		t.Fatalf("rows: %+v", all.Rows)
	}
	for i, r := range all.Rows {
		if r.Runtime != wantRows[i] {
			t.Errorf("row %d is %s, want %s", i, r.Runtime, wantRows[i])
		}
	}
	labels := map[string]string{"go-wasm": "Go→WASM", "rust-wasm": "Rust→WASM", "native-go": "native Go", "cpython-native": "native CPython"}
	for rt, l := range labels {
		if got := suiteRowOf(t, all, rt).Label; got != l {
			t.Errorf("%s labelled %q, want %q", rt, got, l)
		}
	}
	rp := suiteRowOf(t, all, "rustpython")
	if rp.Available || !strings.Contains(rp.Note, "no WebAssembly build can be had here") {
		t.Errorf("RustPython row: %+v", rp)
	}

	// Ratios: slower than native CPython above 1, faster below, and what
	// stats.CompareRuns says about the same runs.
	pyo := suiteRowOf(t, all, "pyodide")
	c := pyo.Cells[0]
	if c.Workload != "fib" || c.Runs != 3 || !(c.Ratio > 2.8 && c.Ratio < 3.2) || !(c.CILow <= c.Ratio && c.Ratio <= c.CIHigh) {
		t.Errorf("Pyodide fib cell: %+v", c)
	}
	goRow := suiteRowOf(t, all, "go-wasm")
	g := goRow.Cells[0]
	if g.Runs != 3 || !(g.Ratio < 0.2) {
		t.Errorf("Go→WASM fib cell over all browsers: %+v", g)
	}
	if goRow.Geomean.Workloads != 1 || goRow.Geomean.Complete || !near(goRow.Geomean.Ratio, g.Ratio) {
		t.Errorf("Go→WASM geomean: %+v", goRow.Geomean)
	}
	if gn := suiteRowOf(t, all, "native-go").Cells[0]; gn.Runs != 1 || !(gn.Ratio > 0.04 && gn.Ratio < 0.06) {
		t.Errorf("native Go fib cell: %+v", gn)
	}
	if b := suiteRowOf(t, all, "cpython-native"); !b.Baseline || b.Cells[0].Ratio != 1 || b.Cells[0].Runs != 3 || b.Cells[0].MedianNs < 1000 || b.Cells[0].MedianNs > 1015 {
		t.Errorf("native CPython row: %+v", b)
	}
	// The median leaves warmups out (native CPython's first sample is 9e9).
	// Missing cells: Rust (only a failed run), nbody's ratio (no native CPython).
	if r := suiteRowOf(t, all, "rust-wasm").Cells[0]; r.Runs != 0 || r.Ratio != 0 || r.Hint == "" {
		t.Errorf("Rust→WASM fib cell, whose only run failed: %+v", r)
	}
	if n := pyo.Cells[1]; n.Runs != 1 || n.MedianNs <= 0 || n.Ratio != 0 || !strings.Contains(n.Hint, "bench-native") || !strings.Contains(n.Hint, nbody) {
		t.Errorf("Pyodide nbody cell without native CPython: %+v", n)
	}
	if m := suiteRowOf(t, all, "cpython-native").Cells[1]; m.Runs != 0 || !strings.Contains(m.Hint, "pyplay bench-native") || !strings.Contains(m.Hint, nbody) {
		t.Errorf("native CPython nbody cell: %+v", m)
	}

	// The same computation as the comparison's.
	full := func(ids ...string) [][]float64 {
		var out [][]float64
		for _, id := range ids {
			r, err := e.store.GetRun(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, measure(r).ns)
		}
		return out
	}
	want := stats.CompareRuns(full("fib-pyo-a", "fib-pyo-b", "fib-pyo-c"), full("fib-cpy-a", "fib-cpy-b", "fib-cpy-c"), stats.DefaultRunsOptions())
	if !near(c.Ratio, want.Ratio) || !near(c.CILow, want.CILow) || !near(c.CIHigh, want.CIHigh) {
		t.Errorf("Pyodide fib %v [%v, %v], CompareRuns says %v [%v, %v]", c.Ratio, c.CILow, c.CIHigh, want.Ratio, want.CILow, want.CIHigh)
	}

	// Scope browser: Chrome on Linux with 2 cores sees its own runs and the
	// native runs of its machine, not Edge's.
	q := url.Values{"scope": {"browser"}, "browser": {"Chrome"}, "browserVersion": {"156.0.1.2"}, "platform": {"Linux x86_64"}, "cores": {"2"}, "workloads": {"fib"}}
	var mine suiteTable
	e.getJSON(t, "/api/bench/suite?"+q.Encode(), http.StatusOK, &mine)
	if mine.Scope != "browser" || mine.Browser != "Chrome 156" || mine.Machine != "Linux x86_64, 2 cores" || len(mine.Workloads) != 1 {
		t.Fatalf("scope: %+v", mine.suiteScope)
	}
	if g := suiteRowOf(t, mine, "go-wasm").Cells[0]; g.Runs != 2 || !(g.MedianNs < 110) {
		t.Errorf("Go→WASM in this browser: %+v", g)
	}
	if b := suiteRowOf(t, mine, "cpython-native").Cells[0]; b.Runs != 3 {
		t.Errorf("native CPython on this machine: %+v", b)
	}
	if g := suiteRowOf(t, mine, "native-go").Cells[0]; g.Runs != 1 || !(g.Ratio > 0.04 && g.Ratio < 0.06) {
		t.Errorf("native Go on this machine: %+v", g)
	}
	// Edge's machine has no native runs: its Go→WASM cell has no ratio.
	q = url.Values{"scope": {"browser"}, "browser": {"Edge"}, "browserVersion": {"150"}, "platform": {"Win32"}, "cores": {"8"}, "workloads": {"fib"}}
	var edge suiteTable
	e.getJSON(t, "/api/bench/suite?"+q.Encode(), http.StatusOK, &edge)
	if g := suiteRowOf(t, edge, "go-wasm").Cells[0]; g.Runs != 1 || g.Ratio != 0 || g.MedianNs < 195 {
		t.Errorf("Go→WASM in Edge: %+v", g)
	}

	// The table is cached until a run changes.
	var again suiteTable
	e.getJSON(t, "/api/bench/suite?workloads=fib,nbody", http.StatusOK, &again)
	if suiteRowOf(t, again, "rust-wasm").Cells[0].Runs != 0 {
		t.Fatal("cached table changed")
	}
	storeRun(t, e.store, "fib-rust-ok", fib, snippets.RustWasm, chromeEnv, 0, series(10, 80, 0.1), 100, snippets.RunDone)
	e.getJSON(t, "/api/bench/suite?workloads=fib,nbody", http.StatusOK, &again)
	if r := suiteRowOf(t, again, "rust-wasm").Cells[0]; r.Runs != 1 || !(r.Ratio < 0.1) {
		t.Errorf("Rust→WASM after a new run: %+v", r)
	}

	// Every workload by default.
	var def suiteTable
	e.getJSON(t, "/api/bench/suite", http.StatusOK, &def)
	if len(def.Workloads) != len(suite.Workloads()) || len(def.Rows[0].Cells) != len(suite.Workloads()) {
		t.Errorf("default workloads: %d columns", len(def.Workloads))
	}
}

func TestSuiteAPIBadQuery(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	for _, tc := range []struct{ query, want string }{
		{"scope=mine", "scope must be all or browser"},
		{"workloads=fib,nope", `"nope" is not a workload`},
		{"scope=browser", "scope=browser needs the browser"},
		{"scope=browser&browser=Chrome&cores=many", "cores must be a whole number"},
		{"scope=browser&browser=Chrome&cores=0", "cores must be a whole number"},
	} {
		res, err := http.Get(e.http.URL + "/api/bench/suite?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var v struct {
			Error struct{ Code, Message string }
		}
		if res.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &v) != nil || v.Error.Code != "invalid" || !strings.Contains(v.Error.Message, tc.want) {
			t.Errorf("?%s: %d %s, want 400 invalid %q", tc.query, res.StatusCode, body, tc.want)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("?%s: Content-Type %s", tc.query, ct)
		}
	}
}

// The page's config names each workload's snippet as POST /api/snippets
// would store its example, and the WASM rows say when a kernel is not built.
func TestSuitePageAndWasmManifest(t *testing.T) {
	e := newBenchEnv(t, WSConfig{})
	res, err := http.Get(e.http.URL + "/bench/suite")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`id="pyplay-config"`)) {
		t.Fatalf("/bench/suite: %d %s", res.StatusCode, body)
	}
	for _, w := range suite.Workloads() {
		sn, err := suiteSnippet(w)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(body, []byte(sn.ID)) {
			t.Errorf("page config lacks %s's snippet %s", w.ID, sn.ID)
		}
		// What the page posts gives the same ID.
		posted := &snippets.Snippet{Runtime: snippets.Pyodide, Title: sn.Title, Code: sn.Code}
		posted.Seal()
		if posted.ID != sn.ID {
			t.Errorf("%s: stored as %s, table reads %s", w.ID, posted.ID, sn.ID)
		}
	}

	e.lab.cfg.WasmManifest = func() []byte {
		return []byte(`{"go-wasm":{"version":"go1.26.8","file":"go-kernels.wasm"},"rust-wasm":{"missing":"no rustc at /usr/bin/rustc"}}`)
	}
	var table suiteTable
	e.getJSON(t, "/api/bench/suite?workloads=fib", http.StatusOK, &table)
	if r := suiteRowOf(t, table, "rust-wasm"); r.Available || !strings.Contains(r.Note, "no rustc") {
		t.Errorf("Rust→WASM without rustc: %+v", r)
	}
	if r := suiteRowOf(t, table, "go-wasm"); !r.Available {
		t.Errorf("Go→WASM built: %+v", r)
	}
}
