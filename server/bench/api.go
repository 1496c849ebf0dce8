package bench

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pyplay/pyplay/server/bench/stats"
	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
)

// The benchmark REST API (docs/bench.md): stored runs with their
// statistics, exports, the comparison table and the overview of every
// snippet. Live updates come over /ws; these endpoints serve what is
// stored, so a dashboard loads them on open and after a reconnect.

const (
	// requestTimeout bounds the work of one request: its store calls,
	// waiting for a turn to compute statistics, and computing them
	// (cache.go bounds what there is to compute).
	requestTimeout = 15 * time.Second
	// maxListedRuns bounds the runs a listing, comparison or export reads,
	// newest first.
	maxListedRuns = 500
)

// Routes registers the WebSocket endpoint, the benchmark API and the
// dashboard pages on e.
func (l *Lab) Routes(e *echo.Echo) {
	get := func(path string, h echo.HandlerFunc) { e.Match([]string{http.MethodGet, http.MethodHead}, path, h) }
	get("/ws", l.serveWS)
	get("/api/bench/runs", l.listRuns)
	get("/api/bench/runs/:run", l.getRun)
	get("/api/bench/compare", l.compare)
	get("/api/bench/overview", l.getOverview)
	get("/api/bench/suite", l.suiteAPI)
	get("/bench/suite", l.suitePage)
	var limits []echo.MiddlewareFunc
	if l.cfg.CreateLimit != nil {
		limits = append(limits, l.cfg.CreateLimit)
	}
	e.POST("/api/bench/ab", l.createAB, limits...)
	get("/api/bench/ab", l.listABs)
	get("/api/bench/ab/:id", l.getAB)
	get("/bench/ab/:id", l.abPage)
	get("/bench", l.overviewPage)
	get("/bench/:id", l.dashboardPage)
}

// runView is a run as the API shows it: the stored run plus its group and
// statistics over its non-warmup samples.
type runView struct {
	*snippets.Run
	Group       benchGroup    `json:"group"`
	WarmupCount int           `json:"warmupCount"`
	Summary     stats.Summary `json:"summary"` // of the non-warmup samples' ns per iteration
	Warnings    []string      `json:"warnings"`
}

// measured is what statistics are computed on: the non-warmup samples of a
// run, and what the warnings need to know about them.
type measured struct {
	ns []float64
	// resolutionNs is the timer resolution as it affects one iteration:
	// env.timerResolutionNs over the fewest iterations of a sample.
	resolutionNs float64
	hidden       bool
	warmups      int
}

func measure(r *snippets.Run) measured {
	env := parseEnv(r.Env)
	m := measured{ns: make([]float64, 0, len(r.Samples)), hidden: env.Hidden}
	minIters := 0
	for _, sm := range r.Samples {
		if sm.Warmup {
			m.warmups++
			continue
		}
		m.ns = append(m.ns, sm.NsPerIter)
		m.hidden = m.hidden || sm.Hidden
		if minIters == 0 || sm.Iterations < minIters {
			minIters = sm.Iterations
		}
	}
	if env.TimerResolutionNs > 0 && minIters > 0 {
		m.resolutionNs = env.TimerResolutionNs / float64(minIters)
	}
	return m
}

func viewOf(r *snippets.Run) *runView {
	m := measure(r)
	sum := stats.Summarize(m.ns)
	return &runView{Run: r, Group: groupOf(r), WarmupCount: m.warmups, Summary: sum, Warnings: warnings(sum, m.resolutionNs, m.hidden)}
}

// warnings never returns nil, so JSON has [] rather than null.
func warnings(sum stats.Summary, resolutionNs float64, hidden bool) []string {
	if w := stats.Warnings(sum, resolutionNs, hidden); w != nil {
		return w
	}
	return []string{}
}

// snippetInfo is the snippet a response is about, without its code.
type snippetInfo struct {
	ID      string    `json:"id"`
	Title   string    `json:"title"`
	Name    string    `json:"name"` // snippets.Snippet.Name: the title, or what the code opens with; "" if nothing
	Runtime string    `json:"runtime"`
	Created time.Time `json:"created"`
}

func infoOf(sn *snippets.Snippet) snippetInfo {
	return snippetInfo{ID: sn.ID, Title: sn.Title, Name: sn.Name(), Runtime: string(sn.Runtime), Created: sn.Created}
}

