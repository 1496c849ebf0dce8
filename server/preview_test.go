package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
)

// previewStatic is testStatic plus what previews need: the preview bundle,
// its template, and PyScript and MicroPython runtime files.
func previewStatic(t testing.TB) fstest.MapFS {
	t.Helper()
	fsys := testStatic(t)
	man, _ := json.Marshal(frontend.Manifest{
		Build: "testbuild",
		Entries: map[string]string{
			"main": "/assets/main-ABC.js", "worker": "/assets/worker-DEF.js",
			"preview": "/assets/preview-GHI.js", "preview.css": "/assets/preview-JKL.css",
			"pyscript-bench": "/assets/pyscript-bench-MNO.js", "dashboard": "/assets/dashboard-PQR.js",
		},
		Runtimes: map[string]*frontend.RuntimeInfo{
			"pyodide":     {Version: "1.0.0", Base: "/runtime/pyodide/1.0.0/", Files: map[string]int64{"pyodide.mjs": 11}},
			"micropython": {Version: "2.0.0", Base: "/runtime/micropython/2.0.0/", Files: map[string]int64{"micropython.mjs": 11}},
			"pyscript":    {Version: "3.0.0", Base: "/runtime/pyscript/3.0.0/", Files: map[string]int64{"core.js": 11}},
		},
	})
	tmpl, err := os.ReadFile("../static/templates/preview.html")
	if err != nil {
		t.Fatal(err)
	}
	fsys["dist/manifest.json"] = &fstest.MapFile{Data: man}
	fsys["templates/preview.html"] = &fstest.MapFile{Data: tmpl}
	fsys["dist/assets/preview-GHI.js"] = &fstest.MapFile{Data: []byte("export {};\n")}
	fsys["dist/assets/preview-JKL.css"] = &fstest.MapFile{Data: []byte("pre {}\n")}
	fsys["dist/assets/pyscript-bench-MNO.js"] = &fstest.MapFile{Data: []byte("export {};\n")}
	fsys["dist/assets/dashboard-PQR.js"] = &fstest.MapFile{Data: []byte("export {};\n")}
	fsys["dist/runtime/pyscript/3.0.0/core.js"] = &fstest.MapFile{Data: []byte("export {};\n")}
	fsys["dist/runtime/pyscript/3.0.0/core.css"] = &fstest.MapFile{Data: []byte(":root {}\n")}
	fsys["dist/runtime/micropython/2.0.0/micropython.mjs"] = &fstest.MapFile{Data: []byte("export {};\n")}
	return fsys
}

// newPreviewServer is a server whose playground listens on port 8080 and
// previews on 8081 as far as the handlers know, without opening sockets.
func newPreviewServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	cfg.Static = previewStatic(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cancel() })
	if cfg.PreviewURL != "" {
		if s.preview.public, err = parsePreviewURL(cfg.PreviewURL); err != nil {
			t.Fatal(err)
		}
	}
	s.preview.mainPort, s.preview.port = "8080", "8081"
	return s
}

