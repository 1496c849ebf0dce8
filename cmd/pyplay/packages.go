package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/pyplay/pyplay/server"
	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/server/packages"
	"github.com/pyplay/pyplay/static"
)

// packagesFlag is -packages (PYPLAY_PACKAGES): where Pyodide's packages
// come from, a directory or an https:// mirror. Empty means the data
// directory's packages/ when it exists (where `pyplay packages import`
// writes), so `make run` serves imported packages with no flag.
type packagesFlag struct {
	Value string
}

func (f *packagesFlag) register(fs *flag.FlagSet) error {
	return registerEnvFlags(fs, []envFlag{
		{&f.Value, "packages", "PYPLAY_PACKAGES", "Pyodide packages: a directory holding a Pyodide distribution of the runtime's version " +
			"(pyodide-lock.json and the wheels), or the https:// base URL of a mirror of one; default: the data directory's packages/ when it exists"},
	})
}

// source is the flag's value, or the default directory beside the
// database.
func (f *packagesFlag) source(db string) (packages.Source, error) {
	if strings.TrimSpace(f.Value) != "" {
		src, err := packages.ParseSource(f.Value)
		if err != nil {
			return src, fmt.Errorf("-packages: %w", err)
		}
		return src, nil
	}
	return packages.Source{Dir: defaultPackagesDir(db)}, nil
}

// dataDir is where pyplay keeps its data: the SQLite database's directory,
// or ./data with PostgreSQL.
func dataDir(db string) string {
	if path, ok := strings.CutPrefix(db, "sqlite:"); ok {
		path = strings.TrimPrefix(path, "//")
		if path != "" {
			return filepath.Dir(path)
		}
	}
	return "data"
}

func defaultPackagesDir(db string) string { return filepath.Join(dataDir(db), "packages") }

// runPackages is `pyplay packages import`.
func runPackages(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(stderr, "usage: pyplay packages import [-only numpy,matplotlib] [-packages DIR] ARCHIVE|DIR")
		return errors.New("packages: want the subcommand import")
	}
	fs := flag.NewFlagSet("packages import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var db storeFlag
	var dest packagesFlag
	var only string
	if err := db.register(fs); err != nil {
		return err
	}
	if err := dest.register(fs); err != nil {
		return err
	}
	fs.StringVar(&only, "only", "", "comma-separated packages to import (as named in pyodide-lock.json), with their dependencies; default: all")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: pyplay packages import [flags] ARCHIVE|DIR\n\n"+
			"Copies the packages of a Pyodide release archive (pyodide-<version>.tar.bz2) or of a directory holding\n"+
			"pyodide-lock.json and the wheels into -packages (default: the data directory's packages/), checking\n"+
			"each file's sha256; serve then serves them.\n\n")
		fs.PrintDefaults()
	}
	// Flags may follow the archive, as people type them.
	var positional []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(positional) != 1 {
		fs.Usage()
		return errors.New("packages import: want one release archive or directory")
	}
	src, err := dest.source(db.DSN)
	if err != nil {
		return err
	}
	if src.URL != nil {
		return errors.New("packages import: -packages is a URL; import writes to a directory")
	}
	rtLock, version, err := runtimeLock()
	if err != nil {
		return err
	}
	var names []string
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	log := newLogger(stderr, "info", false)
	start := time.Now()
	res, err := packages.Import(packages.ImportOptions{
		Source: positional[0], Dest: src.Dir, Only: names, Runtime: rtLock, Version: version,
		Progress: func(name string, n int64) { log.Debug("copied", "file", name, "bytes", n) },
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d files (%.1f MB) into %s in %s; it now holds %d packages\n",
		len(res.Copied), float64(res.Bytes)/1e6, src.Dir, time.Since(start).Round(time.Millisecond), res.Total)
	if res.Skipped > 0 {
		fmt.Fprintf(stdout, "%d packages of the lock file had no file in %s and were left out\n", res.Skipped, positional[0])
	}
	return nil
}

// runtimeLock is the built Pyodide's lock file and version, from the
// embedded front end.
func runtimeLock() ([]byte, string, error) {
	fsys := static.Embedded()
	data, err := fs.ReadFile(fsys, "dist/manifest.json")
	if err != nil {
		return nil, "", server.ErrNotBuilt
	}
	var m frontend.Manifest
	if err := json.Unmarshal(data, &m); err != nil || m.Runtimes["pyodide"] == nil {
		return nil, "", server.ErrNotBuilt
	}
	info := m.Runtimes["pyodide"]
	lock, err := fs.ReadFile(fsys, "dist"+info.Base+packages.LockFile)
	if err != nil {
		return nil, "", fmt.Errorf("packages: the built Pyodide has no lock file (%w); run `make build`", err)
	}
	return lock, info.Version, nil
}
