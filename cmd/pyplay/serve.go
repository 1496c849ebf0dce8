package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/pyplay/pyplay/server"
	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/snippets"
)

// runServe is `pyplay serve`: it serves until ctx is done (SIGINT or
// SIGTERM in main), then shuts down in order.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := NewMain(stdout, stderr)
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	if err := m.Run(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	return m.Close()
}

// shutdownTimeout bounds the drain of HTTP requests on shutdown: long
// enough for a share or a page, short enough for an orchestrator's grace
// period.
const shutdownTimeout = 10 * time.Second

// Main is the `serve` program: ParseFlags, Run, Close. End-to-end tests
// reuse it on port 0.
type Main struct {
	Addr     string
	Dev      bool
	Root     string
	LogLevel string
	LogJSON  bool
	// PreviewAddr and PreviewURL place PyScript previews on their own origin.
	PreviewAddr  string
	PreviewURL   string
	EmbedOrigins string       // -embed-origins: comma-separated, "*" or empty for any site
	DB           storeFlag    // -db (store.go)
	Packages     packagesFlag // -packages (packages.go)
	snippetFlags              // -max-code, -rate, -burst, -trusted-proxies
	wsFlags                   // -ws-origins, -ws-rate (wsflags.go)
	publicFlags               // limits for the open internet, -metrics-addr (publicflags.go)

	stdout, stderr io.Writer
	log            *slog.Logger
	srv            *server.Server
	store          snippets.Store
}

// NewMain returns a Main with defaults (environment variables applied by
// ParseFlags).
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{Addr: ":8080", Root: ".", LogLevel: "info", stdout: stdout, stderr: stderr}
}

