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
	"cmp"
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
	"github.com/pyplay/pyplay/server/packages"
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
	// SlowClientTimeout is how long a request body or a response (WebSockets
	// aside) may take to move each 32 KiB before the connection is cut, so
	// that a client that stalls cannot hold a handler (slowclients.go); 0
	// means DefaultSlowClientTimeout.
	SlowClientTimeout time.Duration
	// MaxHeaderBytes bounds a request's header (Go answers 431 above it,
	// with 4 KiB of slack); 0 means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// MaxConnsPerClient and MaxConns bound the connections open on the
	// playground and preview listeners from one client address (an IPv4
	// address or IPv6 /64; trusted proxies are not counted) and in all
	// (conns.go); 0 means DefaultMaxConnsPerClient and DefaultMaxConns,
	// negative no limit.
	MaxConnsPerClient int
	MaxConns          int
	// MinFreeDisk is the free space below which a store with a local data
	// directory (SQLite) takes no new data: writes get 503 and /healthz
	// says "disk low" (storage_guard.go); 0 means DefaultMinFreeDisk,
	// negative no floor.
	MinFreeDisk int64
	// BenchDailyBytesPerClient bounds the benchmark data (runs and samples,
	// counted as the store spends on them) one client may store through
	// /ws in a day; 0 means DefaultBenchDailyBytesPerClient, negative no
	// quota. BenchRunsPerMinute bounds the new runs one client may start
	// per minute, in bursts of as many; 0 means DefaultBenchRunsPerMinute,
	// negative no limit (bench_guard.go).
	BenchDailyBytesPerClient int64
	BenchRunsPerMinute       int
	// MetricsAddr is where Prometheus metrics are served (GET /metrics),
	// never on the playground's origin (metrics_listener.go). Empty means
	// loopback on Addr's port plus two (127.0.0.1:8082 for :8080; port 0
	// stays 0); MetricsOff serves none.
	MetricsAddr string
	// EmbedOrigins are the origins (scheme://host[:port]) whose pages may
	// frame /embed/{id}; empty means any site's.
	EmbedOrigins []string
	// Packages is where Pyodide's packages come from (-packages): a
	// directory served from this origin, or a mirror's URL (packages.go).
	Packages packages.Source
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

	// metricsLn and metricsHTTP serve /metrics (metrics_listener.go).
	metricsLn   net.Listener
	metricsHTTP *http.Server
	// storeDown is what /healthz last found, so that it logs changes only.
	storeDown atomic.Bool
	conns     *connLimiter  // both public listeners' connections (conns.go)
	storage   *storageGuard // disk space and full-disk failures (storage_guard.go)
	// dist and pkgInfo are the Pyodide packages (packages.go).
	dist    *packages.Distribution
	pkgInfo atomic.Pointer[frontend.Packages]
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
	s.conns = newConnLimiter(cfg, s.metrics.registry)
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
	if err := s.openPackages(); err != nil {
		cancel()
		return nil, err
	}
	s.snippets = newSnippetAPI(s)
	s.startStorageGuard()
	var abLimit echo.MiddlewareFunc
	if opt := cfg.Snippets; opt.CreatesPerMinute > 0 {
		// A bucket of its own: the editor shares B's code (a snippet)
		// and then creates the A/B benchmark, and neither should use up
		// the other's allowance.
		abLimit = limitPerClient(newClientLimiter(opt.CreatesPerMinute/60, opt.CreateBurst), "new A/B benchmarks", nil)
	}
	lab, err := bench.New(bench.Config{
		Store: cfg.Store, Logger: s.log, Metrics: s.metrics.registry, WS: cfg.WS,
		Snippet: s.snippets.lookup, Render: s.render, Manifest: s.manifest.Load, CreateLimit: abLimit,
		Guard: s.newLabGuard(),
		WasmManifest: func() []byte {
			b, _ := fs.ReadFile(s.static, "dist/wasm/manifest.json")
			return b
		},
		Preview: func() (string, string) {
			c := s.pyscriptConfig(nil)
			return c.Preview, c.PreviewPort
		},
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
	s.manifest.Store(s.withPackages(&m))
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
			s.manifest.Store(s.withPackages(m))
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
func (s *Server) Handler() http.Handler { return s.guard(s.echo) }

// Open starts listening, so that a busy port fails at once, then serves in
// the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = s.conns.listen(ln)
	if err := s.openPreview(); err != nil {
		ln.Close()
		return err
	}
	if err := s.openMetrics(); err != nil {
		ln.Close()
		s.closePreview(context.Background())
		return err
	}
	s.http = s.serve(s.ln, s.Handler(), "serve")
	s.log.Info("serving", "url", s.URL())
	return nil
}

// serve serves handler on ln in the background, with the timeouts and error
// log both listeners share, until Close shuts the returned server down.
func (s *Server) serve(ln net.Listener, handler http.Handler, what string) *http.Server {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    cmp.Or(s.cfg.MaxHeaderBytes, DefaultMaxHeaderBytes),
		IdleTimeout:       120 * time.Second,
		ConnState:         clearWriteDeadline,
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

// Close tells WebSocket clients to go (1001 going away: HTTP draining
// does not wait for them, and they should not wait for it), stops
// accepting connections, drains requests until ctx is done, cuts the
// connections of clients that are still not done (see shutdown), then
// stops background work and waits for it, the WebSockets' handlers
// included. The caller closes the store afterwards.
func (s *Server) Close(ctx context.Context) error {
	s.lab.GoAway()
	err := errors.Join(s.shutdown(ctx, s.http, "serve"), s.closePreview(ctx),
		s.shutdown(ctx, s.metricsHTTP, "serve metrics"))
	s.cancel()
	s.wg.Wait()
	return err
}