// label is how pages name the snippet: its name, or its ID.
func (s snippetInfo) label() string {
	if s.Name != "" {
		return s.Name
	}
	return "snippet " + s.ID
}

// runsResponse is GET /api/bench/runs.
type runsResponse struct {
	Snippet snippetInfo `json:"snippet"`
	Runs    []*runView  `json:"runs"` // newest first, without samples
	// Truncated says that only the newest maxListedRuns runs are listed.
	Truncated bool `json:"truncated"`
}

// listRuns is GET /api/bench/runs?snippet=ID[&format=json|csv].
func (l *Lab) listRuns(c echo.Context) error {
	format, err := exportFormat(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), requestTimeout)
	defer cancel()
	if format == "csv" {
		sn, runs, _, err := l.snippetRuns(c, ctx, c.QueryParam("snippet"))
		if err != nil {
			return err
		}
		response.NoStore(c)
		return writeSamplesCSV(c, "pyplay-bench-"+sn.ID+".csv", runs)
	}
	sn, err := l.snippet(c, c.QueryParam("snippet"))
	if err != nil {
		return err
	}
	views, truncated, err := l.runViews(ctx, sn.ID)
	if err != nil {
		return response.StoreError(c, err)
	}
	response.NoStore(c)
	if format == "json" {
		c.Response().Header().Set(echo.HeaderContentDisposition, response.Attachment("pyplay-bench-"+sn.ID+".json"))
	}
	return c.JSON(http.StatusOK, finiteView(runsResponse{Snippet: infoOf(sn), Runs: views, Truncated: truncated}))
}

// getRun is GET /api/bench/runs/{run}[?format=json|csv]: one run with
// every sample.
func (l *Lab) getRun(c echo.Context) error {
	format, err := exportFormat(c)
	if err != nil {
		return err
	}
	id := c.Param("run")
	if !snippets.ValidRunID(id) {
		return snippets.Errorf(snippets.NotFound, "no run with ID %q: run IDs are %s", response.Truncate(id, 64), snippets.RunIDRule)
	}
	if err := l.storeReady(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), requestTimeout)
	defer cancel()
	r, err := l.cfg.Store.GetRun(ctx, id)
	if err != nil {
		return response.StoreError(c, fmt.Errorf("get run %s: %w", id, err))
	}
	response.NoStore(c)
	if format == "csv" {
		return writeSamplesCSV(c, "pyplay-run-"+r.ID+".csv", []*snippets.Run{r})
	}
	if format == "json" {
		c.Response().Header().Set(echo.HeaderContentDisposition, response.Attachment("pyplay-run-"+r.ID+".json"))
	}
	return c.JSON(http.StatusOK, finiteView(viewOf(r)))
}

// exportFormat reads ?format=: "" (JSON to display), "json" or "csv" (a
// download).
func exportFormat(c echo.Context) (string, error) {
	switch f := c.QueryParam("format"); f {
	case "", "json", "csv":
		return f, nil
	default:
		return "", snippets.Errorf(snippets.Invalid, "format %q is not known; use format=json or format=csv", response.Truncate(f, 32))
	}
}

func (l *Lab) storeReady() error {
	if l.cfg.Store == nil {
		return snippets.Errorf(snippets.Unavailable, "this server has no database, so it keeps no benchmarks")
	}
	return nil
}

// snippet looks up the snippet a request names (Config.Snippet), checking
// the ID and that there is a store.
func (l *Lab) snippet(c echo.Context, id string) (*snippets.Snippet, error) {
	if id == "" {
		return nil, snippets.Errorf(snippets.Invalid, "snippet=ID is required: the ID of a shared snippet, as in /s/{id}")
	}
	if err := snippets.CheckID(id); err != nil {
		return nil, snippets.Errorf(snippets.Invalid, "snippet %q is not a snippet ID: %v", response.Truncate(id, 64), err)
	}
	if err := l.storeReady(); err != nil {
		return nil, err
	}
	return l.cfg.Snippet(c, id)
}

// snippetRuns loads a snippet and its newest runs with their samples, at
// most maxReadSamples of them (cache.go). The snippet comes from
// Config.Snippet, the runs from the store.
func (l *Lab) snippetRuns(c echo.Context, ctx context.Context, id string) (*snippets.Snippet, []*snippets.Run, bool, error) {
	sn, err := l.snippet(c, id)
	if err != nil {
		return nil, nil, false, err
	}
	var runs []*snippets.Run
	var truncated bool
	err = l.stats.work(ctx, func() error {
		runs, truncated, err = loadRuns(ctx, l.cfg.Store, id)
		return err
	})
	if err != nil {
		return nil, nil, false, response.StoreError(c, err)
	}
	return sn, runs, truncated, nil
}

