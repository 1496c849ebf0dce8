package server

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
)

// benchPageData is what static/templates/dashboard.html (/bench/{id}) and
// bench.html (/bench) render. The pages are the front end's: the server
// hands them the bundle (manifest entry "dashboard") and a JSON config,
// and the script loads the data from the benchmark API and /ws.
type benchPageData struct {
	Title    string
	Snippet  *snippetInfo // nil on /bench
	Manifest *frontend.Manifest
	Config   benchPageConfig
}

// benchPageConfig is the page's <script type="application/json"
// id="pyplay-config">.
type benchPageConfig struct {
	Build    string       `json:"build"`
	Snippet  *snippetInfo `json:"snippet"`  // null on /bench
	API      string       `json:"api"`      // prefix of the REST endpoints, "/api/bench"
	WS       string       `json:"ws"`       // the WebSocket path, "/ws"
	Baseline string       `json:"baseline"` // the default baseline runtime
}

func (s *Server) benchPageData(title string, sn *snippetInfo) benchPageData {
	m := s.manifest.Load()
	return benchPageData{Title: title, Snippet: sn, Manifest: m, Config: benchPageConfig{
		Build: m.Build, Snippet: sn, API: "/api/bench", WS: "/ws", Baseline: snippets.CPythonNative,
	}}
}

// benchPage is GET /bench: the overview across snippets.
func (s *Server) benchPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "bench.html", s.benchPageData("Benchmarks · pyplay", nil))
}

// dashboardPage is GET /bench/{id}: the live dashboard of one snippet.
func (s *Server) dashboardPage(c echo.Context) error {
	id := c.Param("id")
	if !snippets.ValidID(id) {
		return snippets.Errorf(snippets.NotFound, "no snippet with ID %q: snippet IDs are 11 or more letters, digits, '-' and '_'", response.Truncate(id, 64))
	}
	if err := s.benchStoreReady(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), DefaultStoreTimeout)
	defer cancel()
	sn, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		if snippets.ErrorCode(err) == snippets.NotFound {
			return snippets.Errorf(snippets.NotFound, "no snippet with ID %s: the link may be incomplete, or the snippet was removed", id)
		}
		return response.StoreError(c, err)
	}
	info := infoOf(sn)
	title := sn.Title
	if title == "" {
		title = "Snippet " + sn.ID
	}
	return s.render(c, http.StatusOK, "dashboard.html", s.benchPageData("Benchmarks of "+title+" · pyplay", &info))
}
