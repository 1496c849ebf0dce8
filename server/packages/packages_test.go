package packages

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const testVersion = "314.0.7"

var testInfo = map[string]string{"abi_version": "2026_0", "arch": "wasm32", "platform": "emscripten_5_0_3", "python": "3.14.2"}

type testPkg struct {
	name, file string
	body       []byte
	depends    []string
	sum        string // overrides the body's sha256
}

func entry(p testPkg) map[string]any {
	sum := sha256.Sum256(p.body)
	s := hex.EncodeToString(sum[:])
	if p.sum != "" {
		s = p.sum
	}
	return map[string]any{
		"name": p.name, "version": "1.0", "file_name": p.file, "package_type": "package", "install_dir": "site",
		"sha256": s, "imports": []string{strings.ReplaceAll(p.name, "-", "_")}, "depends": append([]string{}, p.depends...),
		"unvendored_tests": false,
	}
}

func lockJSON(t testing.TB, info map[string]string, pkgs ...testPkg) []byte {
	t.Helper()
	m := map[string]any{}
	for _, p := range pkgs {
		m[Normalize(p.name)] = entry(p)
	}
	data, err := json.Marshal(map[string]any{"info": info, "packages": m})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The runtime's lock: numpy (no file anywhere), as the npm package ships it.
func runtimeLock(t testing.TB) []byte {
	return lockJSON(t, testInfo, testPkg{name: "numpy", file: "numpy-2.4.6-cp314-cp314-pyemscripten_2026_0_wasm32.whl", body: []byte("numpy")})
}

var (
	pkgA = testPkg{name: "pyplaydemo-a", file: "pyplaydemo_a-1.0-py3-none-any.whl", body: []byte("wheel a")}
	pkgB = testPkg{name: "pyplaydemo-b", file: "pyplaydemo_b-1.0-py3-none-any.whl", body: []byte("wheel b"), depends: []string{"pyplaydemo_a", "numpy"}}
	pkgC = testPkg{name: "pyplaydemo-c", file: "pyplaydemo_c-1.0-py3-none-any.whl", body: []byte("wheel c")}
)

// writeDist writes a distribution directory with the packages' files
// (those in files) and a lock listing pkgs.
func writeDist(t testing.TB, pkgs []testPkg, files ...testPkg) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, LockFile), lockJSON(t, testInfo, pkgs...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		if err := os.WriteFile(filepath.Join(dir, p.file), p.body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestOpenMergesLocks(t *testing.T) {
	dir := writeDist(t, []testPkg{pkgA, pkgB}, pkgA, pkgB)
	d, err := Open(dir, runtimeLock(t), testVersion)
	if err != nil {
		t.Fatal(err)
	}
	if d.Present != 2 || d.Listed != 3 {
		t.Errorf("present %d listed %d, want 2 and 3", d.Present, d.Listed)
	}
	f, err := d.Lookup(strings.TrimPrefix(d.LockURL(), PathPrefix), false)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(f.Body)
	merged, err := ParseLock(body)
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range merged.Packages {
			if !yield(k) {
				return
			}
		}
	})
	if want := []string{"numpy", "pyplaydemo-a", "pyplaydemo-b"}; !slices.Equal(got, want) {
		t.Errorf("merged packages %v, want %v", got, want)
	}
	if merged.Info.ABIVersion != "2026_0" {
		t.Errorf("merged info %+v", merged.Info)
	}
	// Fields pyplay does not read survive.
	if !bytes.Contains(body, []byte(`"unvendored_tests":false`)) {
		t.Errorf("unknown fields lost: %s", body)
	}
	// Gzip for clients that take it.
	f, _ = d.Lookup(strings.TrimPrefix(d.LockURL(), PathPrefix), true)
	zr, err := gzip.NewReader(f.Body)
	if err != nil || !f.Gzip {
		t.Fatalf("gzip lock: %v", err)
	}
	unz, _ := io.ReadAll(zr)
	if !bytes.Equal(unz, body) {
		t.Error("gzip lock differs")
	}
}

func TestOpenSHA256MismatchNamesFile(t *testing.T) {
	bad := pkgA
	bad.body = []byte("tampered")
	dir := writeDist(t, []testPkg{pkgA}, bad)
	_, err := Open(dir, runtimeLock(t), testVersion)
	if err == nil || !strings.Contains(err.Error(), pkgA.file) || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("err = %v, want a sha256 mismatch naming %s", err, pkgA.file)
	}
}

