package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pyplay/pyplay/server/bench/stats"
	"github.com/pyplay/pyplay/server/bench/suite"
	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/examples"
)

// The reference suite (issue 15, docs/bench.md "The reference suite"): the
// same workloads in Python, Go and Rust, measured in every runtime. Each
// workload's runs, whatever their runtime, are stored on one snippet: its
// Python example, stored as a pyodide snippet (suiteSnippet), so the
// dashboards and groups of /bench/{id} apply as to any snippet. GET
// /api/bench/suite is the table of /bench/suite: per runtime and workload
// the median and the ratio to native CPython, runs being the unit
// (stats.CompareRuns).

// suiteRuntime is one row of the suite table.
type suiteRuntime struct {
	Runtime string // as runs are compared (seriesRuntime)
	Label   string
	// Missing says why this row can have no data here ("" when it can).
	Missing string
	// Hint says how to get data for an empty cell ({snippet} is the
	// workload's snippet ID).
	Hint string
}

// suiteRuntimes are the table's rows, in order.
var suiteRuntimes = []suiteRuntime{
	{Runtime: "pyodide", Label: "Pyodide", Hint: "Run suite on /bench/suite"},
	{Runtime: "micropython", Label: "MicroPython", Hint: "Run suite on /bench/suite"},
	{Runtime: "pyscript/pyodide", Label: "PyScript", Hint: "Run suite on /bench/suite (a PyScript page of the workload's code on Pyodide, in a preview frame)"},
	{Runtime: snippets.GoWasm, Label: "Go→WASM", Hint: "Run suite on /bench/suite"},
	{Runtime: snippets.RustWasm, Label: "Rust→WASM", Hint: "Run suite on /bench/suite"},
	{Runtime: snippets.CPythonNative, Label: "native CPython", Hint: "pyplay bench-native -server URL -snippet {snippet}"},
	{Runtime: snippets.GoNative, Label: "native Go", Hint: "pyplay bench-native -server URL -go -snippet {snippet}"},
	{Runtime: "rustpython", Label: "RustPython", Missing: "not available: no WebAssembly build can be had here"},
}

// suiteWorkloadInfo is a column of the table.
type suiteWorkloadInfo struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	N       int    `json:"n"`
	Check   string `json:"check"`
	Snippet string `json:"snippet"` // ID of the snippet the workload's runs are stored on
	Example string `json:"example"` // the Python example's name
}

// suiteCell is one runtime × workload: the pooled median of its runs'
// measured samples and the ratio of its typical run to native CPython's
// with the 95% interval (> 1: slower than native CPython); ratio, ciLow
// and ciHigh are 0 when either side has no runs.
type suiteCell struct {
	Workload string  `json:"workload"`
	MedianNs float64 `json:"medianNs"`
	Runs     int     `json:"runs"`
	Ratio    float64 `json:"ratio"`
	CILow    float64 `json:"ciLow"`
	CIHigh   float64 `json:"ciHigh"`
	// Hint says how to fill an empty cell.
	Hint string `json:"hint,omitempty"`
}

// suiteGeomean is a row's geometric mean across the workloads measured in
// both it and native CPython: of the medians (only when every workload
// has one, 0 otherwise) and of the ratios; the
// interval combines the workloads' intervals as independent (in logs:
// the root of the sum of squared half-widths over the count).
type suiteGeomean struct {
	MedianNs  float64 `json:"medianNs"`
	Ratio     float64 `json:"ratio"`
	CILow     float64 `json:"ciLow"`
	CIHigh    float64 `json:"ciHigh"`
	Workloads int     `json:"workloads"` // how many ratios it is over
	Complete  bool    `json:"complete"`  // every workload has a ratio
}

type suiteRow struct {
	Runtime   string       `json:"runtime"`
	Label     string       `json:"label"`
	Available bool         `json:"available"`
	Note      string       `json:"note,omitempty"` // why not available
	Baseline  bool         `json:"baseline"`
	Versions  []string     `json:"versions"`
	Cells     []suiteCell  `json:"cells"`
	Geomean   suiteGeomean `json:"geomean"`
}