// doHost is do with the request's Host (and any headers) set.
func doHost(t testing.TB, h http.Handler, method, target, host string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func previewTarget(parent string) string {
	return "/preview?parent=" + url.QueryEscape(parent)
}

func TestPreviewDocument(t *testing.T) {
	s := newPreviewServer(t, Config{})
	h := s.previewRoutes()
	res := doHost(t, h, "GET", previewTarget("http://play.test:8080"), "play.test:8081").Result()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	want := map[string]string{
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Embedder-Policy": "require-corp",
		"Cross-Origin-Resource-Policy": "cross-origin",
		"X-Content-Type-Options":       "nosniff",
		"Cache-Control":                "no-cache",
		"X-Frame-Options":              "",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, part := range []string{"frame-ancestors http://play.test:8080;", "default-src 'self';", "connect-src 'self' blob: data:;"} {
		if !strings.Contains(csp, part) {
			t.Errorf("CSP %q lacks %q", csp, part)
		}
	}
	for _, part := range []string{
		`<script type="module" src="/assets/preview-GHI.js">`,
		`<link rel="stylesheet" href="/assets/preview-JKL.css">`,
		`<link rel="stylesheet" href="/runtime/pyscript/3.0.0/core.css">`,
		`"parent":"http://play.test:8080"`,
		`"core":"/runtime/pyscript/3.0.0/core.js"`,
		`"pyodide":"/runtime/pyodide/1.0.0/pyodide.mjs"`,
		`"micropython":"/runtime/micropython/2.0.0/micropython.mjs"`,
		`"bench":"/assets/pyscript-bench-MNO.js"`,
	} {
		if !strings.Contains(string(body), part) {
			t.Errorf("preview document lacks %s", part)
		}
	}
	if strings.Contains(string(body), "cdn") || strings.Contains(string(body), "https://") {
		t.Errorf("preview document names another origin:\n%s", body)
	}
}

func TestPreviewParentMustBeThePlayground(t *testing.T) {
	derived := newPreviewServer(t, Config{})
	public := newPreviewServer(t, Config{PreviewURL: "https://preview.example.com"})
	cases := []struct {
		name   string
		s      *Server
		host   string
		parent string
		ok     bool
	}{
		{"same host, playground port", derived, "play.test:8081", "http://play.test:8080", true},
		{"trailing slash", derived, "play.test:8081", "http://play.test:8080/", true},
		{"ip", derived, "127.0.0.1:8081", "http://127.0.0.1:8080", true},
		{"missing", derived, "play.test:8081", "", false},
		{"other port", derived, "play.test:8081", "http://play.test:9999", false},
		{"the preview itself", derived, "play.test:8081", "http://play.test:8081", false},
		{"other host", derived, "play.test:8081", "http://evil.test:8080", false},
		{"cross-site ip vs name", derived, "127.0.0.1:8081", "http://localhost:8080", false},
		{"other scheme", derived, "play.test:8081", "https://play.test:8080", false},
		{"a path", derived, "play.test:8081", "http://play.test:8080/x", false},
		{"not a URL", derived, "play.test:8081", "javascript:alert(1)", false},
		{"opaque", derived, "play.test:8081", "null", false},
		{"public: parent domain", public, "preview.example.com", "https://example.com", true},
		{"public: sibling", public, "preview.example.com", "https://www.example.com", true},
		{"public: other site", public, "preview.example.com", "https://example.org", false},
		{"public: lookalike", public, "preview.example.com", "https://example.com.evil.test", false},
		{"public: http", public, "preview.example.com", "http://example.com", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			proto := "http"
			if c.s.preview.public != nil {
				proto = c.s.preview.public.Scheme
			}
			res := doHost(t, c.s.previewRoutes(), "GET", previewTarget(c.parent), c.host, "X-Forwarded-Proto", proto)
			if got := res.Code == 200; got != c.ok {
				t.Fatalf("status %d (%s), want ok=%v", res.Code, res.Body.String(), c.ok)
			}
			if !c.ok {
				var body response.ErrorBody
				if err := json.Unmarshal(res.Body.Bytes(), &body); err != nil || res.Code != 400 || body.Error.Code != snippets.Invalid {
					t.Fatalf("want a 400 JSON error, got %d %q", res.Code, res.Body.String())
				}
			}
		})
	}
}

func TestPreviewOriginServesNothingElse(t *testing.T) {
	h := newPreviewServer(t, Config{}).previewRoutes()
	for _, target := range []string{
		"/", "/s/abc", "/s/abc.py", "/api/snippets", "/api/snippets/abc", "/healthz", "/metrics", "/ws",
		"/favicon.svg", "/bench", "/assets/main-ABC.js", "/assets/worker-DEF.js", "/assets/main-ABC.js.br", "/assets/dashboard-PQR.js",
		"/assets/../manifest.json", "/dist/manifest.json", "/templates/editor.html", "/preview/x",
		"/runtime/../manifest.json", "/runtime/pyodide/9.9.9/pyodide.mjs",
	} {
		rec := doHost(t, h, "GET", target, "play.test:8081")
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, rec.Code)
			continue
		}
		var body response.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != snippets.NotFound {
			t.Errorf("GET %s: body %q is not a JSON error", target, rec.Body.String())
		}
	}
	for _, method := range []string{"POST", "PUT", "DELETE"} {
		for _, target := range []string{"/preview", "/api/snippets", "/runtime/pyodide/1.0.0/pyodide.mjs"} {
			if rec := do(t, h, method, target, nil); rec.Code < 400 || rec.Code >= 500 {
				t.Errorf("%s %s: status %d", method, target, rec.Code)
			}
		}
	}
}

