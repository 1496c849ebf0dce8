//go:build !(js && wasm)

package suite

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/pyplay/pyplay/server/frontend"
)

// The kernels load and give every check in a module worker in Chromium,
// under the playground's Content-Security-Policy and isolation headers.
func TestWasmKernelsInBrowserWorker(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	chromium := os.Getenv("CHROMIUM_PATH")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no Chromium at " + chromium)
	}
	if testing.Short() {
		t.Skip("builds the kernels and starts a browser")
	}
	wasmDir := t.TempDir()
	man, err := frontend.BuildWasm(frontend.BuildOptions{Root: root}, wasmDir)
	if err != nil {
		t.Fatal(err)
	}
	jsDir := t.TempDir()
	res := api.Build(api.BuildOptions{
		EntryPoints: []string{"testdata/worker.ts", "testdata/page.ts"},
		Bundle:      true, Format: api.FormatESModule, Platform: api.PlatformBrowser,
		Target: api.ES2022, Outdir: jsDir, Write: true, LogLevel: api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		t.Fatalf("esbuild: %v", res.Errors)
	}
	mux := http.NewServeMux()
	mux.Handle("/wasm/", http.StripPrefix("/wasm/", http.FileServer(http.Dir(wasmDir))))
	mux.Handle("/", http.FileServer(http.Dir(jsDir)))
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/page.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>kernels</title><script type="module" src="/page.js"></script>`))
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// As server/middleware.go sends them.
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Embedder-Policy", "require-corp")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if strings.HasSuffix(r.URL.Path, ".wasm") {
			h.Set("Content-Type", "application/wasm")
		}
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	runtimes := []string{"go-wasm", "rust-wasm"}
	if man["rust-wasm"].Missing != "" {
		runtimes = runtimes[:1]
	}
	var ws []map[string]any
	for _, w := range Workloads() {
		ws = append(ws, map[string]any{"id": w.ID, "n": w.N})
	}
	wsJSON, _ := json.Marshal(ws)
	cmd := exec.Command(node, "testdata/browser-kernels.mjs", srv.URL+"/page.html", strings.Join(runtimes, ","), string(wsJSON))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	var got struct {
		Results map[string]struct {
			Runtime, Version, Error string
			Results                 map[string]string
			HasProcessVersions      bool
		}
		Errors []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if len(got.Errors) > 0 {
		t.Errorf("page errors: %v", got.Errors)
	}
	for _, rt := range runtimes {
		r := got.Results[rt]
		if r.Error != "" {
			t.Errorf("%s: %s", rt, r.Error)
			continue
		}
		if r.Runtime != rt || r.Version != man[rt].Version || r.HasProcessVersions {
			t.Errorf("%s: runtime %q version %q (manifest %q), process.versions %v", rt, r.Runtime, r.Version, man[rt].Version, r.HasProcessVersions)
		}
		for _, w := range Workloads() {
			if r.Results[w.ID] != w.Check {
				t.Errorf("%s in Chromium: %s(%d) = %q, want %q", rt, w.ID, w.N, r.Results[w.ID], w.Check)
			}
		}
	}
}
