package server

// PyScript previews run user pages (HTML + Python that drives the DOM), so
// they must never run with the playground's origin: a page there could read
// the playground's storage and act as the visitor. The server therefore
// listens on a second address for previews. Browsers treat the two as
// same-site but cross-origin (same host, another port; or a sibling
// subdomain behind a proxy): same-site keeps IndexedDB usable in the frame,
// which PyScript needs, while cross-origin keeps the page out of the
// playground's storage and DOM. That origin serves only the preview document,
// its script and the runtime files; the playground frames it and talks to it
// with postMessage, checking origins both ways.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
)

// previewCSP lets the user's page run inline scripts and eval (it is their
// page, on an origin that holds nothing of the playground's) but keeps every
// request on the preview origin, so a page cannot reach the network either.
// The %s is frame-ancestors: the playground's origin for the document.
const previewCSP = "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval' blob:; " +
	"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' blob: data:; " +
	"worker-src 'self' blob:; frame-src 'none'; frame-ancestors %s; base-uri 'none'; form-action 'none'; object-src 'none'"

// previewSite is the preview listener and what it needs to answer.
type previewSite struct {
	public   *url.URL // Config.PreviewURL parsed; nil derives the URL per request
	mainPort string   // the playground's port, once listening
	port     string   // the preview listener's port, once listening
	ln       net.Listener
	http     *http.Server
}

// previewConfig is handed to the preview document's script as JSON.
type previewConfig struct {
	Parent       string            `json:"parent"`       // the only origin it talks to
	Core         string            `json:"core"`         // @pyscript/core's core.js
	CSS          string            `json:"css"`          // @pyscript/core's core.css
	Version      string            `json:"version"`      // @pyscript/core's version
	Interpreters map[string]string `json:"interpreters"` // "pyodide" → URL of pyodide.mjs, "micropython" → …
	Versions     map[string]string `json:"versions"`     // interpreter → version
	Bench        string            `json:"bench"`        // the benchmark harness bundle, imported by PyScript's worker
}

type previewPage struct {
	Script string
	CSS    string
	Config previewConfig
}

// pyscriptPageConfig is the PyScript part of the editor page's config.
type pyscriptPageConfig struct {
	// Preview is the preview document's URL on the configured public
	// preview origin; empty otherwise.
	Preview string `json:"preview"`
	// PreviewPort is the preview listener's port when no public origin is
	// configured: the page finds the preview on its own host, on this
	// port. The page is then the same whatever Host header a request
	// names, so one rendering serves everybody (snippet_cache.go). Both
	// are empty when there is no preview listener (then the page says so).
	PreviewPort string `json:"previewPort,omitempty"`
	HTML        string `json:"html"` // the snippet's page body
	// Interpreter is the PyScript snippet's interpreter ("pyodide" or
	// "micropython"); empty for a new program or another runtime.
	Interpreter string `json:"interpreter"`
}

// pyscriptConfig describes PyScript previews to the editor page on snippet
// sn (nil for a new program). It depends on the configuration only, never
// on the request.
func (s *Server) pyscriptConfig(sn *snippets.Snippet) *pyscriptPageConfig {
	out := &pyscriptPageConfig{}
	if s.preview.public != nil {
		out.Preview = s.PreviewURL() + "/preview"
	} else {
		out.PreviewPort = s.preview.port
	}
	if sn != nil && sn.Runtime == snippets.PyScript {
		out.HTML = sn.HTML
		out.Interpreter = string(sn.EffectiveInterpreter())
	}
	return out
}

// previewOrigin is the preview origin as seen by a browser that sent r to
// the playground: the configured public URL, or the same host on the preview
// port. Empty when previews are not being served. Only the response to r
// may depend on it: r's Host header is the client's to choose.
func (s *Server) previewOrigin(r *http.Request) string {
	if s.preview.public != nil {
		return s.preview.public.Scheme + "://" + s.preview.public.Host
	}
	if s.preview.port == "" {
		return ""
	}
	return s.requestScheme(r) + "://" + net.JoinHostPort(hostname(r.Host), s.preview.port)
}

// playgroundCSP is the playground's Content-Security-Policy: frames may come
// from the preview origin only, and nobody may frame its pages.
func (s *Server) playgroundCSP(c echo.Context) string {
	return s.csp(c, "'none'")
}

