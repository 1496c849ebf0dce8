package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pyplay/pyplay/server/packages"
)

var pkgTestInfo = map[string]string{"abi_version": "2026_0", "arch": "wasm32", "platform": "emscripten_5_0_3", "python": "3.14.2"}

func pkgLock(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	pk := map[string]any{}
	for name, body := range files {
		sum := sha256.Sum256(body)
		key := strings.SplitN(name, "-", 2)[0]
		pk[packages.Normalize(key)] = map[string]any{"name": key, "version": "1.0", "file_name": name, "package_type": "package",
			"install_dir": "site", "sha256": hex.EncodeToString(sum[:]), "imports": []string{key}, "depends": []string{}}
	}
	data, err := json.Marshal(map[string]any{"info": pkgTestInfo, "packages": pk})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// packagesServer serves a distribution of one wheel (and one absent file).
func packagesServer(t *testing.T) (*Server, fstest.MapFS) {
	static := testStatic(t)
	static["dist/runtime/pyodide/1.0.0/pyodide-lock.json"] = &fstest.MapFile{Data: pkgLock(t, map[string][]byte{"numpy-2.0-py3-none-any.whl": []byte("n")})}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "demo-1.0-py3-none-any.whl"), []byte("wheel"), 0o644)
	os.WriteFile(filepath.Join(dir, packages.LockFile), pkgLock(t, map[string][]byte{
		"demo-1.0-py3-none-any.whl": []byte("wheel"), "gone-1.0-py3-none-any.whl": []byte("gone")}), 0o644)
	os.WriteFile(filepath.Join(filepath.Dir(dir), "secret.txt"), []byte("secret"), 0o644)
	s, err := New(Config{Static: static, Packages: packages.Source{Dir: dir, Explicit: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cancel() })
	return s, static
}

func TestPackagesServed(t *testing.T) {
	s, _ := packagesServer(t)
	info := s.manifest.Load().Runtimes["pyodide"].Packages
	if info == nil || !strings.HasPrefix(info.Base, "/runtime/pyodide-packages/1.0.0/") || info.Lock != info.Base+"pyodide-lock.json" {
		t.Fatalf("packages info %+v", info)
	}
	// The editor page hands it to the worker.
	page := do(t, s.Handler(), "GET", "/", nil).Body.String()
	if !strings.Contains(page, info.Lock) {
		t.Error("the page's config does not name the lock file")
	}
	rec := do(t, s.Handler(), "GET", info.Base+"demo-1.0-py3-none-any.whl", nil)
	if rec.Code != 200 || rec.Body.String() != "wheel" {
		t.Fatalf("wheel: %d %q", rec.Code, rec.Body)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q", cc)
	}
	if rec.Header().Get("Cross-Origin-Resource-Policy") != "same-origin" {
		t.Error("no CORP")
	}
	rec = do(t, s.Handler(), "GET", info.Lock, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"numpy"`) || !strings.Contains(rec.Body.String(), `"demo"`) {
		t.Fatalf("lock: %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Error("lock not immutable")
	}
	rec = do(t, s.Handler(), "GET", info.Base+"gone-1.0-py3-none-any.whl", nil)
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "-packages") {
		t.Errorf("absent file: %d %s", rec.Code, rec.Body)
	}
}

func TestPackagesRefuseTraversal(t *testing.T) {
	s, _ := packagesServer(t)
	base := s.manifest.Load().Runtimes["pyodide"].Packages.Base
	for _, p := range []string{base + "../secret.txt", base + "..%2fsecret.txt", base + "%2e%2e/secret.txt",
		base + "..%2f..%2f..%2fetc%2fpasswd", "/runtime/pyodide-packages/../../etc/passwd", base, base + "pyodide-lock.json/x"} {
		rec := do(t, s.Handler(), "GET", p, nil)
		if rec.Code != 404 || strings.Contains(rec.Body.String(), "secret") {
			t.Errorf("%s: %d %q", p, rec.Code, rec.Body)
		}
	}
}

func TestPackagesSHA256MismatchRefusesStart(t *testing.T) {
	static := testStatic(t)
	static["dist/runtime/pyodide/1.0.0/pyodide-lock.json"] = &fstest.MapFile{Data: pkgLock(t, nil)}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, packages.LockFile), pkgLock(t, map[string][]byte{"demo-1.0-py3-none-any.whl": []byte("wheel")}), 0o644)
	os.WriteFile(filepath.Join(dir, "demo-1.0-py3-none-any.whl"), []byte("tampered"), 0o644)
	_, err := New(Config{Static: static, Packages: packages.Source{Dir: dir, Explicit: true}})
	if err == nil || !strings.Contains(err.Error(), "demo-1.0-py3-none-any.whl") {
		t.Fatalf("err = %v", err)
	}
	// A missing default directory is no error; a missing explicit one is.
	if _, err := New(Config{Static: static, Packages: packages.Source{Dir: filepath.Join(dir, "nope")}}); err != nil {
		t.Errorf("default: %v", err)
	}
	if _, err := New(Config{Static: static, Packages: packages.Source{Dir: filepath.Join(dir, "nope"), Explicit: true}}); err == nil {
		t.Error("a missing -packages directory was accepted")
	}
}

func TestPackagesMirrorInCSP(t *testing.T) {
	u, _ := url.Parse("https://mirror.example.com/pyodide/full/")
	s, err := New(Config{Static: testStatic(t), Packages: packages.Source{URL: u, Explicit: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cancel() })
	rec := do(t, s.Handler(), "GET", "/", nil)
	csp := rec.Header().Get("Content-Security-Policy")
	if !regexp.MustCompile(`connect-src 'self' https://mirror\.example\.com;`).MatchString(csp) {
		t.Errorf("CSP %q", csp)
	}
	info := s.manifest.Load().Runtimes["pyodide"].Packages
	if info == nil || info.Base != u.String() || info.Lock != "/runtime/pyodide/1.0.0/pyodide-lock.json" {
		t.Errorf("packages info %+v", info)
	}
	// Without packages the CSP is as before.
	plain := do(t, newTestServer(t).Handler(), "GET", "/", nil).Header().Get("Content-Security-Policy")
	if !strings.Contains(plain, "connect-src 'self';") {
		t.Errorf("CSP without packages %q", plain)
	}
	if do(t, newTestServer(t).Handler(), "GET", "/runtime/pyodide-packages/1.0.0/x/y.whl", nil).Code != http.StatusNotFound {
		t.Error("no packages, yet a package path answers")
	}
}
