package bench

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pyplay/pyplay/server/bench/suite"
	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/snippets"
)

// pageData is what static/templates/dashboard.html (/bench/{id}),
// bench.html (/bench) and ab.html (/bench/ab/{id}) render. The pages are the front end's: the server
// hands them the bundle (manifest entry "dashboard") and a JSON config,
// and the script loads the data from the benchmark API and /ws.
type pageData struct {
	Title    string
	Snippet  *snippetInfo // nil on /bench
	AB       *abInfo      // on /bench/ab/{id} only
	Manifest *frontend.Manifest
	Config   pageConfig
}

// pageConfig is the page's <script type="application/json"
// id="pyplay-config">.
type pageConfig struct {
	Build    string       `json:"build"`
	Snippet  *snippetInfo `json:"snippet"`  // null on /bench
	API      string       `json:"api"`      // prefix of the REST endpoints, "/api/bench"
	WS       string       `json:"ws"`       // the WebSocket path, "/ws"
	Baseline string       `json:"baseline"` // the default baseline runtime
	// AB is the A/B benchmark of /bench/ab/{id} (ab.html); absent elsewhere.
	AB *abInfo `json:"ab,omitempty"`
}

func (l *Lab) page(title string, sn *snippetInfo) pageData {
	m := l.cfg.Manifest()
	return pageData{Title: title, Snippet: sn, Manifest: m, Config: pageConfig{
		Build: m.Build, Snippet: sn, API: "/api/bench", WS: "/ws", Baseline: snippets.CPythonNative,
	}}
}

// overviewPage is GET /bench: the overview across snippets.
func (l *Lab) overviewPage(c echo.Context) error {
	return l.cfg.Render(c, http.StatusOK, "bench.html", l.page("Benchmarks · pyplay", nil))
}

// dashboardPage is GET /bench/{id}: the live dashboard of one snippet.
func (l *Lab) dashboardPage(c echo.Context) error {
	if err := l.storeReady(); err != nil {
		return err
	}
	sn, err := l.cfg.Snippet(c, c.Param("id"))
	if err != nil {
		return err
	}
	info := infoOf(sn)
	return l.cfg.Render(c, http.StatusOK, "dashboard.html", l.page("Benchmarks of "+info.label()+" · pyplay", &info))
}

// suitePageData is what static/templates/suite.html (/bench/suite)
// renders: the page loads the "suite" bundle, which runs the reference
// suite in this browser's runtime workers and shows the table of GET
// /api/bench/suite.
type suitePageData struct {
	Title    string
	Manifest *frontend.Manifest
	Config   suitePageConfig
}

// suitePageConfig is /bench/suite's <script id="pyplay-config">.
type suitePageConfig struct {
	Build    string                           `json:"build"`
	API      string                           `json:"api"`
	WS       string                           `json:"ws"`
	Worker   string                           `json:"worker"`   // the runtime worker's bundle
	Runtimes map[string]*frontend.RuntimeInfo `json:"runtimes"` // pyodide, micropython, …
	WasmBase string                           `json:"wasmBase"` // URL of static/dist/wasm/, "/wasm/"
	// Workloads are the suite's, each with the snippet its runs are stored
	// on (the page stores it with POST /api/snippets before running: the
	// same content gives the same ID).
	Workloads []suitePageWorkload `json:"workloads"`
	// Preview is the PyScript preview document's URL on a configured public
	// origin; PreviewPort the preview listener's port on this page's host
	// otherwise (as the editor's config has them). Both empty: previews are
	// off, and the suite leaves PyScript out.
	Preview     string `json:"preview"`
	PreviewPort string `json:"previewPort,omitempty"`
}

type suitePageWorkload struct {
	suiteWorkloadInfo
	Code  string `json:"code"`  // the Python example
	Label string `json:"label"` // the snippet's title
}

// suitePage is GET /bench/suite.
func (l *Lab) suitePage(c echo.Context) error {
	m := l.cfg.Manifest()
	cfg := suitePageConfig{Build: m.Build, API: "/api/bench", WS: "/ws", Worker: m.Entries["worker"], Runtimes: m.Runtimes, WasmBase: "/wasm/"}
	if l.cfg.Preview != nil {
		cfg.Preview, cfg.PreviewPort = l.cfg.Preview()
	}
	for _, w := range suite.Workloads() {
		sn, err := suiteSnippet(w)
		if err != nil {
			return err
		}
		cfg.Workloads = append(cfg.Workloads, suitePageWorkload{
			suiteWorkloadInfo: suiteWorkloadInfo{ID: w.ID, Title: w.Title, N: w.N, Check: w.Check, Snippet: sn.ID, Example: w.Python},
			Code:              sn.Code, Label: sn.Title,
		})
	}
	return l.cfg.Render(c, http.StatusOK, "suite.html", suitePageData{Title: "Reference suite · Benchmarks · pyplay", Manifest: m, Config: cfg})
}
