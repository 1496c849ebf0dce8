//go:build !(js && wasm)

package suite

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/snippets/examples"
)

const root = "../../.."

func TestWorkloadsAreWellFormed(t *testing.T) {
	ws := Workloads()
	if len(ws) < 6 {
		t.Fatalf("%d workloads, want at least 6", len(ws))
	}
	byName := map[string]examples.Example{}
	for _, e := range examples.All() {
		byName[e.Name] = e
	}
	seen := map[string]bool{}
	for _, w := range ws {
		if w.ID == "" || w.Title == "" || w.Check == "" || w.N <= 0 || seen[w.ID] {
			t.Errorf("bad or duplicate workload %+v", w)
		}
		seen[w.ID] = true
		ex, ok := byName[w.Python]
		if !ok {
			t.Errorf("%s: no example %q", w.ID, w.Python)
			continue
		}
		if ex.Group != examples.SuiteGroup || ex.Runtime != "pyodide" {
			t.Errorf("%s: example %q is in group %q, runtime %s", w.ID, w.Python, ex.Group, ex.Runtime)
		}
		if got, ok := ByPython(w.Python); !ok || got.ID != w.ID {
			t.Errorf("ByPython(%q) = %v, %v", w.Python, got.ID, ok)
		}
		if got, ok := ByID(w.ID); !ok || got != w {
			t.Errorf("ByID(%q) = %v, %v", w.ID, got, ok)
		}
	}
	if _, err := Run("no-such-workload", 1); err == nil {
		t.Error("Run of an unknown workload gave no error")
	}
	if _, err := Run("fib", -1); err == nil {
		t.Error("Run with a negative size gave no error")
	}
	if len(IDs()) != len(ws) {
		t.Errorf("IDs() = %v, workloads.json has %d", IDs(), len(ws))
	}
}

func TestNativeGoMatchesCheck(t *testing.T) {
	for _, w := range Workloads() {
		got, err := Run(w.ID, w.N)
		if err != nil {
			t.Fatalf("%s: %v", w.ID, err)
		}
		if got != w.Check {
			t.Errorf("%s(%d) = %q, want %q", w.ID, w.N, got, w.Check)
		}
	}
}

// The Python version, run as a normal program, prints the checksum.
func TestPythonExamplesMatchCheck(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	for _, w := range Workloads() {
		file := filepath.Join(root, "snippets", "examples", w.Python+".py")
		out, err := exec.Command(py, file).Output()
		if err != nil {
			t.Fatalf("%s: python3 %s: %v", w.ID, file, err)
		}
		if got := strings.TrimSpace(string(out)); got != w.Check {
			t.Errorf("%s: python3 printed %q, want %q", w.ID, got, w.Check)
		}
	}
}

