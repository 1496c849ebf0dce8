// Package frontend builds pyplay's front end with esbuild's Go API: it
// bundles the TypeScript under web/, copies the runtimes (Pyodide, MicroPython, PyScript)
// out of node_modules unmodified, precompresses everything and writes
// static/dist/manifest.json, which says where each bundle and runtime
// landed. `pyplay build` calls Build; `pyplay serve -dev` calls Watch
// through the server, which renders its pages from the Manifest.
package frontend

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/evanw/esbuild/pkg/api"
)

// entryPoints are the front-end bundles: each is built from its source
// under web/ and written as dist/assets/<name>-<hash>.js (plus a .css file
// when it imports CSS). The names are the manifest's keys, which the page
// templates use, so a source file can move without a page changing.
var entryPoints = []struct{ Name, Source string }{
	{"boot", "editor/boot.ts"},
	{"main", "editor/main.ts"},
	{"editor", "editor/editor.ts"},
	{"worker", "runtime/worker.ts"},
	{"preview", "pyscript/preview.ts"},
	{"pyscript-bench", "pyscript/bench.ts"},
	{"baseline", "bench/baseline.ts"},
	{"dashboard", "dashboard/dashboard.ts"},
	{"suite", "bench/suite.ts"},
	{"embed", "editor/embed.ts"},
}

// runtimePackage says which files of an npm package are served unmodified
// under /runtime/<name>/<version>/.
type runtimePackage struct {
	Name    string // short name in URLs and the manifest
	Package string // npm package directory under node_modules
	Dir     string // directory inside the package holding the files
	Files   []string
	AllDir  bool // copy every file of Dir except source maps
}

var runtimePackages = []runtimePackage{
	{Name: "pyodide", Package: "pyodide", Files: []string{
		"pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json",
	}},
	{Name: "micropython", Package: "@micropython/micropython-webassembly-pyscript", Files: []string{
		"micropython.mjs", "micropython.wasm",
	}},
	{Name: "pyscript", Package: "@pyscript/core", Dir: "dist", AllDir: true},
}

// Manifest describes one build of the front end: where each bundle and
// runtime landed. The server renders pages from it; the page hands the
// runtime part to its worker.
type Manifest struct {
	// Build identifies this build (a hash over every output): caches in the
	// visitor's browser (memory snapshots) are keyed by it.
	Build    string                  `json:"build"`
	Entries  map[string]string       `json:"entries"` // "main" → "/assets/main-HASH.js", "main.css" → …
	Runtimes map[string]*RuntimeInfo `json:"runtimes"`
}

// RuntimeInfo locates one runtime's files.
type RuntimeInfo struct {
	Version string           `json:"version"`
	Base    string           `json:"base"`  // URL path ending in "/"
	Files   map[string]int64 `json:"files"` // file name → size in bytes (for download progress)
	// Packages is where Pyodide finds its packages; set by the server
	// (-packages), never by the build.
	Packages *Packages `json:"packages,omitempty"`
}

// Packages locates a Pyodide package distribution: the lock file the
// worker loads and the base URL its file names are relative to (the
// server's own path, or a mirror's https:// URL).
type Packages struct {
	Lock string `json:"lock"`
	Base string `json:"base"`
}

// BuildOptions configures Build.
type BuildOptions struct {
	Root     string // repository root holding web/, node_modules/ and static/
	Minify   bool
	Compress bool // write .br and .gz beside every compressible output
	Logger   *slog.Logger
	// RustC is the rustc that compiles the suite's Rust kernels to
	// WebAssembly (DefaultRustC when empty).
	RustC string
}

func (o *BuildOptions) normalize() error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	o.Root = root
	return nil
}

func (o BuildOptions) dist() string { return filepath.Join(o.Root, "static", "dist") }

// ErrNoNodeModules says the front-end packages are not installed.
var ErrNoNodeModules = errors.New("front-end packages are missing: run `npm ci` (or `make deps`)")

// Build bundles web/ with esbuild, copies the runtime files out of
// node_modules, precompresses everything and writes dist/manifest.json.
func Build(opts BuildOptions) (*Manifest, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	m := &Manifest{Entries: map[string]string{}, Runtimes: map[string]*RuntimeInfo{}}
	if err := copyRuntimes(opts, m); err != nil {
		return nil, err
	}
	if err := buildWasm(opts); err != nil {
		return nil, err
	}
	result := api.Build(esbuildOptions(opts))
	if err := buildErrors(result); err != nil {
		return nil, err
	}
	if err := finishBuild(opts, m, result); err != nil {
		return nil, err
	}
	return m, nil
}