// loadRuns returns a snippet's newest runs with their samples, at most
// maxListedRuns runs and maxReadSamples samples. A run deleted between
// listing and reading is skipped.
func loadRuns(ctx context.Context, store snippets.RunStore, snippetID string) ([]*snippets.Run, bool, error) {
	list, truncated, err := listRuns(ctx, store, snippetID)
	if err != nil {
		return nil, false, err
	}
	runs, partial, err := readRuns(ctx, store, list)
	return runs, truncated || partial, err
}

// csvHeader names the export's columns: one row per sample, with the run's
// identity repeated so that a spreadsheet can pivot on it. interpreter is
// PyScript's (pyodide or micropython), empty for the other runtimes: the two
// are separate series everywhere else too.
var csvHeader = []string{"run", "snippet", "runtime", "interpreter", "runtime_version", "browser", "machine", "status", "seq", "warmup", "ns_per_iter", "iterations", "hidden"}

func writeSamplesCSV(c echo.Context, name string, runs []*snippets.Run) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, response.Attachment(name))
	c.Response().WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	w := csv.NewWriter(c.Response())
	w.Write(csvHeader)
	// Every text a client chose (IDs, versions, browser and machine from
	// env) goes through cell: a spreadsheet must not run it as a formula.
	for _, r := range runs {
		g := groupOf(r)
		interp, _ := strings.CutPrefix(g.Runtime, r.Runtime+"/") // "pyscript/micropython" → "micropython"
		if interp == g.Runtime {
			interp = ""
		}
		for _, sm := range r.Samples {
			w.Write([]string{cell(r.ID), cell(r.SnippetID), cell(r.Runtime), cell(interp), cell(r.RuntimeVersion), cell(g.Browser), cell(g.Machine), cell(r.Status),
				strconv.Itoa(sm.Seq), strconv.FormatBool(sm.Warmup), strconv.FormatFloat(sm.NsPerIter, 'g', -1, 64),
				strconv.Itoa(sm.Iterations), strconv.FormatBool(sm.Hidden)})
		}
	}
	w.Flush()
	return w.Error()
}

// compare is GET /api/bench/compare?snippet=ID[&baseline=KEY|RUN|RUNTIME]:
// the comparison table of the snippet's runs.
func (l *Lab) compare(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), requestTimeout)
	defer cancel()
	sn, err := l.snippet(c, c.QueryParam("snippet"))
	if err != nil {
		return err
	}
	table, err := l.compareTableOf(ctx, sn.ID, c.QueryParam("baseline"))
	if err != nil {
		return response.StoreError(c, err)
	}
	table.Snippet = infoOf(sn)
	response.NoStore(c)
	return c.JSON(http.StatusOK, finiteView(table))
}

// getOverview is GET /api/bench/overview[?baseline=RUNTIME]: every
// snippet's ratios to the baseline runtime and their geometric means.
func (l *Lab) getOverview(c echo.Context) error {
	if err := l.storeReady(); err != nil {
		return err
	}
	baseline := c.QueryParam("baseline")
	if baseline == "" {
		baseline = snippets.CPythonNative
	}
	if !knownRuntime(baseline) {
		return snippets.Errorf(snippets.Invalid, "baseline %q is not a runtime; use pyodide, micropython, pyscript/pyodide, pyscript/micropython, go-wasm, rust-wasm, native-go or %s", response.Truncate(baseline, 32), snippets.CPythonNative)
	}
	ov, err := l.overview.get(c.Request().Context(), l.cfg.Store, baseline)
	if err != nil {
		return response.StoreError(c, err)
	}
	response.NoStore(c)
	return c.JSON(http.StatusOK, finiteView(ov))
}

// knownRuntime reports whether rt names a runtime as runs are compared
// (seriesRuntime): a snippet runtime, cpython-native, or PyScript on one
// interpreter.
func knownRuntime(rt string) bool {
	if r, interp, ok := strings.Cut(rt, "/"); ok {
		return r == string(snippets.PyScript) && snippets.ValidInterpreter(snippets.Interpreter(interp))
	}
	return snippets.ValidRunRuntime(rt)
}
