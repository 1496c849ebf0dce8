package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"

	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/server/response"
)

// testStatic is a minimal built front end: a manifest, templates, a bundle
// with precompressed variants and a runtime file.
func testStatic(t testing.TB) fstest.MapFS {
	t.Helper()
	js := []byte("console.log('hello from a bundle');\n")
	var gz, br bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(js)
	zw.Close()
	bw := brotli.NewWriter(&br)
	bw.Write(js)
	bw.Close()
	man, _ := json.Marshal(frontend.Manifest{
		Build:   "testbuild",
		Entries: map[string]string{"main": "/assets/main-ABC.js", "worker": "/assets/worker-DEF.js", "embed": "/assets/embed-GHI.js"},
		Runtimes: map[string]*frontend.RuntimeInfo{"pyodide": {Version: "1.0.0", Base: "/runtime/pyodide/1.0.0/",
			Files: map[string]int64{"pyodide.asm.wasm": 8}}},
	})
	editor, err := os.ReadFile("../static/templates/editor.html")
	if err != nil {
		t.Fatal(err)
	}
	embed, err := os.ReadFile("../static/templates/embed.html")
	if err != nil {
		t.Fatal(err)
	}
	return fstest.MapFS{
		"dist/manifest.json":                           {Data: man},
		"dist/assets/main-ABC.js":                      {Data: js},
		"dist/assets/main-ABC.js.gz":                   {Data: gz.Bytes()},
		"dist/assets/main-ABC.js.br":                   {Data: br.Bytes()},
		"dist/assets/worker-DEF.js":                    {Data: []byte("self.onmessage = null;\n")},
		"dist/runtime/pyodide/1.0.0/pyodide.mjs":       {Data: []byte("export {};\n")},
		"dist/runtime/pyodide/1.0.0/pyodide.asm.wasm":  {Data: []byte("\x00asm\x01\x00\x00\x00")},
		"dist/runtime/pyodide/1.0.0/python_stdlib.zip": {Data: []byte("PK\x05\x06")},
		"templates/editor.html":                        {Data: editor},
		"templates/embed.html":                         {Data: embed},
		"favicon.svg":                                  {Data: []byte("<svg/>")},
	}
}

func newTestServer(t testing.TB) *Server {
	t.Helper()
	s, err := New(Config{Static: testStatic(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cancel() })
	return s
}

func do(t testing.TB, h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := newTestServer(t).Handler()
	for _, target := range []string{"/", "/assets/main-ABC.js", "/runtime/pyodide/1.0.0/pyodide.asm.wasm", "/healthz", "/nope", "/assets/missing.js"} {
		rec := do(t, h, "GET", target, nil)
		want := map[string]string{
			"Cross-Origin-Opener-Policy":   "same-origin",
			"Cross-Origin-Embedder-Policy": "require-corp",
			"Cross-Origin-Resource-Policy": "same-origin",
			"X-Content-Type-Options":       "nosniff",
			"Referrer-Policy":              "same-origin",
			"X-Frame-Options":              "DENY",
		}
		for k, v := range want {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", target, k, got, v)
			}
		}
		csp := rec.Header().Get("Content-Security-Policy")
		// Same-origin scripts and wasm compilation only: no eval, no inline script.
		// Nobody frames these pages (only /embed/{id} may be framed).
		if !strings.Contains(csp, "script-src 'self' 'wasm-unsafe-eval';") || !strings.Contains(csp, "frame-ancestors 'none';") ||
			strings.Contains(csp, " 'unsafe-eval'") || strings.Contains(csp, "'unsafe-inline' 'wasm") {
			t.Errorf("%s: CSP %q", target, csp)
		}
		if strings.Contains(csp, "http") {
			t.Errorf("%s: CSP allows another origin: %q", target, csp)
		}
	}
}

func TestAssetEncodings(t *testing.T) {
	h := newTestServer(t).Handler()
	plain := "console.log('hello from a bundle');\n"
	cases := []struct {
		accept, wantEncoding string
	}{
		{"", ""},
		{"gzip", "gzip"},
		{"gzip, deflate, br", "br"},
		{"br;q=0, gzip", "gzip"},
		{"br;q=0, gzip;q=0", ""},
		{"identity", ""},
		{"BR", "br"},
	}
	for _, c := range cases {
		t.Run(c.accept, func(t *testing.T) {
			rec := do(t, h, "GET", "/assets/main-ABC.js", map[string]string{"Accept-Encoding": c.accept})
			if rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			if got := rec.Header().Get("Content-Encoding"); got != c.wantEncoding {
				t.Fatalf("Content-Encoding %q, want %q", got, c.wantEncoding)
			}
			if !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
				t.Error("missing Vary: Accept-Encoding")
			}
			if got := decode(t, c.wantEncoding, rec.Body.Bytes()); got != plain {
				t.Errorf("body %q", got)
			}
		})
	}
}

