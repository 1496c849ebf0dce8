package packages

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// PathPrefix is where a directory distribution is served, beside the
// runtimes' own files (/runtime/pyodide/<version>/): the full path is
// PathPrefix + "<Pyodide version>/<hash of the merged lock>/<file>", so that
// every file can be cached as immutable (another distribution, or another
// runtime, gives other URLs).
const PathPrefix = "/runtime/pyodide-packages/"

// Source is where packages come from: a directory or a mirror's base URL
// (exactly one), as -packages names it.
type Source struct {
	Dir string
	URL *url.URL // https, ending in "/"
	// Explicit is false for the default directory (<data dir>/packages),
	// which may be missing.
	Explicit bool
}

// ParseSource reads -packages: an https:// URL (a mirror of Pyodide's
// distribution of the same version), or a directory.
func ParseSource(s string) (Source, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Source{}, nil
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return Source{}, fmt.Errorf("%q is not an https:// base URL of a Pyodide distribution (like https://mirror.example.com/pyodide/314.0.7/full/) nor a directory", s)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		return Source{URL: u, Explicit: true}, nil
	}
	return Source{Dir: s, Explicit: true}, nil
}

// Origin is the mirror's origin (scheme://host), for the CSP; "" for a
// directory.
func (s Source) Origin() string {
	if s.URL == nil {
		return ""
	}
	return s.URL.Scheme + "://" + s.URL.Host
}

// Distribution is a directory of a Pyodide distribution, checked and ready
// to serve.
type Distribution struct {
	dir     string
	version string
	hash    string
	lock    []byte // the merged lock file
	lockGz  []byte
	files   map[string]*Package // file_name → its package, for files present in dir
	listed  map[string]*Package // every file_name of the merged lock
	Present int                 // packages whose file is there
	Listed  int                 // packages the merged lock lists
}

// Open checks the distribution in dir against the runtime's lock (rtLock,
// of Pyodide version): its lock file must be for the same Pyodide, and
// every file it lists that is present must match its sha256 (a mismatch is
// an error naming the file; absent files are allowed and fail when
// imported). The served lock is the runtime's merged with dir's.
func Open(dir string, rtLock []byte, version string) (*Distribution, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("packages: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("packages: %s is not a directory", dir)
	}
	rt, err := ParseLock(rtLock)
	if err != nil {
		return nil, fmt.Errorf("packages: the runtime's %s: %w", LockFile, err)
	}
	lockPath := filepath.Join(dir, LockFile)
	data, err := readLimited(lockPath)
	if err != nil {
		return nil, fmt.Errorf("packages: %s holds no Pyodide distribution: %w", dir, err)
	}
	own, err := ParseLock(data)
	if err != nil {
		return nil, fmt.Errorf("packages: %s: %w", lockPath, err)
	}
	if err := own.Compatible(rt, version); err != nil {
		return nil, fmt.Errorf("packages: %s: %w", lockPath, err)
	}
	merged := Merge(rt, own)
	if missing := merged.MissingDependencies(); len(missing) > 0 {
		return nil, fmt.Errorf("packages: %s: dependencies no lock file lists: %s", lockPath, strings.Join(missing, ", "))
	}
	d := &Distribution{dir: dir, version: version, files: map[string]*Package{}, listed: map[string]*Package{}, Listed: len(merged.Packages)}
	for _, p := range merged.Packages {
		d.listed[p.FileName] = p
	}
	if err := d.verify(); err != nil {
		return nil, err
	}
	d.Present = len(d.files)
	if d.lock, err = merged.MarshalJSON(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(d.lock)
	d.hash = sumHex(sum[:6])
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(d.lock)
	zw.Close()
	d.lockGz = gz.Bytes()
	return d, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxLockBytes+1))
}

// verify hashes every listed file that is present, on all cores.
func (d *Distribution) verify() error {
	names := make([]string, 0, len(d.listed))
	for name := range d.listed {
		names = append(names, name)
	}
	slices.Sort(names)
	type result struct {
		name    string
		present bool
		err     error
	}
	results := make([]result, len(names))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				present, err := checkFile(filepath.Join(d.dir, names[i]), d.listed[names[i]].SHA256)
				results[i] = result{names[i], present, err}
			}
		})
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
		} else if r.present {
			d.files[r.name] = d.listed[r.name]
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("packages: %s: %w", d.dir, errors.Join(errs...))
	}
	return nil
}

// checkFile reports whether path exists and, if so, whether its sha256 is
// want.
func checkFile(path, want string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false, fmt.Errorf("%s is not a regular file", filepath.Base(path))
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	if got := sumHex(h.Sum(nil)); got != want {
		return false, fmt.Errorf("%s does not match the lock file: its sha256 is %s, the lock file says %s", filepath.Base(path), got, want)
	}
	return true, nil
}

// Base is the URL path the distribution is served under, ending in "/".
func (d *Distribution) Base() string { return PathPrefix + d.version + "/" + d.hash + "/" }

// LockURL is the URL path of the merged lock file.
func (d *Distribution) LockURL() string { return d.Base() + LockFile }

// ErrNotListed is a file the distribution does not serve; ErrAbsent one the
// lock lists but the directory lacks.
var (
	ErrNotListed = errors.New("no such file")
	ErrAbsent    = errors.New("listed in the lock file but not in the server's -packages directory")
)

// File is a file to serve: the lock (from memory) or a package's file.
type File struct {
	Name string
	Body io.ReadSeeker
	Size int64
	// Gzip is set when Body is gzip-compressed (the lock file, for a
	// client that accepts gzip).
	Gzip bool
	// ContentType is the file's media type.
	ContentType string
	close       func() error
}

// Close releases the file.
func (f *File) Close() error {
	if f.close != nil {
		return f.close()
	}
	return nil
}

// Lookup finds rest, the path under PathPrefix (version/hash/file). The
// names are compared with the lock's, never joined onto the directory as
// given, so no path reaches outside it.
func (d *Distribution) Lookup(rest string, acceptGzip bool) (*File, error) {
	version, rest, ok1 := strings.Cut(rest, "/")
	hash, name, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || version != d.version || hash != d.hash {
		return nil, ErrNotListed
	}
	if name == LockFile {
		body := d.lock
		if acceptGzip {
			body = d.lockGz
		}
		return &File{Name: name, Body: bytes.NewReader(body), Size: int64(len(body)), Gzip: acceptGzip, ContentType: "application/json"}, nil
	}
	if _, ok := d.listed[name]; !ok {
		return nil, ErrNotListed
	}
	if _, ok := d.files[name]; !ok {
		return nil, fmt.Errorf("%s is %w", name, ErrAbsent)
	}
	f, err := os.Open(filepath.Join(d.dir, name))
	if err != nil {
		return nil, fmt.Errorf("%s is %w", name, ErrAbsent)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{Name: name, Body: f, Size: st.Size(), ContentType: "application/zip", close: f.Close}, nil
}