// The kernels as `pyplay build` compiles them, loaded in Node through
// web/runtime/wasmkernels.ts from an HTTP server, give every check.
func TestWasmKernelsMatchCheck(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	if testing.Short() {
		t.Skip("builds the kernels")
	}
	dir := t.TempDir()
	man, err := frontend.BuildWasm(frontend.BuildOptions{Root: root}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if man["go-wasm"].File == "" || !strings.HasPrefix(man["go-wasm"].Version, "go1.") {
		t.Fatalf("go-wasm manifest entry %+v", man["go-wasm"])
	}
	bundle := filepath.Join(t.TempDir(), "wasmkernels.mjs")
	res := api.Build(api.BuildOptions{
		EntryPoints: []string{filepath.Join(root, "web", "runtime", "wasmkernels.ts")},
		Bundle:      true, Format: api.FormatESModule, Platform: api.PlatformNeutral,
		Target: api.ES2022, Outfile: bundle, Write: true, LogLevel: api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		t.Fatalf("esbuild: %v", res.Errors)
	}
	// /stream/ serves .wasm as application/wasm (the streaming path), /plain/
	// as application/octet-stream (the loader's fallback).
	types := map[string]string{"stream": "application/wasm", "plain": "application/octet-stream"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		ct, ok := types[mode]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasSuffix(rest, ".wasm") {
			w.Header().Set("Content-Type", ct)
		}
		http.ServeFile(w, r, filepath.Join(dir, filepath.FromSlash(rest)))
	}))
	defer srv.Close()
	workloads := filepath.Join(t.TempDir(), "workloads.json")
	if err := os.WriteFile(workloads, JSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	runtimes := []string{"go-wasm", "rust-wasm"}
	if m := man["rust-wasm"].Missing; m != "" {
		t.Logf("rust-wasm not built (%s): testing go-wasm only", m)
		runtimes = runtimes[:1]
	}
	for _, rt := range runtimes {
		// Both the streaming path (application/wasm) and the fallback.
		for _, ct := range []string{"stream", "plain"} {
			cmd := exec.Command(node, "testdata/run-kernels.mjs", bundle, srv.URL+"/"+ct+"/", filepath.Join(dir, "wasm_exec.js"), rt, workloads)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: node: %v\n%s", rt, err, stderr.Bytes())
			}
			var got struct {
				Runtime, Version, Unknown string
				Results                   map[string]string
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%s: %v in %s", rt, err, out)
			}
			if got.Runtime != rt || got.Version != man[rt].Version {
				t.Errorf("%s: runtime %q version %q, manifest says %q", rt, got.Runtime, got.Version, man[rt].Version)
			}
			for _, w := range Workloads() {
				if got.Results[w.ID] != w.Check {
					t.Errorf("%s (%s): %s(%d) = %q, want %q", rt, ct, w.ID, w.N, got.Results[w.ID], w.Check)
				}
			}
			if !strings.Contains(got.Unknown, "no-such-workload") {
				t.Errorf("%s: an unknown workload gave %q", rt, got.Unknown)
			}
		}
	}
}

// Without rustc the build says why and leaves the Rust kernels out.
func TestBuildWithoutRustc(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the kernels")
	}
	dir := t.TempDir()
	// A stale file from an earlier build must go.
	if err := os.WriteFile(filepath.Join(dir, "rust-kernels.wasm"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	man, err := frontend.BuildWasm(frontend.BuildOptions{Root: root, RustC: "/nonexistent/rustc"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := man["rust-wasm"]; !strings.Contains(m.Missing, "libstd-rust-dev-wasm32") || m.File != "" {
		t.Errorf("rust-wasm entry %+v, want a missing reason naming the packages", m)
	}
	if _, err := os.Stat(filepath.Join(dir, "rust-kernels.wasm")); err == nil {
		t.Error("a stale rust-kernels.wasm was left behind")
	}
	if man["go-wasm"].File == "" {
		t.Errorf("go-wasm entry %+v", man["go-wasm"])
	}
}

// A second build with unchanged sources rebuilds nothing; a root without
// the kernel sources records both missing rather than failing.
func TestBuildIsCachedAndToleratesNoSources(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the kernels")
	}
	dir := t.TempDir()
	if _, err := frontend.BuildWasm(frontend.BuildOptions{Root: root}, dir); err != nil {
		t.Fatal(err)
	}
	mtimes := func() map[string]int64 {
		m := map[string]int64{}
		for _, f := range []string{"go-kernels.wasm", "rust-kernels.wasm", "wasm_exec.js", "manifest.json"} {
			if st, err := os.Stat(filepath.Join(dir, f)); err == nil {
				m[f] = st.ModTime().UnixNano()
			}
		}
		return m
	}
	before := mtimes()
	if _, err := frontend.BuildWasm(frontend.BuildOptions{Root: root}, dir); err != nil {
		t.Fatal(err)
	}
	if after := mtimes(); len(after) < 3 || !reflect.DeepEqual(before, after) {
		t.Errorf("a second build rewrote files: %v then %v", before, after)
	}
	man, err := frontend.BuildWasm(frontend.BuildOptions{Root: t.TempDir()}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(man["go-wasm"].Missing, "no Go kernel sources") || !strings.Contains(man["rust-wasm"].Missing, "no Rust kernel sources") {
		t.Errorf("manifest without sources: %+v", man)
	}
}
