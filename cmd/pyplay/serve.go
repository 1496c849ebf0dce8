package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/pyplay/pyplay/server"
	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/snippets/storage"
)

// Main is the `serve` program: ParseFlags, Run, Close. End-to-end tests
// reuse it on port 0.
type Main struct {
	Addr     string
	DB       string
	Dev      bool
	Root     string
	LogLevel string
	LogJSON  bool
	// PreviewAddr and PreviewURL place PyScript previews on their own origin.
	PreviewAddr  string
	PreviewURL   string
	snippetFlags // -max-code, -rate, -burst, -trusted-proxies; the store (snippets.go)
	wsFlags      // -ws-origins (wsflags.go)

	stdout, stderr io.Writer
	log            *slog.Logger
	srv            *server.Server
}

// NewMain returns a Main with defaults (environment variables applied by
// ParseFlags).
func NewMain(stdout, stderr io.Writer) *Main { return &Main{stdout: stdout, stderr: stderr} }

// ParseFlags reads flags, falling back to PYPLAY_* environment variables.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	fs.StringVar(&m.Addr, "addr", envDefault("PYPLAY_ADDR", ":8080"), "listen address (PYPLAY_ADDR)")
	fs.StringVar(&m.DB, "db", envDefault("PYPLAY_DB", storage.DefaultDSN), "database: sqlite:PATH or postgres://… (PYPLAY_DB)")
	fs.BoolVar(&m.Dev, "dev", envDefault("PYPLAY_DEV", "") == "1", "rebuild the front end on change and serve it from disk (PYPLAY_DEV=1)")
	fs.StringVar(&m.Root, "root", envDefault("PYPLAY_ROOT", "."), "source tree for -dev (PYPLAY_ROOT)")
	fs.StringVar(&m.LogLevel, "log-level", envDefault("PYPLAY_LOG_LEVEL", "info"), "debug, info, warn or error (PYPLAY_LOG_LEVEL)")
	fs.StringVar(&m.PreviewAddr, "preview-addr", envDefault("PYPLAY_PREVIEW_ADDR", ""), "listen address for PyScript previews, a second origin; default: -addr's port + 1 (PYPLAY_PREVIEW_ADDR)")
	fs.StringVar(&m.PreviewURL, "preview-url", envDefault("PYPLAY_PREVIEW_URL", ""), "public origin of the previews behind a proxy, e.g. https://preview.example.com (PYPLAY_PREVIEW_URL)")
	fs.BoolVar(&m.LogJSON, "log-json", envDefault("PYPLAY_LOG_JSON", "") == "1", "log as JSON lines (PYPLAY_LOG_JSON=1)")
	if err := m.snippetFlags.register(fs); err != nil {
		return err
	}
	if err := m.wsFlags.register(fs); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// Run opens the store and starts serving; it returns once the listener is
// open.
func (m *Main) Run(ctx context.Context) error {
	m.log = newLogger(m.stderr, m.LogLevel, m.LogJSON)
	ws, err := m.wsFlags.config()
	if err != nil {
		return err
	}
	store, err := openStore(ctx, m.DB, m.log)
	if err != nil {
		return err
	}
	m.store = store
	srv, err := server.New(server.Config{
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
	})
	if err != nil {
		store.Close()
		return err
	}
	if err := srv.Open(); err != nil {
		store.Close()
		return err
	}
	m.srv = srv
	return nil
}

// URL is where the server listens.
func (m *Main) URL() string { return m.srv.URL() }

// Close shuts down in order: stop accepting, drain HTTP (10 s at most),
// stop background work, close the store.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if m.srv != nil {
		err = m.srv.Close(ctx)
	}
	if m.store != nil {
		err = errors.Join(err, m.store.Close())
	}
	m.log.Info("stopped")
	return err
}

func runBuild(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", envDefault("PYPLAY_ROOT", "."), "source tree holding web/, static/ and node_modules/")
	minify := fs.Bool("minify", true, "minify the bundles")
	compress := fs.Bool("compress", true, "write .br and .gz beside each file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := newLogger(stderr, "info", false)
	start := time.Now()
	man, err := frontend.Build(frontend.BuildOptions{Root: *root, Minify: *minify, Compress: *compress, Logger: log})
	if err != nil {
		return err
	}
	log.Info("built front end", "build", man.Build, "entries", len(man.Entries), "duration", time.Since(start).Round(time.Millisecond))
	return nil
}