// suiteScope is what runs a table is over.
type suiteScope struct {
	Scope   string `json:"scope"`             // "all" or "browser"
	Browser string `json:"browser,omitempty"` // scope browser: as groups name it ("Chrome 156")
	Machine string `json:"machine,omitempty"` // scope browser: "Linux x86_64, 2 cores"
}

// suiteTable is GET /api/bench/suite.
type suiteTable struct {
	suiteScope
	Baseline  string              `json:"baseline"` // cpython-native
	Workloads []suiteWorkloadInfo `json:"workloads"`
	Rows      []suiteRow          `json:"rows"`
	Truncated bool                `json:"truncated"`
}

// suiteSnippet is the snippet a workload's runs are stored on: its Python
// example as the editor would share it (content-addressed, so storing it
// again gives the same ID).
func suiteSnippet(w suite.Workload) (*snippets.Snippet, error) {
	for _, ex := range examples.All() {
		if ex.Name == w.Python {
			sn := &snippets.Snippet{Runtime: snippets.Pyodide, Title: ex.Title, Code: ex.Code}
			sn.ID = sn.ContentID()
			return sn, nil
		}
	}
	return nil, fmt.Errorf("suite workload %s: no example %q", w.ID, w.Python)
}

// suiteWorkloads returns the workloads named by a comma-separated list of
// IDs, all of them when the list is empty.
func suiteWorkloads(list string) ([]suite.Workload, error) {
	all := suite.Workloads()
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	var out []suite.Workload
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		w, ok := suite.ByID(id)
		if !ok {
			ids := make([]string, len(all))
			for i, w := range all {
				ids[i] = w.ID
			}
			return nil, snippets.Errorf(snippets.Invalid, "workloads: %q is not a workload of the suite; use some of %s", response.Truncate(id, 32), strings.Join(ids, ","))
		}
		if !slices.ContainsFunc(out, func(x suite.Workload) bool { return x.ID == w.ID }) {
			out = append(out, w)
		}
	}
	return out, nil
}

// suiteScopeOf reads ?scope=all|browser and, for browser, the env of the
// browser asking (browser, browserVersion, platform, cores, userAgent, as
// the harness sends them), reduced as groups are.
func suiteScopeOf(c echo.Context) (suiteScope, error) {
	q := c.QueryParams()
	switch scope := q.Get("scope"); scope {
	case "", "all":
		return suiteScope{Scope: "all"}, nil
	case "browser":
		var env runEnv
		if b := q.Get("browser"); b != "" {
			env.Browser, _ = json.Marshal(b)
		}
		env.BrowserVersion = q.Get("browserVersion")
		env.Platform = q.Get("platform")
		env.UserAgent = q.Get("userAgent")
		if s := q.Get("cores"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 4096 {
				return suiteScope{}, snippets.Errorf(snippets.Invalid, "cores must be a whole number from 1 to 4096, got %q", response.Truncate(s, 32))
			}
			env.Cores = float64(n)
		}
		sc := suiteScope{Scope: "browser", Browser: browserOf(env), Machine: machineOf(env)}
		if sc.Browser == "" {
			return suiteScope{}, snippets.Errorf(snippets.Invalid, "scope=browser needs the browser: browser (and browserVersion) or userAgent, as the harness sends them in a run's env")
		}
		return sc, nil
	default:
		return suiteScope{}, snippets.Errorf(snippets.Invalid, "scope must be all or browser, got %q", response.Truncate(scope, 32))
	}
}

// inScope reports whether a run counts in the scope: every run for all;
// for browser, runs of that browser on that machine, and native runs on
// that machine.
func (sc suiteScope) inScope(g benchGroup) bool {
	if sc.Scope != "browser" {
		return true
	}
	if g.Machine != sc.Machine {
		return false
	}
	return g.Browser == sc.Browser || g.Browser == "native"
}

