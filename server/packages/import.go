package packages

import (
	"archive/tar"
	"compress/bzip2"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// ImportOptions configures Import.
type ImportOptions struct {
	// Source is a release archive (pyodide-<version>.tar.bz2, .tar.gz,
	// .tgz or .tar, holding pyodide/pyodide-lock.json and the packages'
	// files beside it) or a directory holding a lock file and the files.
	Source string
	// Dest is the distribution directory written (created if missing).
	Dest string
	// Only, when not empty, names the packages to copy; their dependencies
	// come too.
	Only []string
	// Runtime is the runtime's lock file and Version its Pyodide version:
	// the source must be for the same.
	Runtime []byte
	Version string
	// Progress, when set, hears of each file copied.
	Progress func(name string, bytes int64)
}

// ImportResult says what Import did.
type ImportResult struct {
	Copied  []string // file names copied
	Skipped int      // packages the lock lists whose files the source lacks (without Only)
	Bytes   int64
	Total   int // packages the destination's lock lists now
}

// Import copies packages from a release archive or a directory into
// opts.Dest, checking each file's sha256 against the source's lock file as
// it is copied, and writes Dest's lock file: what was copied, plus what
// Dest held before (so imports add up). With Only, the named packages and
// their dependencies are copied and every one of them must be in the
// source; without it, every package whose file the source has.
func Import(opts ImportOptions) (*ImportResult, error) {
	rt, err := ParseLock(opts.Runtime)
	if err != nil {
		return nil, fmt.Errorf("import: the runtime's %s: %w", LockFile, err)
	}
	src, err := openSource(opts.Source)
	if err != nil {
		return nil, err
	}
	data, err := src.lock()
	if err != nil {
		return nil, err
	}
	lock, err := ParseLock(data)
	if err != nil {
		return nil, fmt.Errorf("import: %s: %s: %w", opts.Source, LockFile, err)
	}
	if err := lock.Compatible(rt, opts.Version); err != nil {
		return nil, fmt.Errorf("import: %s: %w", opts.Source, err)
	}
	want := slices.Sorted(maps.Keys(lock.Packages))
	if len(opts.Only) > 0 {
		if want, err = lock.Closure(opts.Only); err != nil {
			return nil, fmt.Errorf("import: %s: %w", opts.Source, err)
		}
	}
	byFile := map[string]string{} // file name → package key
	for _, k := range want {
		byFile[lock.Packages[k].FileName] = k
	}
	if err := os.MkdirAll(opts.Dest, 0o755); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	var before *Lock
	destLock := filepath.Join(opts.Dest, LockFile)
	if data, err := readLimited(destLock); err == nil {
		if before, err = ParseLock(data); err != nil {
			return nil, fmt.Errorf("import: %s (from an earlier import): %w", destLock, err)
		}
		if err := before.Compatible(rt, opts.Version); err != nil {
			return nil, fmt.Errorf("import: %s (from an earlier import): %w", destLock, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("import: %w", err)
	}
	res := &ImportResult{}
	copied := map[string]bool{}
	err = src.each(func(name string, r io.Reader) error {
		key, ok := byFile[name]
		if !ok || copied[key] {
			return nil
		}
		n, err := copyChecked(r, filepath.Join(opts.Dest, name), lock.Packages[key].SHA256)
		if err != nil {
			return fmt.Errorf("import: %s: %w", opts.Source, err)
		}
		copied[key] = true
		res.Copied = append(res.Copied, name)
		res.Bytes += n
		if opts.Progress != nil {
			opts.Progress(name, n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, k := range want {
		if !copied[k] {
			missing = append(missing, lock.Packages[k].FileName)
		}
	}
	if len(opts.Only) > 0 && len(missing) > 0 {
		return nil, fmt.Errorf("import: %s lacks files of the packages asked for: %s", opts.Source, strings.Join(missing, ", "))
	}
	res.Skipped = len(missing)
	out := lock.Restrict(slices.Collect(maps.Keys(copied)))
	if before != nil {
		out = Merge(before, out)
	}
	res.Total = len(out.Packages)
	data, err = out.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := writeFile(destLock, data); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return res, nil
}

// copyChecked writes r to dst through a temporary file, renamed into place
// only when its sha256 is want.
func copyChecked(r io.Reader, dst, want string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".import-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", filepath.Base(dst), err)
	}
	if got := sumHex(h.Sum(nil)); got != want {
		return 0, fmt.Errorf("%s does not match its lock file: its sha256 is %s, the lock file says %s", filepath.Base(dst), got, want)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return 0, err
	}
	return n, os.Rename(tmp.Name(), dst)
}

func writeFile(dst string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".import-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// source is a release archive or a directory.
type source interface {
	lock() ([]byte, error)
	// each calls fn with every file beside the lock file.
	each(fn func(name string, r io.Reader) error) error
}

func openSource(p string) (source, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if st.IsDir() {
		return dirSource(p), nil
	}
	return archiveSource(p), nil
}

type dirSource string

func (d dirSource) lock() ([]byte, error) {
	data, err := readLimited(filepath.Join(string(d), LockFile))
	if err != nil {
		return nil, fmt.Errorf("import: %s holds no Pyodide distribution: %w", d, err)
	}
	return data, nil
}

func (d dirSource) each(fn func(string, io.Reader) error) error {
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == LockFile {
			continue
		}
		f, err := os.Open(filepath.Join(string(d), e.Name()))
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		err = fn(e.Name(), f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// archiveSource is a release archive: its files are under one top
// directory (pyodide/). It is read twice: for the lock file, then for the
// files the lock file selects.
type archiveSource string

// errFound ends a walk early.
var errFound = errors.New("found")

func (a archiveSource) lock() ([]byte, error) {
	var data []byte
	err := a.walk(func(name string, r io.Reader) error {
		if name != LockFile {
			return nil
		}
		var err error
		if data, err = io.ReadAll(io.LimitReader(r, maxLockBytes+1)); err != nil {
			return err
		}
		return errFound
	})
	if errors.Is(err, errFound) {
		return data, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("import: %s is not a Pyodide release archive: it holds no pyodide/%s", a, LockFile)
}

func (a archiveSource) each(fn func(string, io.Reader) error) error {
	return a.walk(func(name string, r io.Reader) error {
		if name == LockFile {
			return nil
		}
		return fn(name, r)
	})
}

// walk calls fn with each regular file directly in the archive's top
// directory, by its base name.
func (a archiveSource) walk(fn func(name string, r io.Reader) error) error {
	f, err := os.Open(string(a))
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	name := strings.ToLower(string(a))
	switch {
	case strings.HasSuffix(name, ".tar.bz2") || strings.HasSuffix(name, ".tbz2"):
		r = bzip2.NewReader(f)
	case strings.HasSuffix(name, ".tar.gz") || strings.HasSuffix(name, ".tgz"):
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("import: %s is not a gzip-compressed archive: %w", a, err)
		}
		defer zr.Close()
		r = zr
	case strings.HasSuffix(name, ".tar"):
	default:
		return fmt.Errorf("import: %s: want a release archive (pyodide-<version>.tar.bz2, .tar.gz or .tar) or a directory", a)
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("import: %s is not a readable release archive: %w", a, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		// pyodide/<file>: one directory deep, as in the release.
		clean := path.Clean(strings.TrimPrefix(h.Name, "./"))
		dir, base := path.Split(clean)
		if strings.Count(dir, "/") != 1 || checkFileName(base) != nil {
			continue
		}
		if err := fn(base, tr); err != nil {
			return err
		}
	}
}