func TestPreviewServesRuntimeAndItsBundle(t *testing.T) {
	h := newPreviewServer(t, Config{}).previewRoutes()
	for _, target := range []string{
		"/runtime/pyodide/1.0.0/pyodide.mjs", "/runtime/pyodide/1.0.0/pyodide.asm.wasm",
		"/runtime/micropython/2.0.0/micropython.mjs", "/runtime/pyscript/3.0.0/core.js",
		"/assets/preview-GHI.js", "/assets/preview-JKL.css", "/assets/pyscript-bench-MNO.js",
	} {
		rec := doHost(t, h, "GET", target, "play.test:8081", "Accept-Encoding", "br")
		if rec.Code != 200 {
			t.Errorf("%s: status %d", target, rec.Code)
			continue
		}
		want := map[string]string{
			"Cross-Origin-Embedder-Policy": "require-corp",
			"Cross-Origin-Opener-Policy":   "same-origin",
			"Cross-Origin-Resource-Policy": "same-site",
			"X-Content-Type-Options":       "nosniff",
			"Referrer-Policy":              "no-referrer",
			"X-Frame-Options":              "DENY",
			"Cache-Control":                "public, max-age=31536000, immutable",
		}
		for k, v := range want {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", target, k, got, v)
			}
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", target, csp)
		}
	}
}