// suiteAPI is GET /api/bench/suite[?scope=all|browser&…][&workloads=a,b].
func (l *Lab) suiteAPI(c echo.Context) error {
	if err := l.storeReady(); err != nil {
		return err
	}
	ws, err := suiteWorkloads(c.QueryParam("workloads"))
	if err != nil {
		return err
	}
	sc, err := suiteScopeOf(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), requestTimeout)
	defer cancel()
	table, err := l.suiteTableOf(ctx, ws, sc)
	if err != nil {
		return response.StoreError(c, err)
	}
	response.NoStore(c)
	return c.JSON(http.StatusOK, table)
}

// suiteTableOf returns the table, from the cache when no run it reads has
// changed since it was computed (the key covers every workload's run list,
// as compareKey does one snippet's).
func (l *Lab) suiteTableOf(ctx context.Context, ws []suite.Workload, sc suiteScope) (suiteTable, error) {
	infos := make([]suiteWorkloadInfo, len(ws))
	lists := make([][]*snippets.Run, len(ws))
	truncated := false
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", sc.Scope, sc.Browser, sc.Machine, l.wasmMissing(snippets.RustWasm)+l.wasmMissing(snippets.GoWasm))
	var n [8]byte
	for i, w := range ws {
		sn, err := suiteSnippet(w)
		if err != nil {
			return suiteTable{}, err
		}
		infos[i] = suiteWorkloadInfo{ID: w.ID, Title: w.Title, N: w.N, Check: w.Check, Snippet: sn.ID, Example: w.Python}
		list, tr, err := listRuns(ctx, l.cfg.Store, sn.ID)
		if err != nil {
			return suiteTable{}, orBusy(ctx, err)
		}
		truncated = truncated || tr
		lists[i] = list
		h.Write([]byte(sn.ID + "\x00"))
		for _, r := range list {
			h.Write([]byte(r.ID + "\x00" + r.Status + "\x00"))
			binary.LittleEndian.PutUint64(n[:], uint64(r.SampleCount))
			h.Write(n[:])
		}
	}
	key := h.Sum64()
	if t, ok := l.stats.suites.get(key); ok {
		return t, nil
	}
	var table suiteTable
	err := l.stats.work(ctx, func() error {
		if t, ok := l.stats.suites.get(key); ok {
			table = t
			return nil
		}
		// The samples read are bounded as one comparison's, shared
		// between the workloads.
		perWorkload := make([][]*snippets.Run, len(ws))
		for i, list := range lists {
			runs, partial, err := readRunsBudget(ctx, l.cfg.Store, list, maxReadSamples/max(1, len(ws)))
			if err != nil {
				return err
			}
			truncated = truncated || partial
			perWorkload[i] = runs
		}
		table = l.buildSuiteTable(infos, perWorkload, sc)
		table.Truncated = truncated
		table = finiteView(table)
		l.stats.suites.put(key, table)
		return nil
	})
	return table, err
}

// wasmMissing says why a compiled runtime has no build here, "" when it
// has one or the lab was not told.
func (l *Lab) wasmMissing(runtime string) string {
	if l.cfg.WasmManifest == nil {
		return ""
	}
	var m map[string]struct {
		File    string `json:"file"`
		Missing string `json:"missing"`
	}
	raw := l.cfg.WasmManifest()
	if raw == nil {
		return "the WebAssembly kernels are not built (pyplay build)"
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return "the WebAssembly kernels' manifest is unreadable"
	}
	e, ok := m[runtime]
	switch {
	case !ok:
		return "not built (pyplay build)"
	case e.Missing != "":
		return "not built: " + e.Missing
	case e.File == "":
		return "not built (pyplay build)"
	}
	return ""
}