func esbuildOptions(opts BuildOptions) api.BuildOptions {
	var entries []api.EntryPoint
	for _, e := range entryPoints {
		entries = append(entries, api.EntryPoint{InputPath: filepath.Join(opts.Root, "web", filepath.FromSlash(e.Source)), OutputPath: e.Name})
	}
	return api.BuildOptions{
		EntryPointsAdvanced: entries,
		Bundle:              true,
		Format:              api.FormatESModule,
		Target:              api.ES2022,
		Platform:            api.PlatformBrowser,
		Outdir:              filepath.Join(opts.dist(), "assets"),
		EntryNames:          "[name]-[hash]",
		AssetNames:          "[name]-[hash]",
		Sourcemap:           api.SourceMapLinked,
		MinifyWhitespace:    opts.Minify,
		MinifyIdentifiers:   opts.Minify,
		MinifySyntax:        opts.Minify,
		Metafile:            true,
		Write:               true,
		LogLevel:            api.LogLevelSilent,
		AbsWorkingDir:       opts.Root,
		// Python run in the browser (web/editor/formatter.py) is bundled as text.
		Loader: map[string]api.Loader{".py": api.LoaderText},
	}
}

func buildErrors(r api.BuildResult) error {
	if len(r.Errors) == 0 {
		return nil
	}
	msgs := api.FormatMessages(r.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
	return fmt.Errorf("build: esbuild failed:\n%s", strings.Join(msgs, ""))
}

// finishBuild records the bundles in the manifest, removes stale bundles,
// precompresses and writes the manifest.
func finishBuild(opts BuildOptions, m *Manifest, r api.BuildResult) error {
	var meta struct {
		Outputs map[string]struct {
			EntryPoint string `json:"entryPoint"`
			CSSBundle  string `json:"cssBundle"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(r.Metafile), &meta); err != nil {
		return fmt.Errorf("build: read esbuild metafile: %w", err)
	}
	// The metafile names entry points by their path relative to Root.
	names := map[string]string{}
	for _, e := range entryPoints {
		names[path.Join("web", e.Source)] = e.Name
	}
	keep := map[string]bool{}
	for out, o := range meta.Outputs {
		keep[filepath.Base(out)] = true
		if o.EntryPoint == "" {
			continue
		}
		name, ok := names[o.EntryPoint]
		if !ok {
			return fmt.Errorf("build: esbuild reports entry point %s, which is not one of entryPoints", o.EntryPoint)
		}
		m.Entries[name] = "/assets/" + path.Base(out)
		if o.CSSBundle != "" {
			m.Entries[name+".css"] = "/assets/" + path.Base(o.CSSBundle)
		}
	}
	// Old bundles would otherwise pile up in dist/ and in the binary.
	assets := filepath.Join(opts.dist(), "assets")
	old, _ := os.ReadDir(assets)
	for _, f := range old {
		base := strings.TrimSuffix(strings.TrimSuffix(f.Name(), ".br"), ".gz")
		if !keep[base] {
			os.Remove(filepath.Join(assets, f.Name()))
		}
	}
	if opts.Compress {
		if err := compressTree(opts.dist(), opts.Logger); err != nil {
			return err
		}
	}
	m.Build = buildID(m)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(opts.dist(), "manifest.json"), data, 0o644); err != nil {
		return fmt.Errorf("build: write manifest: %w", err)
	}
	return nil
}

// buildID hashes the manifest's contents: bundle names carry content hashes
// and runtime paths carry versions, so a change anywhere gives a new ID.
func buildID(m *Manifest) string {
	h := sha256.New()
	keys := make([]string, 0, len(m.Entries))
	for k := range m.Entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, m.Entries[k])
	}
	names := make([]string, 0, len(m.Runtimes))
	for k := range m.Runtimes {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(h, "%s@%s\n", k, m.Runtimes[k].Version)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func copyRuntimes(opts BuildOptions, m *Manifest) error {
	nm := filepath.Join(opts.Root, "node_modules")
	if _, err := os.Stat(nm); err != nil {
		return ErrNoNodeModules
	}
	for _, rp := range runtimePackages {
		pkgDir := filepath.Join(nm, filepath.FromSlash(rp.Package))
		var pj struct{ Version string }
		data, err := os.ReadFile(filepath.Join(pkgDir, "package.json"))
		if err != nil {
			return fmt.Errorf("build: %s: %w (%w)", rp.Package, err, ErrNoNodeModules)
		}
		if err := json.Unmarshal(data, &pj); err != nil || pj.Version == "" {
			return fmt.Errorf("build: %s/package.json has no version", rp.Package)
		}
		src := filepath.Join(pkgDir, rp.Dir)
		files := rp.Files
		if rp.AllDir {
			files = nil
			entries, err := os.ReadDir(src)
			if err != nil {
				return fmt.Errorf("build: %w", err)
			}
			for _, e := range entries {
				if !e.IsDir() && !strings.HasSuffix(e.Name(), ".map") {
					files = append(files, e.Name())
				}
			}
		}
		info := &RuntimeInfo{
			Version: pj.Version,
			Base:    "/runtime/" + rp.Name + "/" + pj.Version + "/",
			Files:   map[string]int64{},
		}
		dst := filepath.Join(opts.dist(), "runtime", rp.Name, pj.Version)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return fmt.Errorf("build: %w", err)
		}
		for _, f := range files {
			n, err := copyIfChanged(filepath.Join(src, f), filepath.Join(dst, f))
			if err != nil {
				return fmt.Errorf("build: copy %s: %w", f, err)
			}
			info.Files[f] = n
		}
		m.Runtimes[rp.Name] = info
	}
	return nil
}

// copyIfChanged copies src to dst unless dst already has src's size and is
// not older, and returns the size.
func copyIfChanged(src, dst string) (int64, error) {
	si, err := os.Stat(src)
	if err != nil {
		return 0, err
	}
	if di, err := os.Stat(dst); err == nil && di.Size() == si.Size() && !di.ModTime().Before(si.ModTime()) {
		return si.Size(), nil
	}
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return 0, err
	}
	if err := out.Close(); err != nil {
		return 0, err
	}
	return si.Size(), os.Rename(tmp, dst)
}

// compressible lists the extensions worth precompressing (wasm and the
// uncompressed stdlib zip shrink by 60–70%).
var compressible = map[string]bool{
	".js": true, ".mjs": true, ".css": true, ".wasm": true, ".json": true,
	".zip": true, ".html": true, ".svg": true, ".map": true, ".txt": true,
}

// compressTree writes name.br and name.gz beside every compressible file
// whose compressed copies are missing or older, using every core.
func compressTree(root string, log *slog.Logger) error {
	var todo []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !compressible[filepath.Ext(p)] {
			return err
		}
		todo = append(todo, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("build: compress: %w", err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, max(2, runtime.NumCPU()))
	)
	for _, p := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := compressFile(p, log); err != nil {
				mu.Lock()
				first = cmpErr(first, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func compressFile(p string, log *slog.Logger) error {
	si, err := os.Stat(p)
	if err != nil {
		return err
	}
	fresh := func(q string) bool {
		qi, err := os.Stat(q)
		return err == nil && !qi.ModTime().Before(si.ModTime())
	}
	if fresh(p+".br") && fresh(p+".gz") {
		return nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	// Brotli's top quality is very slow on multi-megabyte files; 9 keeps the
	// build quick and is within a few percent of it.
	quality := brotli.BestCompression
	if len(data) > 1<<20 {
		quality = 9
	}
	writers := map[string]func(io.Writer) io.WriteCloser{
		".br": func(w io.Writer) io.WriteCloser { return brotli.NewWriterLevel(w, quality) },
		".gz": func(w io.Writer) io.WriteCloser { z, _ := gzip.NewWriterLevel(w, gzip.BestCompression); return z },
	}
	for ext, mk := range writers {
		if err := writeCompressed(p+ext, data, mk); err != nil {
			return fmt.Errorf("build: compress %s: %w", p, err)
		}
	}
	log.Debug("compressed", "file", p, "bytes", len(data))
	return nil
}

func writeCompressed(dst string, data []byte, mk func(io.Writer) io.WriteCloser) error {
	tmp := dst + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := mk(f)
	if _, err := w.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}
