// Package server is pyplay's application shell: the echo application's
// lifecycle (Open, Close in order), its middleware (security headers,
// request IDs, access logs, metrics, rate limits), asset serving, page
// rendering, the snippet API with its cache, and the PyScript preview
// origin. It wires the parts that live beside it: the benchmark lab
// (server/bench), the front-end build it serves (server/frontend, rebuilt
// on change with -dev) and the one way errors are answered
// (server/response). The server never runs user code: Python runs in the
// visitor's browser.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pyplay/pyplay/server/bench"
	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/static"
)

// Config holds everything the server needs; cmd/pyplay fills it from flags.
type Config struct {
	Addr   string // listen address, e.g. ":8080" or "127.0.0.1:0"
	Dev    bool   // rebuild the front end on change and serve from disk
	Root   string // source tree (web/, static/, node_modules/); used with Dev
	Store  snippets.Store
	Logger *slog.Logger
	// Static overrides the files served (tests); nil means the embedded files,
	// or Root/static with Dev.
	Static fs.FS
	// PreviewAddr is where PyScript previews are served, on their own origin
	// (see preview.go); empty means Addr's host with the port plus one.
	PreviewAddr string
	// PreviewURL is the previews' public origin when a proxy serves them
	// elsewhere (e.g. https://preview.example.com); empty derives it from
	// each request's host and the preview port.
	PreviewURL string
	// Snippets sets the snippet limits and the rate limit on sharing (see
	// snippets_api.go).
	Snippets SnippetOptions
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Real-IP headers name the client; with none, the client is the
	// connection's peer (see clientIPExtractor).
	TrustedProxies []netip.Prefix
	// WS configures the benchmark WebSocket endpoint.
	WS bench.WSConfig
	// EmbedOrigins are the origins (scheme://host[:port]) whose pages may
	// frame /embed/{id}; empty means any site's.
	EmbedOrigins []string
}

// Server is a configured pyplay HTTP server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	echo     *echo.Echo
	http     *http.Server
	ln       net.Listener
	static   fs.FS
	assets   *assetServer
	manifest atomic.Pointer[frontend.Manifest]
	pages    atomic.Pointer[template.Template]
	metrics  *metrics
	preview  previewSite
	snippets *snippetAPI
	lab      *bench.Lab
	cancel   context.CancelFunc
	ctx      context.Context
	wg       sync.WaitGroup
}

// ErrNotBuilt says the front end has not been built into static/dist.
var ErrNotBuilt = errors.New("front-end assets are not built: run `make build` (or `pyplay build`) first, then rebuild the binary")

// New checks the configuration, loads the built front end and sets up routes.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel, metrics: newMetrics()}
	switch {
	case cfg.Static != nil:
		s.static = cfg.Static
	case cfg.Dev:
		s.static = os.DirFS(filepath.Join(cfg.Root, "static"))
	default:
		s.static = static.Embedded()
	}
	s.assets = &assetServer{fsys: s.static, cache: !cfg.Dev}
	if cfg.Dev {
		if err := s.startDev(); err != nil {
			cancel()
			return nil, err
		}
	} else {
		if err := s.loadManifest(); err != nil {
			cancel()
			return nil, err
		}
		if err := s.loadTemplates(); err != nil {
			cancel()
			return nil, err
		}
	}
	s.snippets = newSnippetAPI(s)
	lab, err := bench.New(bench.Config{
		Store: cfg.Store, Logger: s.log, Metrics: s.metrics.registry, WS: cfg.WS,
		Snippet: s.snippets.lookup, Render: s.render, Manifest: s.manifest.Load,
	})
	if err != nil {
		cancel()
		return nil, err
	}
	s.lab = lab
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		lab.Run(s.ctx)
	}()
	s.echo = s.routes()
	return s, nil
}

func (s *Server) loadManifest() error {
	data, err := fs.ReadFile(s.static, "dist/manifest.json")
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotBuilt
	}
	if err != nil {
		return fmt.Errorf("server: read manifest: %w", err)
	}
	var m frontend.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("server: manifest.json is corrupt (%v): run `make build`", err)
	}
	if m.Entries["main"] == "" || m.Entries["worker"] == "" {
		return ErrNotBuilt
	}
	s.manifest.Store(&m)
	return nil
}

func (s *Server) loadTemplates() error {
	t, err := template.ParseFS(s.static, "templates/*.html")
	if err != nil {
		return fmt.Errorf("server: templates: %w", err)
	}
	s.pages.Store(t)
	return nil
}

// startDev runs esbuild in watch mode; every rebuild swaps the manifest and
// reloads the templates.
func (s *Server) startDev() error {
	first := make(chan error, 1)
	var once sync.Once
	err := frontend.Watch(s.ctx, frontend.BuildOptions{Root: s.cfg.Root, Logger: s.log}, func(m *frontend.Manifest, err error) {
		if err == nil {
			s.manifest.Store(m)
			err = s.loadTemplates()
		}
		if err != nil {
			s.log.Error("dev build failed", "err", err)
		} else {
			s.log.Info("dev build", "build", m.Build)
		}
		once.Do(func() { first <- err })
	})
	if err != nil {
		return err
	}
	return <-first
}

// Handler returns the HTTP handler (for tests with httptest).
func (s *Server) Handler() http.Handler { return s.echo }

// Open starts listening, so that a busy port fails at once, then serves in
// the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	if err := s.openPreview(); err != nil {
		ln.Close()
		return err
	}
	s.http = s.serve(ln, s.echo, "serve")
	s.log.Info("serving", "url", s.URL())
	return nil
}

// serve serves handler on ln in the background, with the timeouts and error
// log both listeners share, until Close shuts the returned server down.
func (s *Server) serve(ln net.Listener, handler http.Handler, what string) *http.Server {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error(what, "err", err)
		}
	}()
	return srv
}

// URL is the address the server listens on, as http://host:port.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(host, fmt.Sprint(addr.Port)))
}

// Close stops accepting connections, drains requests until ctx is done,
// then stops background work: the benchmark lab closes its WebSockets
// with 1001 going away and waits for them. The caller closes the store
// afterwards.
func (s *Server) Close(ctx context.Context) error {
	var err error
	if s.http != nil {
		err = s.http.Shutdown(ctx)
	}
	err = errors.Join(err, s.closePreview(ctx))
	s.cancel()
	s.wg.Wait()
	return err
}
