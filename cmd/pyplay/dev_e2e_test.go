package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// mainBundle matches the editor page's module script, the main bundle.
var mainBundle = regexp.MustCompile(`<script type="module" src="(/assets/main-[^"]+\.js)">`)

// TestDevRebuildsOnChange serves `-dev -root` from a copy of the source tree
// (web/, static/, tsconfig.json; node_modules linked, which the build only
// reads), changes a source file in the copy and waits for the editor page
// to name a new main bundle that has the change. The repository itself is
// never written, whatever happens to the test.
func TestDevRebuildsOnChange(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(repo, "node_modules", ".package-lock.json")); err != nil {
		t.Fatalf("front-end packages missing (run make deps): %v", err)
	}
	root := t.TempDir()
	for _, pattern := range []string{"web/*.ts", "web/*.css", "web/*/*.ts", "web/*/*.css", "web/*/*.py", "static/templates/*.html", "static/favicon.svg", "tsconfig.json", "package.json"} {
		copyGlob(t, repo, root, pattern)
	}
	if err := os.Symlink(filepath.Join(repo, "node_modules"), filepath.Join(root, "node_modules")); err != nil {
		t.Fatal(err)
	}

	m, _ := startMain(t, "-dev", "-root", root, "-db", "sqlite:"+filepath.Join(t.TempDir(), "pyplay.db"))
	before := editorBundle(t, m.URL())

	marker := "pyplay dev rebuild " + time.Now().Format(time.RFC3339Nano)
	f, err := os.OpenFile(filepath.Join(root, "web", "editor", "main.ts"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.WriteString(f, "\nconsole.info("+`"`+marker+`"`+");\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	// esbuild notices the change by polling; wait for the new bundle (the
	// deadline only bounds a broken watcher).
	after := before
	for deadline := time.Now().Add(60 * time.Second); after == before; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the editor still serves %s a minute after web/editor/main.ts changed", before)
		}
		after = editorBundle(t, m.URL())
	}
	res, err := call(t, "GET", m.URL()+after, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.status != 200 || !strings.Contains(string(res.body), marker) {
		t.Fatalf("GET %s: %d, %d bytes; want the rebuilt bundle with %q", after, res.status, len(res.body), marker)
	}
	if _, err := os.Stat(filepath.Join(root, "static", "dist", "manifest.json")); err != nil {
		t.Errorf("the dev build did not write into -root: %v", err)
	}
}

// editorBundle returns the main bundle's URL path named by the editor page.
func editorBundle(t *testing.T, base string) string {
	t.Helper()
	res, err := call(t, "GET", base+"/", "")
	if err != nil {
		t.Fatal(err)
	}
	m := mainBundle.FindSubmatch(res.body)
	if res.status != 200 || m == nil {
		t.Fatalf("GET /: %d, no main bundle in\n%s", res.status, res.body)
	}
	return string(m[1])
}

// copyGlob copies the files matching pattern (relative to from) to the same
// places under to.
func copyGlob(t *testing.T, from, to, pattern string) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(from, pattern))
	if err != nil || len(names) == 0 {
		t.Fatalf("%s: no files (%v)", pattern, err)
	}
	for _, name := range names {
		rel, err := filepath.Rel(from, name)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(to, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