func decode(t *testing.T, enc string, body []byte) string {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	switch enc {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(r)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestContentTypesAndCaching(t *testing.T) {
	h := newTestServer(t).Handler()
	cases := []struct{ path, ctype, cache string }{
		{"/assets/main-ABC.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/runtime/pyodide/1.0.0/pyodide.mjs", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/runtime/pyodide/1.0.0/pyodide.asm.wasm", "application/wasm", "public, max-age=31536000, immutable"},
		{"/runtime/pyodide/1.0.0/python_stdlib.zip", "application/zip", "public, max-age=31536000, immutable"},
		{"/", "text/html; charset=UTF-8", "no-cache"},
		{"/favicon.svg", "image/svg+xml", "no-cache"},
	}
	for _, c := range cases {
		rec := do(t, h, "GET", c.path, nil)
		if rec.Code != 200 {
			t.Errorf("%s: status %d", c.path, rec.Code)
			continue
		}
		if got := rec.Header().Get("Content-Type"); !strings.EqualFold(got, c.ctype) {
			t.Errorf("%s: Content-Type %q, want %q", c.path, got, c.ctype)
		}
		if got := rec.Header().Get("Cache-Control"); got != c.cache {
			t.Errorf("%s: Cache-Control %q, want %q", c.path, got, c.cache)
		}
	}
}

func TestETagRevalidation(t *testing.T) {
	h := newTestServer(t).Handler()
	first := do(t, h, "GET", "/assets/main-ABC.js", nil)
	etag := first.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("ETag %q is not a strong ETag", etag)
	}
	again := do(t, h, "GET", "/assets/main-ABC.js", map[string]string{"If-None-Match": etag})
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Fatalf("revalidation: status %d, %d bytes", again.Code, again.Body.Len())
	}
	gz := do(t, h, "GET", "/assets/main-ABC.js", map[string]string{"Accept-Encoding": "gzip"})
	if gz.Header().Get("ETag") == etag {
		t.Error("gzip and identity responses share an ETag")
	}
	if do(t, h, "GET", "/assets/main-ABC.js", map[string]string{"If-None-Match": `"other"`}).Code != 200 {
		t.Error("a different ETag must get the body")
	}
}

func TestHeadAndRange(t *testing.T) {
	h := newTestServer(t).Handler()
	head := do(t, h, "HEAD", "/assets/main-ABC.js", nil)
	if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Length") == "" {
		t.Fatalf("HEAD: %d, %d bytes, length %q", head.Code, head.Body.Len(), head.Header().Get("Content-Length"))
	}
	rng := do(t, h, "GET", "/assets/main-ABC.js", map[string]string{"Range": "bytes=0-6"})
	if rng.Code != http.StatusPartialContent || rng.Body.String() != "console" {
		t.Fatalf("Range: %d %q", rng.Code, rng.Body.String())
	}
}

func TestNotFoundIsJSON(t *testing.T) {
	h := newTestServer(t).Handler()
	for _, p := range []string{
		"/assets/nope.js", "/runtime/pyodide/9.9.9/pyodide.mjs", "/assets/main-ABC.js.br", "/assets/main-ABC.js.gz",
		"/assets/../manifest.json", "/runtime/", "/runtime/pyodide/1.0.0", "/no/such/page",
	} {
		rec := do(t, h, "GET", p, nil)
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, rec.Code)
			continue
		}
		var body response.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "not_found" || body.Error.Message == "" {
			t.Errorf("%s: body %q is not a JSON error", p, rec.Body.String())
		}
	}
}

func TestNotBuiltSaysWhatToDo(t *testing.T) {
	_, err := New(Config{Static: fstest.MapFS{"dist/.keep": {}}})
	if !errors.Is(err, ErrNotBuilt) || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("err = %v, want ErrNotBuilt mentioning make build", err)
	}
}

func TestEditorPage(t *testing.T) {
	h := newTestServer(t).Handler()
	rec := do(t, h, "GET", "/", nil)
	body := rec.Body.String()
	for _, want := range []string{
		`<script type="module" src="/assets/main-ABC.js">`,
		`id="pyplay-config"`,
		`"worker":"/assets/worker-DEF.js"`,
		`>Run</button>`, `>Stop</button>`, `>Share</button>`, `>Benchmark</button>`,
		`<option value="micropython"`, `role="log" aria-label="Output"`, `role="status"`,
		`Hello from Python`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("editor page lacks %q", want)
		}
	}
}

func TestAcceptedEncodings(t *testing.T) {
	got := acceptedEncodings(" gzip;q=0.5 , br;q=0 ,deflate")
	if !got["gzip"] || got["br"] || !got["deflate"] {
		t.Fatalf("%v", got)
	}
}

func TestMetricsCountRoutes(t *testing.T) {
	s := newTestServer(t)
	h := s.Handler()
	do(t, h, "GET", "/assets/main-ABC.js", nil)
	do(t, h, "GET", "/no/such/page", nil)
	body := scrape(t, s)
	for _, want := range []string{
		`pyplay_http_requests_total{method="GET",route="/assets/*",status="200"} 1`,
		`pyplay_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestEditorRuntimeQuery(t *testing.T) {
	h := newTestServer(t).Handler()
	body := do(t, h, "GET", "/?runtime=micropython", nil).Body.String()
	if !strings.Contains(body, `<option value="micropython" selected>`) {
		t.Error("?runtime=micropython does not select MicroPython")
	}
	body = do(t, h, "GET", "/?runtime=cobol", nil).Body.String()
	if !strings.Contains(body, `<option value="pyodide" selected>`) {
		t.Error("an unknown runtime must fall back to Pyodide")
	}
}