func TestPlaygroundFramesOnlyThePreviewOrigin(t *testing.T) {
	// httptest's requests come from 192.0.2.1.
	proxy := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	cases := []struct {
		name, previewURL string
		trusted          []netip.Prefix
		host, proto      string
		want             string // in the CSP
		config           string // in the page
	}{
		{"derived", "", nil, "play.test:8080", "", "frame-src http://play.test:8081;", `"pyscript":{"preview":"","previewPort":"8081"`},
		{"derived ip", "", nil, "127.0.0.1:8080", "", "frame-src http://127.0.0.1:8081;", `"previewPort":"8081"`},
		{"derived ipv6", "", nil, "[::1]:8080", "", "frame-src http://[::1]:8081;", `"previewPort":"8081"`},
		{"derived behind tls proxy", "", proxy, "play.test", "https", "frame-src https://play.test:8081;", `"previewPort":"8081"`},
		{"X-Forwarded-Proto from anyone", "", nil, "play.test", "https", "frame-src http://play.test:8081;", `"previewPort":"8081"`},
		{"public", "https://preview.example.com/", nil, "example.com", "https", "frame-src https://preview.example.com;",
			`"pyscript":{"preview":"https://preview.example.com/preview"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newPreviewServer(t, Config{PreviewURL: c.previewURL, TrustedProxies: c.trusted})
			rec := doHost(t, s.Handler(), "GET", "/", c.host, "X-Forwarded-Proto", c.proto)
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, c.want) {
				t.Fatalf("CSP %q lacks %q", csp, c.want)
			}
			if body := rec.Body.String(); !strings.Contains(body, c.config) {
				t.Errorf("page config lacks %s", c.config)
			}
		})
	}
	// Without a preview listener the playground frames nothing.
	s := newTestServer(t)
	rec := do(t, s.Handler(), "GET", "/", nil)
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src 'none';") {
		t.Errorf("CSP %q", csp)
	}
	if !strings.Contains(rec.Body.String(), `"pyscript":{"preview":""`) {
		t.Error("page config should say previews are off")
	}
}

func TestPyScriptSnippetHTMLReachesThePage(t *testing.T) {
	s := newPreviewServer(t, Config{})
	sn := &snippets.Snippet{ID: "abc", Runtime: snippets.PyScript, Code: "print(1)", HTML: `<p id="x">hi</p></script>`}
	cfg := s.pyscriptConfig(sn)
	if cfg.HTML != sn.HTML || cfg.Preview != "" || cfg.PreviewPort != "8081" || cfg.Interpreter != "pyodide" {
		t.Fatalf("%+v", cfg)
	}
	sn.Interpreter = snippets.InterpreterMicroPython
	if got := s.pyscriptConfig(sn).Interpreter; got != "micropython" {
		t.Errorf("MicroPython page: interpreter %q", got)
	}
	sn.Runtime, sn.Interpreter = snippets.Pyodide, ""
	if cfg := s.pyscriptConfig(sn); cfg.HTML != "" || cfg.Interpreter != "" {
		t.Errorf("a Pyodide snippet has no page body and no interpreter: %+v", cfg)
	}
}

func TestDefaultPreviewAddr(t *testing.T) {
	cases := []struct{ in, want string }{
		{":8080", ":8081"},
		{"127.0.0.1:8080", "127.0.0.1:8081"},
		{"127.0.0.1:0", "127.0.0.1:0"},
		{"[::1]:9000", "[::1]:9001"},
		{"localhost:http", ""},
		{"8080", ""},
		{":65535", ""},
	}
	for _, c := range cases {
		got, err := defaultPreviewAddr(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("%q: want an error, got %q", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestParsePreviewURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://preview.example.com":   true,
		"https://preview.example.com/":  true,
		"http://localhost:9000":         true,
		"preview.example.com":           false,
		"ftp://preview.example.com":     false,
		"https://preview.example.com/p": false,
		"https://u@preview.example.com": false,
		"https://preview.example.com?x": false,
	} {
		if _, err := parsePreviewURL(raw); (err == nil) != ok {
			t.Errorf("%q: err = %v, want ok=%v", raw, err, ok)
		}
	}
}

func TestSameSite(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"example.com", "example.com", true},
		{"preview.example.com", "example.com", true},
		{"example.com", "preview.example.com", true},
		{"preview.example.com", "www.example.com", true},
		{"Preview.Example.com", "example.COM", true},
		{"a.com", "b.com", false},
		{"preview.example.com", "example.org", false},
		{"preview.example.com", "evil.com", false},
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1", "127.0.0.2", false},
		{"1.0.0.127", "0.0.127", false},
		{"localhost", "127.0.0.1", false},
	}
	for _, c := range cases {
		if got := sameSite(c.a, c.b); got != c.want {
			t.Errorf("sameSite(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestPreviewListener opens real sockets: the preview listens on its own
// port, answers there, and a busy preview port fails Open at once.
func TestPreviewListener(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0", Static: previewStatic(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	main, preview := s.URL(), s.PreviewURL()
	if preview == "" || preview == main {
		t.Fatalf("preview %q, playground %q", preview, main)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(preview + previewTarget(main))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("preview document: %d", res.StatusCode)
	}
	res, err = client.Get(preview + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Fatalf("preview origin /: %d, want 404", res.StatusCode)
	}
	res, err = client.Get(main + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src "+preview+";") {
		t.Fatalf("playground CSP %q does not frame %s", csp, preview)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s2, err := New(Config{Addr: "127.0.0.1:0", PreviewAddr: busy.Addr().String(), Static: previewStatic(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.cancel()
	if err := s2.Open(); err == nil || !strings.Contains(err.Error(), "preview") {
		s2.Close(context.Background())
		t.Fatalf("Open with a busy preview port: %v", err)
	}
}