// ParseFlags reads flags, falling back to PYPLAY_* environment variables.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	err := registerEnvFlags(fs, []envFlag{
		{&m.Addr, "addr", "PYPLAY_ADDR", "listen address"},
		{&m.Dev, "dev", "PYPLAY_DEV", "rebuild the front end on change and serve it from disk"},
		{&m.Root, "root", "PYPLAY_ROOT", "source tree for -dev"},
		{&m.LogLevel, "log-level", "PYPLAY_LOG_LEVEL", "debug, info, warn or error"},
		{&m.PreviewAddr, "preview-addr", "PYPLAY_PREVIEW_ADDR", "listen address for PyScript previews, a second origin; default: -addr's port + 1"},
		{&m.PreviewURL, "preview-url", "PYPLAY_PREVIEW_URL", "public origin of the previews behind a proxy, e.g. https://preview.example.com"},
		{&m.LogJSON, "log-json", "PYPLAY_LOG_JSON", "log as JSON lines"},
		{&m.EmbedOrigins, "embed-origins", "PYPLAY_EMBED_ORIGINS",
			"comma-separated origins whose pages may frame /embed/{id}, e.g. https://blog.example.com; empty or * for any site"},
	})
	if err != nil {
		return err
	}
	// The store, sharing and WebSocket flags are groups of their own: their
	// types check values and turn them into what the server takes.
	for _, register := range []func(*flag.FlagSet) error{m.DB.register, m.Packages.register, m.snippetFlags.register, m.wsFlags.register, m.publicFlags.register} {
		if err := register(fs); err != nil {
			return err
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// embedOrigins checks -embed-origins: the origins that may frame
// /embed/{id}, nil for any site.
func (m *Main) embedOrigins() ([]string, error) {
	if o := strings.TrimSpace(m.EmbedOrigins); o != "*" {
		return parseOrigins("embed-origins", o)
	}
	return nil, nil
}

// Run opens the store and starts serving; it returns once the listener is
// open, so that a busy port fails at once.
func (m *Main) Run(ctx context.Context) error {
	m.log = newLogger(m.stderr, m.LogLevel, m.LogJSON)
	ws, err := m.wsFlags.config()
	if err != nil {
		return err
	}
	embedOrigins, err := m.embedOrigins()
	if err != nil {
		return err
	}
	pkgs, err := m.Packages.source(m.DB.DSN)
	if err != nil {
		return err
	}
	start := time.Now()
	store, err := m.DB.open(ctx)
	if err != nil {
		return err
	}
	m.log.Info("store open", "db", describeDSN(m.DB.DSN), "duration", time.Since(start).Round(time.Millisecond))
	cfg := server.Config{
		Addr:           m.Addr,
		PreviewAddr:    m.PreviewAddr,
		PreviewURL:     m.PreviewURL,
		Dev:            m.Dev,
		Root:           m.Root,
		Logger:         m.log,
		Store:          store,
		Snippets:       m.snippetFlags.serverOptions(),
		TrustedProxies: m.TrustedProxies,
		WS:             ws,
		EmbedOrigins:   embedOrigins,
		Packages:       pkgs,
	}
	m.publicFlags.apply(&cfg)
	srv, err := server.New(cfg)
	if err == nil {
		err = srv.Open()
	}
	if err != nil {
		store.Close()
		return err
	}
	m.srv, m.store = srv, store
	return nil
}

// URL is where the server listens.
func (m *Main) URL() string { return m.srv.URL() }

// Close shuts down in order, logging each step (TestGracefulShutdown
// checks the order): stop accepting and drain HTTP (shutdownTimeout at
// most), stop the WebSocket hub and background work, close the store last
// because all of them may still write to it. A second Close does nothing.
func (m *Main) Close() error {
	if m.srv == nil && m.store == nil {
		return nil // closed already, or Run failed and cleaned up
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var err error
	if m.srv != nil {
		// server.Close does the first two steps: it returns once both
		// listeners are drained and its goroutines have ended.
		m.log.Info("shutdown: closing listeners, draining HTTP", "timeout", shutdownTimeout)
		err = m.srv.Close(ctx)
		m.log.Info("shutdown: HTTP drained, WebSocket hub and background work stopped")
		m.srv = nil
	}
	if m.store != nil {
		err = errors.Join(err, m.store.Close())
		m.log.Info("shutdown: store closed")
		m.store = nil
	}
	m.log.Info("stopped")
	return err
}

// Defaults of serve's sharing flags. A classroom behind one NAT address
// shares a bucket, hence a generous burst.
const (
	defaultCreatesPerMinute = 30
	defaultCreateBurst      = 20
	// maxMaxCode keeps -max-code sane: request bodies are read into memory.
	maxMaxCode = 16 << 20
)

// snippetFlags are serve's flags about sharing.
type snippetFlags struct {
	MaxCode        byteSize
	Rate           perMinute
	Burst          positiveInt
	TrustedProxies prefixList
}

func (f *snippetFlags) register(fs *flag.FlagSet) error {
	f.MaxCode = byteSize(snippets.DefaultLimits.MaxCode)
	f.Rate = defaultCreatesPerMinute
	f.Burst = defaultCreateBurst
	return registerEnvFlags(fs, []envFlag{
		{&f.MaxCode, "max-code", "PYPLAY_MAX_CODE", "largest snippet code accepted, in bytes (or with KiB/MiB)"},
		{&f.Rate, "rate", "PYPLAY_RATE", "snippets (and, counted apart, A/B benchmarks) one client (IPv4 address or IPv6 /64) may create per minute; 0 for no limit"},
		{&f.Burst, "burst", "PYPLAY_BURST", "snippets one client may share at once before -rate applies"},
		{&f.TrustedProxies, "trusted-proxies", "PYPLAY_TRUSTED_PROXIES",
			"comma-separated CIDRs (or addresses) of reverse proxies whose X-Forwarded-For / X-Real-IP name the client; empty: trust no header"},
	})
}

// serverOptions are the flags as the server takes them.
func (f *snippetFlags) serverOptions() server.SnippetOptions {
	return server.SnippetOptions{
		Limits:           snippets.Limits{MaxCode: int(f.MaxCode)},
		CreatesPerMinute: float64(f.Rate),
		CreateBurst:      int(f.Burst),
	}
}

// runBuild is `pyplay build`: it bundles the front end into static/dist,
// which go build then embeds.
func runBuild(_ context.Context, args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := frontend.BuildOptions{Root: ".", Minify: true, Compress: true}
	if err := registerEnvFlags(fs, []envFlag{{&opts.Root, "root", "PYPLAY_ROOT", "source tree holding web/, static/ and node_modules/"}}); err != nil {
		return err
	}
	fs.BoolVar(&opts.Minify, "minify", true, "minify the bundles")
	fs.BoolVar(&opts.Compress, "compress", true, "write .br and .gz beside each file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts.Logger = newLogger(stderr, "info", false)
	start := time.Now()
	man, err := frontend.Build(opts)
	if err != nil {
		return err
	}
	opts.Logger.Info("built front end", "build", man.Build, "entries", len(man.Entries), "duration", time.Since(start).Round(time.Millisecond))
	return nil
}
