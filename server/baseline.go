package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// baselinePage serves plain self-hosted Pyodide (see web/bench/baseline.ts), the
// comparison point of the start-up benchmark.
func (s *Server) baselinePage(c echo.Context) error {
	m := s.manifest.Load()
	info := m.Runtimes["pyodide"]
	if info == nil || m.Entries["baseline"] == "" {
		return notFound("this build has no baseline page")
	}
	return s.render(c, http.StatusOK, "baseline.html", map[string]any{
		"Manifest": m,
		"Config":   map[string]string{"base": info.Base},
	})
}