// buildSuiteTable pools each workload's runs per runtime (within the
// scope) and compares each with native CPython's.
func (l *Lab) buildSuiteTable(ws []suiteWorkloadInfo, runs [][]*snippets.Run, sc suiteScope) suiteTable {
	table := suiteTable{suiteScope: sc, Baseline: snippets.CPythonNative, Workloads: ws, Rows: make([]suiteRow, len(suiteRuntimes))}
	// pools[w][runtime]
	pools := make([]map[string]*pool, len(ws))
	for i := range ws {
		pools[i] = map[string]*pool{}
		for _, p := range poolRuns(runs[i], func(r *snippets.Run) benchGroup {
			g := groupOf(r)
			if !sc.inScope(g) {
				return benchGroup{Key: "\x00out"}
			}
			return benchGroup{Key: g.Runtime, Runtime: g.Runtime, Label: g.Runtime}
		}) {
			if p.group.Key != "\x00out" {
				pools[i][p.group.Key] = p
			}
		}
	}
	for ri, rt := range suiteRuntimes {
		row := suiteRow{Runtime: rt.Runtime, Label: rt.Label, Available: rt.Missing == "", Note: rt.Missing,
			Baseline: rt.Runtime == snippets.CPythonNative, Versions: []string{}, Cells: make([]suiteCell, len(ws))}
		if rt.Runtime == snippets.GoWasm || rt.Runtime == snippets.RustWasm {
			if why := l.wasmMissing(rt.Runtime); why != "" {
				row.Available, row.Note = false, why
			}
		}
		var logMed, logRatio, hw2 []float64
		for wi, w := range ws {
			cell := suiteCell{Workload: w.ID}
			p := pools[wi][rt.Runtime]
			base := pools[wi][snippets.CPythonNative]
			if p != nil && len(p.ns) > 0 {
				cell.MedianNs = stats.Median(p.ns)
				cell.Runs = len(p.perRun)
				for _, v := range p.versions {
					if !slices.Contains(row.Versions, v) {
						row.Versions = append(row.Versions, v)
					}
				}
				if cell.MedianNs > 0 {
					logMed = append(logMed, math.Log(cell.MedianNs))
				}
			}
			switch {
			case !row.Available:
			case cell.Runs == 0:
				cell.Hint = strings.ReplaceAll(rt.Hint, "{snippet}", w.Snippet)
			case base == nil || len(base.perRun) == 0:
				cell.Hint = strings.ReplaceAll(suiteRuntimes[5].Hint, "{snippet}", w.Snippet) + " (for the ratio to native CPython)"
			case row.Baseline:
				cell.Ratio, cell.CILow, cell.CIHigh = 1, 1, 1
			default:
				cmp := stats.CompareRuns(p.perRun, base.perRun, stats.DefaultRunsOptions())
				if cmp.Ratio > 0 && !math.IsInf(cmp.Ratio, 0) && !math.IsNaN(cmp.Ratio) {
					cell.Ratio, cell.CILow, cell.CIHigh = cmp.Ratio, cmp.CILow, cmp.CIHigh
				}
			}
			if cell.Ratio > 0 {
				logRatio = append(logRatio, math.Log(cell.Ratio))
				half := 0.0
				if cell.CILow > 0 && cell.CIHigh > 0 && !math.IsInf(cell.CIHigh, 0) {
					half = (math.Log(cell.CIHigh) - math.Log(cell.CILow)) / 2
				}
				hw2 = append(hw2, half*half)
			}
			row.Cells[wi] = cell
		}
		if len(logMed) == len(ws) && len(ws) > 0 {
			row.Geomean.MedianNs = math.Exp(stats.Mean(logMed))
		}
		if k := len(logRatio); k > 0 {
			centre := stats.Mean(logRatio)
			var s float64
			for _, x := range hw2 {
				s += x
			}
			half := math.Sqrt(s) / float64(k)
			row.Geomean.Ratio = math.Exp(centre)
			row.Geomean.CILow, row.Geomean.CIHigh = math.Exp(centre-half), math.Exp(centre+half)
			row.Geomean.Workloads = k
			row.Geomean.Complete = k == len(ws)
		}
		table.Rows[ri] = row
	}
	return table
}
