package bench

import (
	"net/http"

	"github.com/labstack/echo/v4"

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