// csp is the playground's Content-Security-Policy with the given
// frame-ancestors.
func (s *Server) csp(c echo.Context, ancestors string) string {
	frames := "'none'"
	if origin := s.previewOrigin(c.Request()); origin != "" {
		frames = origin
	}
	return fmt.Sprintf(contentSecurityPolicy, s.packagesConnectSrc(), frames, ancestors)
}

// requestScheme is the scheme a browser used for r: https when the
// connection is TLS, or when a trusted proxy says so in X-Forwarded-Proto
// (from anyone else, the header means nothing).
func (s *Server) requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") && s.fromTrustedProxy(r) {
		return "https"
	}
	return "http"
}

// fromTrustedProxy reports whether r's connection comes from a trusted proxy.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	a, ok := parseIP(host)
	return ok && inPrefixes(s.cfg.TrustedProxies, a)
}

// hostname strips the port from a Host header, keeping IPv6 brackets off.
func hostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// defaultPreviewAddr is the main address with the port plus one (port 0
// stays 0: tests ask for any free port for both).
func defaultPreviewAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("server: cannot derive the preview address from %q (%v): set the preview address", addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65534 {
		return "", fmt.Errorf("server: cannot derive the preview address from port %q: set the preview address", port)
	}
	if n > 0 {
		n++
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// parsePreviewURL checks Config.PreviewURL: an http(s) origin, with nothing
// after it but an optional "/".
func parsePreviewURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("server: preview URL %q must be an origin such as https://preview.example.com", raw)
	}
	return u, nil
}

// openPreview starts the preview listener (before the playground announces
// itself, so that a busy port fails Open at once).
func (s *Server) openPreview() error {
	if s.cfg.PreviewURL != "" {
		u, err := parsePreviewURL(s.cfg.PreviewURL)
		if err != nil {
			return err
		}
		s.preview.public = u
	}
	addr := s.cfg.PreviewAddr
	if addr == "" {
		var err error
		if addr, err = defaultPreviewAddr(s.cfg.Addr); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: listen for previews on %s: %w (set -preview-addr / PYPLAY_PREVIEW_ADDR)", addr, err)
	}
	s.preview.ln = s.conns.listen(ln)
	s.preview.port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	if s.ln != nil {
		s.preview.mainPort = strconv.Itoa(s.ln.Addr().(*net.TCPAddr).Port)
	}
	s.preview.http = s.serve(s.preview.ln, s.guard(s.previewRoutes()), "serve previews")
	s.log.Info("serving previews", "url", s.PreviewURL())
	return nil
}

// PreviewURL is the preview origin: the configured public URL, or where the
// preview listener listens (as http://host:port), or "" before Open.
func (s *Server) PreviewURL() string {
	if s.preview.public != nil {
		return s.preview.public.Scheme + "://" + s.preview.public.Host
	}
	if s.preview.ln == nil {
		return ""
	}
	addr := s.preview.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, s.preview.port)
}

// closePreview drains the preview listener like the playground's.
func (s *Server) closePreview(ctx context.Context) error {
	return s.shutdown(ctx, s.preview.http, "serve previews")
}

// previewRoutes is the whole preview origin: the preview document, its
// bundle, and the runtime files. Anything else is a JSON 404.
func (s *Server) previewRoutes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = response.ErrorHandler(s.log)
	e.Use(requestID(), accessLog(s.log), middleware.Recover(), securityHeaders(previewHeaders))
	get := func(path string, h echo.HandlerFunc) { e.Match([]string{http.MethodGet, http.MethodHead}, path, h) }
	get("/preview", s.previewDocument)
	get("/display", s.displayDocument) // HTML output of programs (display.go)
	get("/assets/:file", func(c echo.Context) error {
		m := s.manifest.Load()
		name := "/assets/" + c.Param("file")
		if name != m.Entries["preview"] && name != m.Entries["preview.css"] && name != m.Entries["pyscript-bench"] {
			return notFound("the preview origin serves only previews and runtime files")
		}
		return s.assets.serve(c, "dist"+name, true)
	})
	get("/runtime/*", func(c echo.Context) error {
		return s.assets.serve(c, "dist/runtime/"+c.Param("*"), true)
	})
	e.RouteNotFound("/*", func(c echo.Context) error {
		return notFound("the preview origin serves only previews and runtime files")
	})
	return e
}

