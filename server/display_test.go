package server

import (
	"io"
	"net/url"
	"strings"
	"testing"
)

func TestDisplayDocument(t *testing.T) {
	s := newPreviewServer(t, Config{})
	h := s.previewRoutes()
	res := doHost(t, h, "GET", "/display?parent="+url.QueryEscape("http://play.test:8080"), "play.test:8081").Result()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	want := map[string]string{
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Embedder-Policy": "require-corp",
		"Cross-Origin-Resource-Policy": "cross-origin",
		"X-Frame-Options":              "",
		"Cache-Control":                "no-cache",
		"Content-Type":                 "text/html; charset=UTF-8",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	csp := res.Header.Get("Content-Security-Policy")
	// Only the playground may frame it, and user HTML can load or send nothing.
	for _, part := range []string{"frame-ancestors http://play.test:8080;", "default-src 'none';", "img-src data: blob:;", "form-action 'none'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("CSP %q lacks %q", csp, part)
		}
	}
	for _, bad := range []string{"'self'", "connect-src"} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP %q has %q", csp, bad)
		}
	}
	// The parent is a JS string, checked against every message's origin.
	if !strings.Contains(string(body), `const parent = "http://play.test:8080";`) || !strings.Contains(string(body), "e.origin !== parent") {
		t.Errorf("body does not name its parent:\n%s", body)
	}
}

func TestDisplayParentMustBeThePlayground(t *testing.T) {
	h := newPreviewServer(t, Config{}).previewRoutes()
	for _, parent := range []string{"", "http://evil.test:8080", "http://play.test:9999", "null", `http://play.test:8080/"</script>`} {
		if rec := doHost(t, h, "GET", "/display?parent="+url.QueryEscape(parent), "play.test:8081"); rec.Code != 400 {
			t.Errorf("parent %q: status %d, want 400", parent, rec.Code)
		}
	}
}
