// Package packages is pyplay's self-hosted Pyodide package distribution:
// Pyodide's lock file (pyodide-lock.json, which names every package, its
// wheel, sha256, imports and dependencies), a directory of wheels checked
// against it at start and served from the playground's own origin with the
// lock merged into the runtime's, an https:// mirror as the alternative,
// and `pyplay packages import`, which copies a release archive's packages
// (or a subset with their dependencies) into a directory, verified.
package packages

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// LockFile is the lock file's name in a distribution and a release archive.
const LockFile = "pyodide-lock.json"

// maxLockBytes bounds a lock file read into memory (the full distribution's
// is about 120 KB).
const maxLockBytes = 64 << 20

// Info is a lock file's "info": what the packages were built for. Wheels
// built for another ABI or Python do not load.
type Info struct {
	ABIVersion string `json:"abi_version"`
	Arch       string `json:"arch"`
	Platform   string `json:"platform"`
	Python     string `json:"python"`
	// Version is the Pyodide version; optional (Pyodide calls it
	// informational), checked when present.
	Version string `json:"version,omitempty"`
}

// Package is one entry of a lock file: the fields pyplay reads. The entry
// is written back as it was read (raw), with the fields pyplay does not
// know.
type Package struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	FileName    string   `json:"file_name"`
	PackageType string   `json:"package_type"`
	InstallDir  string   `json:"install_dir"`
	SHA256      string   `json:"sha256"`
	Imports     []string `json:"imports"`
	Depends     []string `json:"depends"`

	raw json.RawMessage
}

