package server

import (
	"net/http"
	"strings"
	"testing"
)

// /embed/{id} is the one page other sites may frame, and it keeps the
// isolation headers that let Pyodide run cross-origin isolated in a frame.
func TestEmbedMayBeFramed(t *testing.T) {
	for _, tc := range []struct {
		name      string
		origins   []string
		ancestors string
	}{
		{"any site", nil, "frame-ancestors *;"},
		{"configured", []string{"https://blog.example", "https://course.example:8443"}, "frame-ancestors https://blog.example https://course.example:8443;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newSnippetServer(t, SnippetOptions{})
			s.cfg.EmbedOrigins = tc.origins
			h := s.Handler()
			id := shareSnippet(t, h, map[string]any{"code": "# Greeting\nprint('hi </script>')\n", "runtime": "pyodide"})
			rec := serveAPI(t, h, apiRequest{target: "/embed/" + id, header: map[string]string{"Accept": "text/html"}})
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			for k, v := range map[string]string{
				"X-Frame-Options":              "",
				"Cross-Origin-Resource-Policy": "cross-origin",
				"Cross-Origin-Embedder-Policy": "require-corp",
				"Cross-Origin-Opener-Policy":   "same-origin",
				"X-Robots-Tag":                 "noindex",
			} {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, tc.ancestors) || !strings.Contains(csp, "script-src 'self' 'wasm-unsafe-eval';") {
				t.Errorf("CSP %q, want %q and the playground's script rules", csp, tc.ancestors)
			}
			page := rec.Body.String()
			for _, want := range []string{"<title>Greeting · pyplay</title>", `href="/s/` + id + `"`, "print(&#39;hi &lt;/script&gt;&#39;)", "/assets/embed-GHI.js"} {
				if !strings.Contains(page, want) {
					t.Errorf("embed page lacks %q", want)
				}
			}
			// Everything else still refuses frames.
			if got := serveAPI(t, h, apiRequest{target: "/s/" + id}).Header().Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("/s/{id}: X-Frame-Options %q", got)
			}
		})
	}
	// A broken embed link says so inside the frame, which may show it.
	s, _ := newSnippetServer(t, SnippetOptions{})
	rec := serveAPI(t, s.Handler(), apiRequest{target: "/embed/abc", header: map[string]string{"Accept": "text/html"}})
	if rec.Code != http.StatusNotFound || rec.Header().Get("X-Frame-Options") != "" || !strings.Contains(rec.Body.String(), "this one has 3 characters") {
		t.Errorf("unknown embed: %d, X-Frame-Options %q:\n%s", rec.Code, rec.Header().Get("X-Frame-Options"), rec.Body)
	}
}
