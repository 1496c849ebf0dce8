package server

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/examples"
)

// pageConfig is handed to the page's script as JSON (in a non-executed
// <script type="application/json">): which bundles and runtime files to load.
type pageConfig struct {
	Build    string                           `json:"build"`
	Worker   string                           `json:"worker"`
	Editor   string                           `json:"editor"` // the CodeMirror bundle, loaded after start-up
	Runtimes map[string]*frontend.RuntimeInfo `json:"runtimes"`
	Runtime  string                           `json:"runtime"`
	Snippet  *snippetRef                      `json:"snippet,omitempty"`
	Examples []examples.Example               `json:"examples"`
	PyScript *pyscriptPageConfig              `json:"pyscript"`
}

type snippetRef struct {
	ID      string `json:"id"`
	Runtime string `json:"runtime"`
	Title   string `json:"title"` // as stored: Share sends it again
	Name    string `json:"name"`  // what people call it (snippets.Snippet.Name), "" if nothing
}

// snippetLabel is a snippet's name, or its ID when it has none.
func snippetLabel(sn *snippets.Snippet) string {
	if n := sn.Name(); n != "" {
		return n
	}
	return "Snippet " + sn.ID
}

type editorPage struct {
	Title     string // of the document
	Heading   string // over the editor: the snippet's label, or "main.py"
	Code      string
	Runtime   string
	SnippetID string
	NoIndex   bool
	Manifest  *frontend.Manifest
	Examples  []examples.Example
	Config    pageConfig
}

// renderEditor renders the editor on code; with a snippet, the page is that
// snippet's (title, runtime, "edited since shared" tracking).
func (s *Server) renderEditor(c echo.Context, sn *snippets.Snippet) error {
	m := s.manifest.Load()
	ex := examples.All()
	p := editorPage{Manifest: m, Examples: ex, Title: "pyplay: Python in your browser"}
	if sn != nil {
		p.Code, p.Runtime, p.SnippetID, p.NoIndex = sn.Code, string(sn.Runtime), sn.ID, true
		p.Heading = snippetLabel(sn)
		p.Title = p.Heading + " · pyplay"
	} else {
		st := examples.Starter()
		p.Heading = "main.py"
		p.Code, p.Runtime = st.Code, st.Runtime
	}
	// ?runtime=micropython opens the editor on another runtime (the page
	// puts the choice in the address, so a reload keeps it); a snippet
	// still counts as edited then.
	if rt := askedRuntime(c); rt != "" {
		p.Runtime = rt
	}
	p.Config = pageConfig{
		Build: m.Build, Worker: m.Entries["worker"], Editor: m.Entries["editor"], Runtimes: m.Runtimes,
		Runtime: p.Runtime, Examples: ex,
	}
	p.Config.PyScript = s.pyscriptConfig(sn)
	if sn != nil {
		p.Config.Snippet = &snippetRef{ID: sn.ID, Runtime: string(sn.Runtime), Title: sn.Title, Name: sn.Name()}
	}
	return s.render(c, http.StatusOK, "editor.html", p)
}

// askedRuntime is the runtime a request's ?runtime= names, or "".
func askedRuntime(c echo.Context) string {
	if rt := snippets.Runtime(c.QueryParam("runtime")); snippets.ValidRuntime(rt) {
		return string(rt)
	}
	return ""
}

func (s *Server) render(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := s.pages.Load().ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-cache")
	return c.HTMLBlob(status, buf.Bytes())
}