// Lock is a parsed lock file.
type Lock struct {
	Info     Info
	Packages map[string]*Package // by normalized name (the lock's keys)

	rawInfo json.RawMessage
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseLock reads a lock file and checks what pyplay relies on: an info
// section, and for each package a plain file name (a file of the
// distribution's directory, never a path or a URL), a sha256, a known
// install directory, and dependencies that the lock itself lists unless
// partial (a lock of a few wheels whose dependencies come from the
// runtime's lock).
func ParseLock(data []byte) (*Lock, error) {
	if len(data) > maxLockBytes {
		return nil, fmt.Errorf("lock file is %d bytes; more than %d MiB is not a lock file", len(data), maxLockBytes>>20)
	}
	var doc struct {
		Info     json.RawMessage            `json:"info"`
		Packages map[string]json.RawMessage `json:"packages"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a lock file: %w", err)
	}
	if len(doc.Info) == 0 || string(doc.Info) == "null" {
		return nil, errors.New(`not a lock file: no "info"`)
	}
	if doc.Packages == nil {
		return nil, errors.New(`not a lock file: no "packages"`)
	}
	l := &Lock{Packages: make(map[string]*Package, len(doc.Packages)), rawInfo: doc.Info}
	if err := json.Unmarshal(doc.Info, &l.Info); err != nil {
		return nil, fmt.Errorf(`lock file "info": %w`, err)
	}
	if l.Info.ABIVersion == "" || l.Info.Python == "" {
		return nil, errors.New(`lock file "info" names no abi_version or python`)
	}
	for key, raw := range doc.Packages {
		var p Package
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("lock file package %q: %w", key, err)
		}
		if key == "" || Normalize(key) != key {
			return nil, fmt.Errorf("lock file package %q: the key is not a normalized name (%q)", key, Normalize(key))
		}
		if err := checkFileName(p.FileName); err != nil {
			return nil, fmt.Errorf("lock file package %q: %w", key, err)
		}
		if !sha256Hex.MatchString(p.SHA256) {
			return nil, fmt.Errorf("lock file package %q: sha256 %q is not 64 lowercase hex digits", key, p.SHA256)
		}
		if p.InstallDir != "site" && p.InstallDir != "dynlib" {
			return nil, fmt.Errorf("lock file package %q: install_dir %q is neither site nor dynlib", key, p.InstallDir)
		}
		p.raw = slices.Clone(raw)
		l.Packages[key] = &p
	}
	return l, nil
}

// checkFileName accepts the name of a file in the distribution's
// directory: no directories, no URL (a lock served from pyplay's origin
// must not send the browser elsewhere), nothing hidden.
func checkFileName(name string) error {
	switch {
	case name == "":
		return errors.New("no file_name")
	case strings.ContainsAny(name, `/\:`) || strings.HasPrefix(name, ".") || strings.ContainsRune(name, 0):
		return fmt.Errorf("file_name %q is not a plain file name (no directories, URLs or hidden files)", name)
	}
	return nil
}

// Normalize is a package name as lock files key it (PEP 503): lower case,
// runs of '-', '_' and '.' as one '-'.
func Normalize(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		if r == '-' || r == '_' || r == '.' {
			dash = true
			continue
		}
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteRune(r)
	}
	return b.String()
}

// Compatible says why packages of lock l cannot run on the runtime whose
// lock is rt and whose Pyodide version is version, or nil.
func (l *Lock) Compatible(rt *Lock, version string) error {
	if l.Info.Version != "" && version != "" && l.Info.Version != version {
		return fmt.Errorf("the lock file is for Pyodide %s, but this pyplay runs Pyodide %s: use the distribution of Pyodide %s", l.Info.Version, version, version)
	}
	if l.Info.ABIVersion != rt.Info.ABIVersion || majorMinor(l.Info.Python) != majorMinor(rt.Info.Python) ||
		(l.Info.Platform != "" && rt.Info.Platform != "" && l.Info.Platform != rt.Info.Platform) {
		return fmt.Errorf("the lock file is for Python %s (ABI %s, %s), but this pyplay runs Pyodide %s with Python %s (ABI %s, %s): use the distribution of Pyodide %s",
			l.Info.Python, l.Info.ABIVersion, l.Info.Platform, version, rt.Info.Python, rt.Info.ABIVersion, rt.Info.Platform, version)
	}
	return nil
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// Merge returns a lock with base's info and packages, overlaid with
// over's packages (the same name: over's entry wins).
func Merge(base, over *Lock) *Lock {
	out := &Lock{Info: base.Info, rawInfo: base.rawInfo, Packages: maps.Clone(base.Packages)}
	maps.Copy(out.Packages, over.Packages)
	return out
}

// Restrict returns a lock with l's info and only the named packages.
func (l *Lock) Restrict(names []string) *Lock {
	out := &Lock{Info: l.Info, rawInfo: l.rawInfo, Packages: map[string]*Package{}}
	for _, n := range names {
		if p, ok := l.Packages[n]; ok {
			out.Packages[n] = p
		}
	}
	return out
}

// MissingDependencies lists "package → dependency" for each dependency the
// lock does not list.
func (l *Lock) MissingDependencies() []string {
	var out []string
	for key, p := range l.Packages {
		for _, d := range p.Depends {
			if _, ok := l.Packages[Normalize(d)]; !ok {
				out = append(out, key+" → "+d)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Closure returns the named packages and everything they depend on,
// sorted; a name the lock does not know is an error that says so.
func (l *Lock) Closure(names []string) ([]string, error) {
	seen := map[string]bool{}
	var unknown []string
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		p, ok := l.Packages[n]
		if !ok {
			unknown = append(unknown, n)
			return
		}
		seen[n] = true
		for _, d := range p.Depends {
			visit(Normalize(d))
		}
	}
	for _, n := range names {
		visit(Normalize(n))
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown package %s: the lock file lists no such package (names are as in pyodide-lock.json, e.g. numpy, matplotlib)", strings.Join(unknown, ", "))
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// MarshalJSON writes the lock with every entry as it was read.
func (l *Lock) MarshalJSON() ([]byte, error) {
	pk := make(map[string]json.RawMessage, len(l.Packages))
	for k, p := range l.Packages {
		raw := p.raw
		if raw == nil {
			var err error
			if raw, err = json.Marshal(p); err != nil {
				return nil, err
			}
		}
		pk[k] = raw
	}
	info := l.rawInfo
	if info == nil {
		var err error
		if info, err = json.Marshal(l.Info); err != nil {
			return nil, err
		}
	}
	return json.Marshal(struct {
		Info     json.RawMessage            `json:"info"`
		Packages map[string]json.RawMessage `json:"packages"`
	}{info, pk})
}

// sumHex is a sha256 as lock files write it.
func sumHex(sum []byte) string { return hex.EncodeToString(sum) }