// previewHeaders isolate the preview like the playground (COOP/COEP, so the
// frame is cross-origin isolated too) and let only the same site embed its
// responses. The document replaces the CSP with one naming its parent.
var previewHeaders = originHeaders{
	ResourcePolicy: "same-site",
	ReferrerPolicy: "no-referrer",
	CSP:            func(echo.Context) string { return previewDefaultCSP },
}

// previewDefaultCSP is previewCSP with no parent allowed to frame it.
var previewDefaultCSP = fmt.Sprintf(previewCSP, "'none'")

// previewDocument renders the empty preview page for the playground named by
// ?parent=; it waits for the code by postMessage from that origin only.
func (s *Server) previewDocument(c echo.Context) error {
	parent, err := s.previewParent(c.Request())
	if err != nil {
		return err
	}
	m := s.manifest.Load()
	ps, py, mp := m.Runtimes["pyscript"], m.Runtimes["pyodide"], m.Runtimes["micropython"]
	if ps == nil || m.Entries["preview"] == "" {
		return snippets.Errorf(snippets.Unavailable, "this build has no PyScript preview: run `make build`")
	}
	cfg := previewConfig{
		Parent: parent, Core: ps.Base + "core.js", CSS: ps.Base + "core.css", Version: ps.Version,
		Interpreters: map[string]string{}, Versions: map[string]string{}, Bench: m.Entries["pyscript-bench"],
	}
	if py != nil {
		cfg.Interpreters["pyodide"], cfg.Versions["pyodide"] = py.Base+"pyodide.mjs", py.Version
	}
	if mp != nil {
		cfg.Interpreters["micropython"], cfg.Versions["micropython"] = mp.Base+"micropython.mjs", mp.Version
	}
	// Only the playground that opened it may frame the preview.
	allowFraming(c.Response().Header(), fmt.Sprintf(previewCSP, parent))
	return s.render(c, http.StatusOK, "preview.html", previewPage{
		Script: m.Entries["preview"], CSS: m.Entries["preview.css"], Config: cfg,
	})
}

// previewParent reads and checks ?parent=, the playground origin that opened
// the preview. It must be same-site with the preview as the browser reached
// it: with the derived URL, exactly the same host on the playground's port;
// with a public preview URL, its parent domain or a sibling of it.
func (s *Server) previewParent(r *http.Request) (string, error) {
	raw := r.URL.Query().Get("parent")
	bad := func(why string) error {
		return snippets.Errorf(snippets.Invalid, "preview: parent %q %s; previews open only inside the pyplay page", raw, why)
	}
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", bad("is not an origin")
	}
	origin := u.Scheme + "://" + u.Host
	scheme := s.requestScheme(r)
	if s.preview.public != nil {
		scheme = s.preview.public.Scheme
	}
	if u.Scheme != scheme {
		return "", bad("has another scheme")
	}
	host, previewHost := hostname(u.Host), hostname(r.Host)
	if s.preview.public == nil {
		if !strings.EqualFold(host, previewHost) || u.Port() != s.preview.mainPort {
			return "", bad("is not this host's playground")
		}
		return origin, nil
	}
	if !sameSite(host, previewHost) {
		return "", bad("is not on this site")
	}
	return origin, nil
}

// sameSite approximates the browser's notion for hosts under one operator's
// domain: equal, or one is the other's parent domain, or they are siblings
// (preview.example.com and www.example.com). A parent domain needs two labels
// at least, so hosts directly under a one-label suffix (a.com, b.com) never
// match, but it knows no public suffix list: a.co.uk and b.co.uk do. That is
// defence in depth only: anyone may run code on the preview origin by
// sharing a snippet. IP addresses match only themselves.
func sameSite(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if a == b {
		return true
	}
	if net.ParseIP(a) != nil || net.ParseIP(b) != nil {
		return false
	}
	pa, pb := parentDomain(a), parentDomain(b)
	return (pa != "" && (pa == b || pa == pb)) || (pb != "" && pb == a)
}

func parentDomain(host string) string {
	_, rest, ok := strings.Cut(host, ".")
	if !ok || !strings.Contains(rest, ".") {
		return ""
	}
	return rest
}