func TestOpenAllowsAbsentFiles(t *testing.T) {
	dir := writeDist(t, []testPkg{pkgA, pkgB}, pkgB)
	d, err := Open(dir, runtimeLock(t), testVersion)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Lookup(testVersion+"/"+d.hash+"/"+pkgA.file, false)
	if !errors.Is(err, ErrAbsent) || !strings.Contains(err.Error(), pkgA.file) {
		t.Fatalf("absent file: %v", err)
	}
	f, err := d.Lookup(testVersion+"/"+d.hash+"/"+pkgB.file, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, _ := io.ReadAll(f.Body); string(b) != "wheel b" {
		t.Errorf("served %q", b)
	}
}

func TestOpenVersionMismatch(t *testing.T) {
	for name, info := range map[string]map[string]string{
		"abi":     {"abi_version": "2025_0", "arch": "wasm32", "platform": "emscripten_4_0_9", "python": "3.13.2"},
		"version": {"abi_version": "2026_0", "arch": "wasm32", "platform": "emscripten_5_0_3", "python": "3.14.2", "version": "0.29.0"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, LockFile), lockJSON(t, info, pkgA), 0o644)
			_, err := Open(dir, runtimeLock(t), testVersion)
			if err == nil || !strings.Contains(err.Error(), "this pyplay runs Pyodide 314.0.7") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestOpenRefusesMissingDependency(t *testing.T) {
	lonely := testPkg{name: "lonely", file: "lonely-1.0-py3-none-any.whl", body: []byte("x"), depends: []string{"nowhere"}}
	_, err := Open(writeDist(t, []testPkg{lonely}), runtimeLock(t), testVersion)
	if err == nil || !strings.Contains(err.Error(), "lonely → nowhere") {
		t.Fatalf("err = %v", err)
	}
}

func TestLookupRefusesTraversal(t *testing.T) {
	dir := writeDist(t, []testPkg{pkgA}, pkgA)
	secret := filepath.Join(filepath.Dir(dir), "secret.whl")
	os.WriteFile(secret, []byte("secret"), 0o644)
	t.Cleanup(func() { os.Remove(secret) })
	d, err := Open(dir, runtimeLock(t), testVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, rest := range []string{
		testVersion + "/" + d.hash + "/../secret.whl",
		testVersion + "/" + d.hash + "/..%2fsecret.whl",
		testVersion + "/" + d.hash + "/",
		testVersion + "/" + d.hash + "/" + LockFile + "/x",
		testVersion + "/" + d.hash + "/sub/" + pkgA.file,
		testVersion + "/000000000000/" + pkgA.file, // another distribution's hash
		"0.1/" + d.hash + "/" + pkgA.file,
		"",
	} {
		if _, err := d.Lookup(rest, false); !errors.Is(err, ErrNotListed) {
			t.Errorf("Lookup(%q) = %v, want ErrNotListed", rest, err)
		}
	}
}

func TestParseLockRefuses(t *testing.T) {
	good := entry(pkgA)
	for name, tc := range map[string]struct {
		mutate func(map[string]any)
		want   string
	}{
		"path":       {func(e map[string]any) { e["file_name"] = "../x.whl" }, "not a plain file name"},
		"url":        {func(e map[string]any) { e["file_name"] = "https://cdn.example/x.whl" }, "not a plain file name"},
		"sha":        {func(e map[string]any) { e["sha256"] = "abc" }, "64 lowercase hex"},
		"installdir": {func(e map[string]any) { e["install_dir"] = "/etc" }, "install_dir"},
	} {
		t.Run(name, func(t *testing.T) {
			e := map[string]any{}
			for k, v := range good {
				e[k] = v
			}
			tc.mutate(e)
			data, _ := json.Marshal(map[string]any{"info": testInfo, "packages": map[string]any{"pyplaydemo-a": e}})
			if _, err := ParseLock(data); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"packages":{}}`, `{"info":{"python":"3.14"},"packages":{}}`, `{"info":{"abi_version":"x","python":"3"}}`} {
		if _, err := ParseLock([]byte(bad)); err == nil {
			t.Errorf("ParseLock(%q) accepted", bad)
		}
	}
}

func TestClosure(t *testing.T) {
	l, err := ParseLock(lockJSON(t, testInfo, pkgA, pkgB, pkgC, testPkg{name: "numpy", file: "numpy.whl", body: []byte("n")}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.Closure([]string{"PyPlayDemo_B"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"numpy", "pyplaydemo-a", "pyplaydemo-b"}; !slices.Equal(got, want) {
		t.Errorf("closure %v, want %v", got, want)
	}
	if _, err := l.Closure([]string{"nosuch"}); err == nil || !strings.Contains(err.Error(), "unknown package nosuch") {
		t.Errorf("unknown: %v", err)
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"Foo_Bar": "foo-bar", "a.b--c": "a-b-c", "numpy": "numpy", "_x_": "x"} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSource(t *testing.T) {
	s, err := ParseSource("https://mirror.example.com/pyodide/full")
	if err != nil || s.URL.String() != "https://mirror.example.com/pyodide/full/" || s.Origin() != "https://mirror.example.com" {
		t.Fatalf("%+v %v", s, err)
	}
	for _, bad := range []string{"http://mirror.example.com/", "https://u:p@h/", "https:///x", "https://h/?q=1", "ftp://h/"} {
		if _, err := ParseSource(bad); err == nil {
			t.Errorf("ParseSource(%q) accepted", bad)
		}
	}
	if s, _ := ParseSource("./data/packages"); s.Dir != "./data/packages" || s.URL != nil {
		t.Errorf("dir: %+v", s)
	}
}

// ---- import -------------------------------------------------------------------

// releaseLock is the source's lock: the runtime's packages (numpy) and the demo ones.
func releaseFiles(t testing.TB) (lock []byte, files []testPkg) {
	numpy := testPkg{name: "numpy", file: "numpy-2.4.6-cp314-cp314-pyemscripten_2026_0_wasm32.whl", body: []byte("numpy")}
	files = []testPkg{numpy, pkgA, pkgB, pkgC}
	return lockJSON(t, testInfo, files...), files
}

// writeTar writes the release layout (pyodide/…) as a tar stream.
func writeTar(t testing.TB, w io.Writer, lock []byte, files []testPkg) {
	tw := tar.NewWriter(w)
	add := func(name string, body []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.WriteHeader(&tar.Header{Name: "pyodide/", Mode: 0o755, Typeflag: tar.TypeDir})
	// Files before the lock, as an archive may order them.
	for _, f := range files {
		add("pyodide/"+f.file, f.body)
	}
	add("pyodide/pyodide.asm.wasm", []byte("wasm"))
	add("pyodide/"+LockFile, lock)
	add("pyodide/sub/ignored.whl", []byte("nested"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func makeArchive(t *testing.T, kind string) string {
	lock, files := releaseFiles(t)
	dir := t.TempDir()
	var buf bytes.Buffer
	writeTar(t, &buf, lock, files)
	switch kind {
	case "tar.gz":
		p := filepath.Join(dir, "pyodide-314.0.7.tar.gz")
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(buf.Bytes())
		zw.Close()
		os.WriteFile(p, gz.Bytes(), 0o644)
		return p
	case "tar.bz2":
		if _, err := exec.LookPath("bzip2"); err != nil {
			t.Skip("no bzip2 command to make a .tar.bz2 with")
		}
		p := filepath.Join(dir, "pyodide-314.0.7.tar")
		os.WriteFile(p, buf.Bytes(), 0o644)
		if out, err := exec.Command("bzip2", p).CombinedOutput(); err != nil {
			t.Fatalf("bzip2: %v %s", err, out)
		}
		return p + ".bz2"
	case "dir":
		for _, f := range files {
			os.WriteFile(filepath.Join(dir, f.file), f.body, 0o644)
		}
		os.WriteFile(filepath.Join(dir, LockFile), lock, 0o644)
		return dir
	}
	t.Fatalf("kind %s", kind)
	return ""
}

func TestImport(t *testing.T) {
	for _, kind := range []string{"tar.bz2", "tar.gz", "dir"} {
		t.Run(kind, func(t *testing.T) {
			src := makeArchive(t, kind)
			dest := filepath.Join(t.TempDir(), "packages")
			res, err := Import(ImportOptions{Source: src, Dest: dest, Only: []string{"pyplaydemo_b"}, Runtime: runtimeLock(t), Version: testVersion})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(res.Copied)
			want := []string{"numpy-2.4.6-cp314-cp314-pyemscripten_2026_0_wasm32.whl", pkgA.file, pkgB.file}
			if !slices.Equal(res.Copied, want) {
				t.Errorf("copied %v, want %v (b and its dependencies)", res.Copied, want)
			}
			if _, err := os.Stat(filepath.Join(dest, pkgC.file)); err == nil {
				t.Error("copied a package not asked for")
			}
			// The lock lists what was copied, and the result serves.
			d, err := Open(dest, runtimeLock(t), testVersion)
			if err != nil {
				t.Fatal(err)
			}
			if d.Present != 3 {
				t.Errorf("present %d", d.Present)
			}
			data, _ := os.ReadFile(filepath.Join(dest, LockFile))
			l, _ := ParseLock(data)
			if len(l.Packages) != 3 || l.Packages["pyplaydemo-c"] != nil {
				t.Errorf("lock lists %d packages: %s", len(l.Packages), data)
			}
			// A second import adds up.
			if _, err := Import(ImportOptions{Source: src, Dest: dest, Only: []string{"pyplaydemo-c"}, Runtime: runtimeLock(t), Version: testVersion}); err != nil {
				t.Fatal(err)
			}
			data, _ = os.ReadFile(filepath.Join(dest, LockFile))
			if l, _ = ParseLock(data); len(l.Packages) != 4 {
				t.Errorf("after the second import the lock lists %d packages", len(l.Packages))
			}
		})
	}
}

func TestImportAll(t *testing.T) {
	src := makeArchive(t, "tar.gz")
	dest := t.TempDir()
	res, err := Import(ImportOptions{Source: src, Dest: dest, Runtime: runtimeLock(t), Version: testVersion})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Copied) != 4 || res.Total != 4 {
		t.Errorf("copied %v, total %d", res.Copied, res.Total)
	}
}

func TestImportErrors(t *testing.T) {
	rt := runtimeLock(t)
	t.Run("unknown package", func(t *testing.T) {
		_, err := Import(ImportOptions{Source: makeArchive(t, "dir"), Dest: t.TempDir(), Only: []string{"nosuch"}, Runtime: rt, Version: testVersion})
		if err == nil || !strings.Contains(err.Error(), "unknown package nosuch") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("version", func(t *testing.T) {
		src := t.TempDir()
		os.WriteFile(filepath.Join(src, LockFile), lockJSON(t, map[string]string{"abi_version": "2025_0", "python": "3.13.2"}, pkgA), 0o644)
		_, err := Import(ImportOptions{Source: src, Dest: t.TempDir(), Runtime: rt, Version: testVersion})
		if err == nil || !strings.Contains(err.Error(), "this pyplay runs Pyodide 314.0.7") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not an archive", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "pyodide-314.0.7.tar.bz2")
		os.WriteFile(p, []byte("this is not bzip2"), 0o644)
		_, err := Import(ImportOptions{Source: p, Dest: t.TempDir(), Runtime: rt, Version: testVersion})
		if err == nil || !strings.Contains(err.Error(), "not a readable release archive") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no lock in archive", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.tar")
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "pyodide/a.whl", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
		tw.Write([]byte("a"))
		tw.Close()
		os.WriteFile(p, buf.Bytes(), 0o644)
		_, err := Import(ImportOptions{Source: p, Dest: t.TempDir(), Runtime: rt, Version: testVersion})
		if err == nil || !strings.Contains(err.Error(), "not a Pyodide release archive") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("sha256", func(t *testing.T) {
		src := makeArchive(t, "dir")
		os.WriteFile(filepath.Join(src, pkgA.file), []byte("tampered"), 0o644)
		dest := t.TempDir()
		_, err := Import(ImportOptions{Source: src, Dest: dest, Only: []string{"pyplaydemo-a"}, Runtime: rt, Version: testVersion})
		if err == nil || !strings.Contains(err.Error(), pkgA.file) {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(filepath.Join(dest, pkgA.file)); err == nil {
			t.Error("a file that does not match was kept")
		}
	})
	t.Run("missing file", func(t *testing.T) {
		src := makeArchive(t, "dir")
		os.Remove(filepath.Join(src, pkgA.file))
		_, err := Import(ImportOptions{Source: src, Dest: t.TempDir(), Only: []string{"pyplaydemo-b"}, Runtime: rt, Version: testVersion})
		if err == nil || !strings.Contains(err.Error(), "lacks files") || !strings.Contains(err.Error(), pkgA.file) {
			t.Fatalf("err = %v", err)
		}
	})
}

func FuzzParseLock(f *testing.F) {
	f.Add(lockJSON(f, testInfo, pkgA, pkgB))
	f.Add([]byte(`{"info":{"abi_version":"x","python":"3.1"},"packages":{}}`))
	f.Add([]byte(`{"info":{},"packages":{"a":{"file_name":"../a"}}}`))
	if data, err := os.ReadFile("../../node_modules/pyodide/pyodide-lock.json"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock(data)
		if err != nil {
			return
		}
		for _, p := range l.Packages {
			if checkFileName(p.FileName) != nil || filepath.Base(p.FileName) != p.FileName {
				t.Fatalf("accepted file_name %q", p.FileName)
			}
		}
		out, err := l.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseLock(out)
		if err != nil {
			t.Fatalf("re-parse of written lock: %v", err)
		}
		if len(again.Packages) != len(l.Packages) || again.Info != l.Info {
			t.Fatal("written lock differs")
		}
	})
}
