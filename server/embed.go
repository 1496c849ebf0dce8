package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/snippets"
)

// embedPage is what static/templates/embed.html renders: /embed/{id}, a
// snippet's code with Run, Stop and its output, for other sites' frames.
type embedPage struct {
	Title    string
	Name     string // the snippet's label (snippetLabel)
	Code     string
	Runtime  string
	ID       string
	Manifest *frontend.Manifest
	Config   embedConfig
}

// embedConfig is the embed page's <script id="pyplay-config">.
type embedConfig struct {
	Build    string                           `json:"build"`
	Worker   string                           `json:"worker"`
	Editor   string                           `json:"editor"`
	Runtimes map[string]*frontend.RuntimeInfo `json:"runtimes"`
	Snippet  snippetRef                       `json:"snippet"`
}

// embed answers GET /embed/{id}. Its headers (embedHeaders) let other
// sites frame it; a broken link gets a small page in the frame, too.
func (a *snippetAPI) embed(c echo.Context) error {
	c.Response().Header().Set("X-Robots-Tag", "noindex")
	sn, err := a.lookup(c, c.Param("id"))
	if err != nil {
		return a.pageError(c, err)
	}
	m := a.s.manifest.Load()
	if m.Entries["embed"] == "" {
		return snippets.Errorf(snippets.Unavailable, "this build has no embed page: run `make build`")
	}
	name := snippetLabel(sn)
	return a.s.render(c, http.StatusOK, "embed.html", embedPage{
		Title: name + " · pyplay", Name: name, Code: sn.Code, Runtime: string(sn.Runtime), ID: sn.ID, Manifest: m,
		Config: embedConfig{
			Build: m.Build, Worker: m.Entries["worker"], Editor: m.Entries["editor"], Runtimes: m.Runtimes,
			Snippet: snippetRef{ID: sn.ID, Runtime: string(sn.Runtime), Title: sn.Title, Name: sn.Name()},
		},
	})
}

// embedHeaders is the header policy of /embed/{id}, the one page other
// sites may frame: frame-ancestors names the embedders (-embed-origins; any
// site by default) and allowFraming does the rest. The isolation headers
// stay, so that Pyodide runs cross-origin isolated in the frame when the
// embedding page is isolated too (README, "Embedding").
func (s *Server) embedHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		allowFraming(c.Response().Header(), s.csp(c, s.embedAncestors()))
		return next(c)
	}
}

// embedAncestors is the frame-ancestors source list of /embed/{id}.
func (s *Server) embedAncestors() string {
	if len(s.cfg.EmbedOrigins) == 0 {
		return "*"
	}
	return strings.Join(s.cfg.EmbedOrigins, " ")
}
