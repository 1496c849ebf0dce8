package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/sqlite"
)

// newSnippetServer is a server over a real SQLite store in t.TempDir().
func newSnippetServer(t testing.TB, opt SnippetOptions) (*Server, snippets.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pyplay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newServerWithStore(t, opt, st), st
}

func newServerWithStore(t testing.TB, opt SnippetOptions, st snippets.Store) *Server {
	t.Helper()
	s, err := New(Config{Static: testStatic(t), Store: st, Snippets: opt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cancel() })
	return s
}

// apiRequest describes one HTTP apiRequest to a handler under test.
type apiRequest struct {
	method, target string
	body           string
	header         map[string]string
	remote         string // RemoteAddr; default 192.0.2.1:1234
	chunked        bool   // no Content-Length
}

func serveAPI(t testing.TB, h http.Handler, r apiRequest) *httptest.ResponseRecorder {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	req := httptest.NewRequest(r.method, r.target, strings.NewReader(r.body))
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if r.remote != "" {
		req.RemoteAddr = r.remote
	}
	if r.chunked {
		req.ContentLength = -1
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func postSnippet(t testing.TB, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	return serveAPI(t, h, apiRequest{method: http.MethodPost, target: "/api/snippets", body: body,
		header: map[string]string{"Content-Type": "application/json"}})
}

// jsonOf is a JSON object built with encoding/json, so test inputs with
// quotes and control characters stay readable.
func jsonOf(fields map[string]any) string {
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func apiErrorOf(t testing.TB, rec *httptest.ResponseRecorder) (code, message string) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error with Content-Type %q: %s", ct, rec.Body)
	}
	var body response.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q: %v", rec.Body, err)
	}
	return body.Error.Code, body.Error.Message
}

func countSnippets(t testing.TB, st snippets.Store) int {
	t.Helper()
	n := 0
	if err := st.Each(context.Background(), func(*snippets.Snippet) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateSnippetErrors(t *testing.T) {
	big := strings.Repeat("x", snippets.DefaultLimits.MaxCode+1)
	huge := strings.Repeat("y", 3*snippets.DefaultLimits.MaxCode)
	tests := []struct {
		name        string
		contentType string // default application/json
		body        string
		chunked     bool
		status      int
		code        string
		message     string // a substring of the message
	}{
		{name: "empty body", body: "", status: 400, code: "invalid", message: "request body is empty"},
		{name: "malformed JSON", body: `{"code": "print(1)"`, status: 400, code: "invalid", message: "malformed JSON at line 1"},
		{name: "malformed JSON position", body: "{\n  \"code\": print(1)\n}", status: 400, code: "invalid", message: "malformed JSON at line 2"},
		{name: "not an object", body: `["print(1)"]`, status: 400, code: "invalid", message: "must be a JSON object"},
		{name: "missing code", body: `{"runtime": "pyodide"}`, status: 400, code: "invalid", message: "code is missing"},
		{name: "null code", body: `{"code": null}`, status: 400, code: "invalid", message: "code is missing"},
		{name: "blank code", body: `{"code": "  \n\t"}`, status: 400, code: "invalid", message: "code is empty"},
		{name: "code not a string", body: `{"code": 42}`, status: 400, code: "invalid", message: `"code" must be a string`},
		{name: "invalid UTF-8", body: "{\"code\": \"print('\xff')\"}", status: 400, code: "invalid", message: "not valid UTF-8"},
		{name: "lone surrogate", body: `{"code": "print('\ud800')"}`, status: 400, code: "invalid", message: "lone surrogate"},
		{name: "NUL in code", body: `{"code": "print(1)\u0000"}`, status: 400, code: "invalid", message: "NUL"},
		{name: "NUL in title", body: `{"code": "print(1)", "title": "a\u0000b"}`, status: 400, code: "invalid", message: "NUL"},
		{name: "unknown runtime", body: `{"code": "print(1)", "runtime": "cpython"}`, status: 400, code: "invalid", message: `unknown runtime "cpython"`},
		{name: "long title", body: jsonOf(map[string]any{"code": "print(1)", "title": strings.Repeat("é", 201)}), status: 400, code: "invalid", message: "title is 201 characters; the limit is 200"},
		{name: "multi-line title", body: `{"code": "print(1)", "title": "a\nb"}`, status: 400, code: "invalid", message: "single line"},
		{name: "unknown field", body: `{"code": "print(1)", "lang": "python"}`, status: 400, code: "invalid", message: `unknown field "lang"`},
		{name: "repeated field", body: `{"code": "print(1)", "code": "print(2)"}`, status: 400, code: "invalid", message: "more than once"},
		{name: "trailing data", body: `{"code": "print(1)"} {}`, status: 400, code: "invalid", message: "after the JSON object"},
		{name: "html without pyscript", body: `{"code": "print(1)", "html": "<p>"}`, status: 400, code: "invalid", message: "only allowed with runtime pyscript"},
		{name: "interpreter without pyscript", body: `{"code": "print(1)", "interpreter": "micropython"}`, status: 400, code: "invalid", message: "interpreter is only allowed with runtime pyscript"},
		{name: "unknown interpreter", body: `{"code": "print(1)", "runtime": "pyscript", "interpreter": "brython"}`, status: 400, code: "invalid", message: `unknown interpreter "brython"; use pyodide or micropython`},
		{name: "code over the limit", body: jsonOf(map[string]any{"code": big}), status: 413, code: "too_large", message: "code is 65537 bytes; the limit is 65536 bytes"},
		{name: "body over the limit", body: jsonOf(map[string]any{"code": huge}), status: 413, code: "too_large", message: "request body is"},
		{name: "chunked body over the limit", body: jsonOf(map[string]any{"code": huge}), chunked: true, status: 413, code: "too_large", message: "request body is larger than"},
		{name: "no content type", contentType: "-", body: `{"code": "print(1)"}`, status: 415, code: "unsupported_media_type", message: "Content-Type is missing"},
		{name: "text/plain", contentType: "text/plain", body: `{"code": "print(1)"}`, status: 415, code: "unsupported_media_type", message: "application/json"},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: `code=print(1)`, status: 415, code: "unsupported_media_type"},
		{name: "other charset", contentType: "application/json; charset=latin1", body: `{"code": "print(1)"}`, status: 415, code: "unsupported_media_type", message: "UTF-8"},
		{name: "garbled content type", contentType: "application/json; ;;=", body: `{"code": "print(1)"}`, status: 415, code: "unsupported_media_type"},
	}
	s, st := newSnippetServer(t, SnippetOptions{})
	h := s.Handler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := map[string]string{"Content-Type": "application/json"}
			switch tt.contentType {
			case "":
			case "-":
				delete(header, "Content-Type")
			default:
				header["Content-Type"] = tt.contentType
			}
			rec := serveAPI(t, h, apiRequest{method: "POST", target: "/api/snippets", body: tt.body, header: header, chunked: tt.chunked})
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			code, msg := apiErrorOf(t, rec)
			if code != tt.code {
				t.Errorf("code %q, want %q (message %q)", code, tt.code, msg)
			}
			if !strings.Contains(msg, tt.message) {
				t.Errorf("message %q does not contain %q", msg, tt.message)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if n := countSnippets(t, st); n != 0 {
				t.Errorf("%d snippets stored after a refused request", n)
			}
		})
	}
}

func TestCreateSnippet(t *testing.T) {
	s, st := newSnippetServer(t, SnippetOptions{})
	h := s.Handler()
	body := `{"code": "print('hello')\n", "runtime": "micropython", "title": "Hello"}`

	rec := postSnippet(t, h, body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("first share: status %d: %s", rec.Code, rec.Body)
	}
	var first createResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &first); err != nil {
		t.Fatal(err)
	}
	want := &snippets.Snippet{Code: "print('hello')\n", Runtime: snippets.MicroPython, Title: "Hello"}
	want.Seal()
	if first.ID != want.ID || first.URL != "/s/"+want.ID {
		t.Errorf("response %+v, want ID %s and URL /s/%s", first, want.ID, want.ID)
	}
	if loc := rec.Header().Get("Location"); loc != "/api/snippets/"+want.ID {
		t.Errorf("Location %q", loc)
	}

	// The same content again: the same ID, 200, nothing new stored.
	rec = postSnippet(t, h, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("second share: status %d: %s", rec.Code, rec.Body)
	}
	var second createResponse
	json.Unmarshal(rec.Body.Bytes(), &second)
	if second != first {
		t.Errorf("second shareSnippet %+v, first %+v", second, first)
	}
	if n := countSnippets(t, st); n != 1 {
		t.Errorf("%d snippets stored, want 1", n)
	}

	// Any other content is another snippet, even a different title or
	// runtime around the same code.
	for _, other := range []string{
		`{"code": "print('hello')\n", "runtime": "micropython", "title": "Hello!"}`,
		`{"code": "print('hello')\n", "runtime": "pyodide", "title": "Hello"}`,
		`{"code": "print('hello') \n", "runtime": "micropython", "title": "Hello"}`,
	} {
		rec := postSnippet(t, h, other)
		var r createResponse
		json.Unmarshal(rec.Body.Bytes(), &r)
		if rec.Code != http.StatusCreated || r.ID == first.ID {
			t.Errorf("%s: status %d, ID %s (first %s)", other, rec.Code, r.ID, first.ID)
		}
	}

	got, err := st.Get(context.Background(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != want.Code || got.Runtime != want.Runtime || got.Title != want.Title {
		t.Errorf("stored %+v", got)
	}

	// charset=utf-8 is fine, in any case.
	rec = serveAPI(t, h, apiRequest{method: "POST", target: "/api/snippets", body: `{"code": "1"}`,
		header: map[string]string{"Content-Type": "application/json; charset=UTF-8"}})
	if rec.Code != http.StatusCreated {
		t.Errorf("charset=UTF-8: status %d: %s", rec.Code, rec.Body)
	}
}

func TestCreateSnippetConfiguredLimit(t *testing.T) {
	s, st := newSnippetServer(t, SnippetOptions{Limits: snippets.Limits{MaxCode: 100}})
	h := s.Handler()
	if rec := postSnippet(t, h, jsonOf(map[string]any{"code": strings.Repeat("x", 100)})); rec.Code != http.StatusCreated {
		t.Fatalf("100 bytes: status %d: %s", rec.Code, rec.Body)
	}
	rec := postSnippet(t, h, jsonOf(map[string]any{"code": strings.Repeat("x", 101)}))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("101 bytes: status %d: %s", rec.Code, rec.Body)
	}
	if _, msg := apiErrorOf(t, rec); !strings.Contains(msg, "the limit is 100 bytes") {
		t.Errorf("message %q", msg)
	}
	if n := countSnippets(t, st); n != 1 {
		t.Errorf("%d snippets stored, want 1", n)
	}
}

// shareSnippet posts a snippet and returns its ID.
func shareSnippet(t testing.TB, h http.Handler, fields map[string]any) string {
	t.Helper()
	rec := postSnippet(t, h, jsonOf(fields))
	if rec.Code != http.StatusCreated && rec.Code != http.StatusOK {
		t.Fatalf("share: status %d: %s", rec.Code, rec.Body)
	}
	var r createResponse
	json.Unmarshal(rec.Body.Bytes(), &r)
	return r.ID
}

func TestGetSnippet(t *testing.T) {
	s, _ := newSnippetServer(t, SnippetOptions{})
	h := s.Handler()
	code := "import sys\nprint(sys.version)\n</script><img src=x onerror=alert(1)>\n"
	id := shareSnippet(t, h, map[string]any{"code": code, "runtime": "pyodide", "title": "Version"})
	psID := shareSnippet(t, h, map[string]any{"code": "print(1)", "runtime": "pyscript", "html": "<div id=out></div>"})

	rec := serveAPI(t, h, apiRequest{target: "/api/snippets/" + id})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["id"] != id || got["code"] != code || got["runtime"] != "pyodide" || got["title"] != "Version" {
		t.Errorf("body %v", got)
	}
	if _, ok := got["html"]; ok {
		t.Error("html present on a snippet without html")
	}
	if created, err := time.Parse(time.RFC3339Nano, got["created"].(string)); err != nil || time.Since(created) > time.Minute {
		t.Errorf("created %v (%v)", got["created"], err)
	}
	if bytes.Contains(rec.Body.Bytes(), []byte("</script>")) {
		t.Error("JSON body carries a raw </script>")
	}
	etag := `"` + id + `"`
	checkSnippetHeaders(t, rec, map[string]string{
		"ETag":          etag,
		"Cache-Control": "public, max-age=31536000, immutable",
		"Content-Type":  "application/json",
	})

	if _, ok := got["interpreter"]; ok {
		t.Error("interpreter present on a Pyodide snippet")
	}

	rec = serveAPI(t, h, apiRequest{target: "/api/snippets/" + psID})
	got = nil
	json.Unmarshal(rec.Body.Bytes(), &got)
	if got["html"] != "<div id=out></div>" || got["interpreter"] != "pyodide" {
		t.Errorf("pyscript snippet: html %v, interpreter %v", got["html"], got["interpreter"])
	}
	// Naming the default is the same snippet; MicroPython is another one.
	if again := shareSnippet(t, h, map[string]any{"code": "print(1)", "runtime": "pyscript", "html": "<div id=out></div>", "interpreter": "pyodide"}); again != psID {
		t.Errorf("an explicit pyodide gave ID %s, want %s", again, psID)
	}
	mpyID := shareSnippet(t, h, map[string]any{"code": "print(1)", "runtime": "pyscript", "html": "<div id=out></div>", "interpreter": "micropython"})
	if mpyID == psID {
		t.Error("the MicroPython page has the Pyodide page's ID")
	}
	rec = serveAPI(t, h, apiRequest{target: "/api/snippets/" + mpyID})
	got = nil
	json.Unmarshal(rec.Body.Bytes(), &got)
	if got["interpreter"] != "micropython" || got["runtime"] != "pyscript" {
		t.Errorf("MicroPython page: %v", got)
	}

	for _, inm := range []string{etag, "W/" + etag, `"abc", ` + etag, "*"} {
		rec := serveAPI(t, h, apiRequest{target: "/api/snippets/" + id, header: map[string]string{"If-None-Match": inm}})
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("If-None-Match %s: status %d, %d bytes", inm, rec.Code, rec.Body.Len())
		}
		checkSnippetHeaders(t, rec, map[string]string{"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable"})
	}
	rec = serveAPI(t, h, apiRequest{target: "/api/snippets/" + id, header: map[string]string{"If-None-Match": `"` + psID + `"`}})
	if rec.Code != http.StatusOK {
		t.Errorf("another ETag: status %d", rec.Code)
	}
	rec = serveAPI(t, h, apiRequest{method: http.MethodHead, target: "/api/snippets/" + id})
	if rec.Code != http.StatusOK || rec.Header().Get("ETag") != etag {
		t.Errorf("HEAD: status %d, ETag %q", rec.Code, rec.Header().Get("ETag"))
	}
}

func checkSnippetHeaders(t testing.TB, rec *httptest.ResponseRecorder, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := rec.Header().Get(k); !strings.HasPrefix(got, v) {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
}

func TestSnippetNotFound(t *testing.T) {
	s, _ := newSnippetServer(t, SnippetOptions{})
	h := s.Handler()
	unknown := &snippets.Snippet{Code: "never shared", Runtime: snippets.Pyodide}
	unknown.Seal()
	for _, target := range []string{
		"/api/snippets/" + unknown.ID,
		"/api/snippets/short",
		"/api/snippets/" + strings.Repeat("A", 200),
		"/api/snippets/abcdefghij-",
		"/api/snippets/%3Cscript%3E",
		"/api/snippets/",
		"/s/" + unknown.ID + ".py",
		"/s/x.py",
		"/s/" + unknown.ID, // without Accept: text/html
	} {
		rec := serveAPI(t, h, apiRequest{target: target})
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d: %s", target, rec.Code, rec.Body)
			continue
		}
		if code, _ := apiErrorOf(t, rec); code != "not_found" {
			t.Errorf("%s: code %q", target, code)
		}
		if cc := rec.Header().Get("Cache-Control"); target != "/api/snippets/" && cc != "no-store" {
			t.Errorf("%s: Cache-Control %q: a 404 for an ID may turn into a snippet later", target, cc)
		}
	}
	// A browser following a broken link gets a page that says so.
	rec := serveAPI(t, h, apiRequest{target: "/s/" + unknown.ID, header: map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}})
	if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("browser 404: status %d, %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{"<title>Snippet not found · pyplay</title>", "No snippet with ID " + unknown.ID, `href="/"`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("browser 404 lacks %q:\n%s", want, rec.Body)
		}
	}
	if rec.Header().Get("X-Robots-Tag") != "noindex" {
		t.Error("browser 404 without X-Robots-Tag")
	}
	// An ID that is not one is told what is wrong with it.
	for id, want := range map[string]string{
		"abc":            "this one has 3 characters",
		"abcdefghijk-":   "this one ends in &#39;-&#39;",
		"abcdefghijklmn": "its character 11, &#39;k&#39;, is not",
	} {
		rec := serveAPI(t, h, apiRequest{target: "/s/" + id, header: map[string]string{"Accept": "text/html"}})
		if body := rec.Body.String(); rec.Code != http.StatusNotFound || !strings.Contains(body, want) {
			t.Errorf("/s/%s: status %d, page lacks %q:\n%s", id, rec.Code, want, body)
		}
	}
	// An ID that is not one is echoed escaped.
	rec = serveAPI(t, h, apiRequest{target: "/s/%3Cimg%20src=x%3E", header: map[string]string{"Accept": "text/html"}})
	if strings.Contains(rec.Body.String(), "<img") {
		t.Errorf("the 404 page echoes markup:\n%s", rec.Body)
	}
}

// The benchmark lab looks snippets up through the snippet API: an unknown
// ID is told the same way on every route.
func TestUnknownSnippetOneMessage(t *testing.T) {
	s, _ := newSnippetServer(t, SnippetOptions{})
	unknown := &snippets.Snippet{Code: "never shared", Runtime: snippets.Pyodide}
	unknown.Seal()
	want := "no snippet with ID " + unknown.ID + ": the link may be incomplete, or the snippet was removed"
	for _, target := range []string{
		"/api/snippets/" + unknown.ID,
		"/bench/" + unknown.ID,
		"/api/bench/runs?snippet=" + unknown.ID,
		"/api/bench/compare?snippet=" + unknown.ID,
	} {
		rec := serveAPI(t, s.Handler(), apiRequest{target: target})
		if code, msg := apiErrorOf(t, rec); rec.Code != http.StatusNotFound || code != "not_found" || msg != want {
			t.Errorf("%s: %d %s %q, want 404 not_found %q", target, rec.Code, code, msg, want)
		}
	}
}

func TestSnippetPage(t *testing.T) {
	s, _ := newSnippetServer(t, SnippetOptions{})
	h := s.Handler()
	evil := "</script><img src=x onerror=alert(1)>\n</textarea><script>alert(2)</script>\nprint('ok')\n"
	id := shareSnippet(t, h, map[string]any{"code": evil, "runtime": "micropython", "title": "</title><script>alert(3)</script>"})
	plain := shareSnippet(t, h, map[string]any{"code": "print(1)"})

	rec := serveAPI(t, h, apiRequest{target: "/s/" + id, header: map[string]string{"Accept": "text/html"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	checkSnippetHeaders(t, rec, map[string]string{"Content-Type": "text/html", "X-Robots-Tag": "noindex"})
	page := rec.Body.String()
	for _, bad := range []string{"<img src=x", "<script>alert", "</textarea><script", "</title><script"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;", // the code, in the textarea
		"<title>&lt;/title&gt;&lt;script&gt;alert(3)&lt;/script&gt; · pyplay</title>",
		`<option value="micropython" selected>`,
		`<meta name="robots" content="noindex">`,
		`"snippet":{"id":"` + id + `"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	rec = serveAPI(t, h, apiRequest{target: "/s/" + plain})
	if !strings.Contains(rec.Body.String(), "<title>Snippet "+plain+" · pyplay</title>") {
		t.Errorf("untitled snippet: no fitting <title>")
	}
	// Untitled code that introduces itself is named by what it says.
	created := postSnippet(t, h, jsonOf(map[string]any{"code": "# fib\ndef fib(n): ...\n"}))
	var r createResponse
	json.Unmarshal(created.Body.Bytes(), &r)
	if r.Name != "fib" {
		t.Errorf("POST answered name %q, want fib: %s", r.Name, created.Body)
	}
	named := r.ID
	rec = serveAPI(t, h, apiRequest{target: "/s/" + named})
	for _, want := range []string{"<title>fib · pyplay</title>", `<span id="snippet-title">fib</span>`, `"title":"","name":"fib"`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("snippet named by its comment: page lacks %q", want)
		}
	}
	rec = serveAPI(t, h, apiRequest{method: http.MethodHead, target: "/s/" + plain})
	if rec.Code != http.StatusOK {
		t.Errorf("HEAD: status %d", rec.Code)
	}
	// The scratch page is for search engines; snippet pages are not.
	if rec := serveAPI(t, h, apiRequest{target: "/"}); rec.Header().Get("X-Robots-Tag") != "" {
		t.Error("X-Robots-Tag on /")
	}
}

func TestSnippetRaw(t *testing.T) {
	s, _ := newSnippetServer(t, SnippetOptions{})
	h := s.Handler()
	code := "# naïve\nprint('</script>')\n"
	id := shareSnippet(t, h, map[string]any{"code": code, "title": `Ünïcode & "quotes"/../etc: fib(25)`})
	untitled := shareSnippet(t, h, map[string]any{"code": code})

	rec := serveAPI(t, h, apiRequest{target: "/s/" + id + ".py"})
	if rec.Code != http.StatusOK || rec.Body.String() != code {
		t.Fatalf("status %d, body %q", rec.Code, rec.Body)
	}
	checkSnippetHeaders(t, rec, map[string]string{
		"Content-Type":        "text/plain; charset=utf-8",
		"Content-Disposition": `attachment; filename="n_code_quotes_etc_fib_25.py"`,
		"ETag":                `"` + id + `"`,
		"Cache-Control":       "public, max-age=31536000, immutable",
		"X-Robots-Tag":        "noindex",
	})
	rec = serveAPI(t, h, apiRequest{target: "/s/" + untitled + ".py"})
	checkSnippetHeaders(t, rec, map[string]string{"Content-Disposition": `attachment; filename="` + untitled + `.py"`})
	rec = serveAPI(t, h, apiRequest{target: "/s/" + id + ".py", header: map[string]string{"If-None-Match": `"` + id + `"`}})
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match: status %d, %d bytes", rec.Code, rec.Body.Len())
	}
}

func TestDownloadName(t *testing.T) {
	tests := []struct{ title, want string }{
		{"", "ID.py"},
		{"Hello", "hello.py"},
		{"  Fib(25) -- recursion!  ", "fib_25_recursion.py"},
		{"../../etc/passwd", "etc_passwd.py"},
		{"数字", "ID.py"},
		{"a\\b:c*d?e\"f<g>h|i", "a_b_c_d_e_f_g_h_i.py"},
		{strings.Repeat("long ", 40), strings.TrimSuffix(strings.Repeat("long_", 12), "_") + ".py"},
	}
	for _, tt := range tests {
		if got := downloadName(&snippets.Snippet{ID: "ID", Title: tt.title}); got != tt.want {
			t.Errorf("downloadName(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
}

func TestPing(t *testing.T) {
	s := newServerWithStore(t, SnippetOptions{}, nil)
	rec := serveAPI(t, s.Handler(), apiRequest{target: "/api/ping"})
	if rec.Code != http.StatusOK || rec.Body.String() != "{\"status\":\"ok\"}\n" {
		t.Errorf("status %d, body %q", rec.Code, rec.Body)
	}
}

func TestRateLimit(t *testing.T) {
	s, _ := newSnippetServer(t, SnippetOptions{CreatesPerMinute: 60, CreateBurst: 2})
	h := s.Handler()
	create := func(remote string, header map[string]string, code string) *httptest.ResponseRecorder {
		hdr := map[string]string{"Content-Type": "application/json"}
		for k, v := range header {
			hdr[k] = v
		}
		return serveAPI(t, h, apiRequest{method: "POST", target: "/api/snippets", body: jsonOf(map[string]any{"code": code}), header: hdr, remote: remote})
	}
	for i := range 2 {
		if rec := create("198.51.100.7:1000", nil, "print(1)"); rec.Code != http.StatusCreated && rec.Code != http.StatusOK {
			t.Fatalf("creation %d within the burst: status %d", i+1, rec.Code)
		}
	}
	rec := create("198.51.100.7:2000", nil, "print(2)")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("beyond the burst: status %d: %s", rec.Code, rec.Body)
	}
	if ra := rec.Header().Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1 (one creation per second)", ra)
	}
	if code, msg := apiErrorOf(t, rec); code != "rate_limited" || !strings.Contains(msg, "try again in 1 second") {
		t.Errorf("error %s: %s", code, msg)
	}
	// Others are not affected, nor are reads.
	if rec := create("198.51.100.8:1000", nil, "print(3)"); rec.Code != http.StatusCreated {
		t.Errorf("another client: status %d", rec.Code)
	}
	if rec := serveAPI(t, h, apiRequest{target: "/api/ping", remote: "198.51.100.7:1000"}); rec.Code != http.StatusOK {
		t.Errorf("a read by the limited client: status %d", rec.Code)
	}
	// Without trusted proxies, X-Forwarded-For is anyone's to forge.
	if rec := create("198.51.100.7:3000", map[string]string{"X-Forwarded-For": "203.0.113.99"}, "print(4)"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("forged X-Forwarded-For escaped the limit: status %d", rec.Code)
	}
	// One IPv6 /64 is one client.
	for i, remote := range []string{"[2001:db8:1:2::1]:1", "[2001:db8:1:2::2]:1", "[2001:db8:1:2:ffff::3]:1"} {
		rec := create(remote, nil, "print(5)")
		if want := i < 2; (rec.Code == http.StatusTooManyRequests) == want {
			t.Errorf("%s: status %d", remote, rec.Code)
		}
	}
}

func TestRateLimitBehindProxy(t *testing.T) {
	st, _ := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	defer st.Close()
	s, err := New(Config{Static: testStatic(t), Store: st,
		Snippets:       SnippetOptions{CreatesPerMinute: 1, CreateBurst: 1},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.cancel()
	h := s.Handler()
	create := func(remote, xff string) int {
		return serveAPI(t, h, apiRequest{method: "POST", target: "/api/snippets", body: `{"code":"print(1)"}`, remote: remote,
			header: map[string]string{"Content-Type": "application/json", "X-Forwarded-For": xff}}).Code
	}
	// Two visitors behind the same proxy have a bucket each.
	if c := create("10.0.0.2:1", "203.0.113.1"); c != http.StatusCreated {
		t.Errorf("first visitor: %d", c)
	}
	if c := create("10.0.0.2:1", "203.0.113.2"); c != http.StatusOK {
		t.Errorf("second visitor: %d", c)
	}
	if c := create("10.0.0.3:1", "198.51.100.1, 203.0.113.1"); c != http.StatusTooManyRequests {
		t.Errorf("first visitor again (a forged entry before it): %d", c)
	}
}

func TestClientIPExtractor(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	tests := []struct {
		name     string
		trusted  []netip.Prefix
		remote   string
		xff, rip string
		want     string
	}{
		{"direct", nil, "203.0.113.5:1", "", "", "203.0.113.5"},
		{"no proxies: XFF ignored", nil, "203.0.113.5:1", "198.51.100.1", "", "203.0.113.5"},
		{"no proxies: X-Real-IP ignored", nil, "203.0.113.5:1", "", "198.51.100.1", "203.0.113.5"},
		{"no proxies: loopback not trusted", nil, "127.0.0.1:1", "198.51.100.1", "", "127.0.0.1"},
		{"trusted proxy XFF", trusted, "10.1.2.3:1", "198.51.100.1", "", "198.51.100.1"},
		{"trusted proxy chain", trusted, "10.1.2.3:1", "198.51.100.1, 10.9.9.9", "", "198.51.100.1"},
		{"forged entry left of client", trusted, "10.1.2.3:1", "1.2.3.4, 198.51.100.1", "", "198.51.100.1"},
		{"untrusted peer", trusted, "203.0.113.5:1", "198.51.100.1", "", "203.0.113.5"},
		{"private but unlisted peer", trusted, "192.168.1.1:1", "198.51.100.1", "", "192.168.1.1"},
		{"trusted X-Real-IP", trusted, "10.1.2.3:1", "", "198.51.100.1", "198.51.100.1"},
		{"untrusted X-Real-IP", trusted, "203.0.113.5:1", "", "198.51.100.1", "203.0.113.5"},
		{"IPv6 proxy", trusted, "[2001:db8::1]:1", "2001:db8:ffff::1, 2a00::1", "", "2a00::1"},
		{"garbage XFF", trusted, "10.1.2.3:1", "not-an-ip", "", "10.1.2.3"},
		{"garbage within XFF", trusted, "10.1.2.3:1", "198.51.100.1, junk, 10.9.9.9", "", "10.1.2.3"},
		{"XFF with a port", trusted, "10.1.2.3:1", "198.51.100.1:5555", "", "198.51.100.1"},
		{"XFF all trusted", trusted, "10.1.2.3:1", "10.7.7.7, 10.9.9.9", "", "10.7.7.7"},
		// A proxy that sets X-Real-IP only passes the client's XFF on.
		{"X-Real-IP proxy, forged XFF", trusted, "10.1.2.3:1", "203.0.113.77", "198.51.100.1", "10.1.2.3"},
		// A proxy that appends to XFF only passes the client's X-Real-IP on.
		{"XFF proxy, forged X-Real-IP", trusted, "10.1.2.3:1", "198.51.100.1", "203.0.113.77", "10.1.2.3"},
		{"both set by the proxy", trusted, "10.1.2.3:1", "203.0.113.77, 198.51.100.1", "198.51.100.1", "198.51.100.1"},
		{"X-Real-IP names a proxy", trusted, "10.1.2.3:1", "198.51.100.1, 10.9.9.9", "10.9.9.9", "198.51.100.1"},
		{"X-Real-IP garbage", trusted, "10.1.2.3:1", "", "not-an-ip", "10.1.2.3"},
		{"mapped IPv4", trusted, "[::ffff:10.1.2.3]:1", "::ffff:198.51.100.1", "", "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.rip != "" {
				req.Header.Set("X-Real-IP", tt.rip)
			}
			if got := clientIPExtractor(tt.trusted)(req); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClientLimiter(t *testing.T) {
	l := newClientLimiter(1, 3) // 1 per second, 3 at once
	t0 := time.Unix(1_000_000, 0)
	for i := range 3 {
		if ok, _ := l.reserve("a", t0); !ok {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	ok, wait := l.reserve("a", t0)
	if ok || wait != time.Second {
		t.Errorf("beyond the burst: ok %v, wait %v", ok, wait)
	}
	// A refused apiRequest costs nothing: one second later there is a token.
	if ok, _ := l.reserve("a", t0.Add(time.Second)); !ok {
		t.Error("refused after waiting as told")
	}
	// Idle buckets are forgotten once they would be full again.
	l.reserve("b", t0.Add(time.Second))
	l.reserve("c", t0.Add(time.Minute+time.Second))
	if len(l.clients) != 1 || l.clients["c"] == nil {
		t.Errorf("tracked after the sweep: %v, want only c", l.clients)
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.5":          "203.0.113.5",
		"::ffff:203.0.113.5":   "203.0.113.5",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"garbage":              "garbage",
	} {
		if got := clientKey(in); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// outageStore fails every call as a database that is down does, or blocks
// until the caller gives up, as a wedged one does.
type outageStore struct {
	snippets.Store
	wedged bool
}

func (o outageStore) fail(ctx context.Context) error {
	if o.wedged {
		<-ctx.Done()
		return snippets.Errorf(snippets.Unavailable, "the database did not answer in time: %v", ctx.Err())
	}
	return snippets.Errorf(snippets.Unavailable, "the database is unavailable; try again shortly")
}

func (o outageStore) Put(ctx context.Context, _ *snippets.Snippet) (bool, error) {
	return false, o.fail(ctx)
}

func (o outageStore) Get(ctx context.Context, _ string) (*snippets.Snippet, error) {
	return nil, o.fail(ctx)
}

func (o outageStore) Ping(ctx context.Context) error { return o.fail(ctx) }

func TestStoreUnavailable(t *testing.T) {
	id := (&snippets.Snippet{Code: "x", Runtime: snippets.Pyodide}).ContentID()
	for _, tt := range []struct {
		name  string
		store snippets.Store
	}{
		{"down", outageStore{}},
		{"wedged", outageStore{wedged: true}},
		{"not configured", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServerWithStore(t, SnippetOptions{StoreTimeout: 200 * time.Millisecond}, tt.store)
			h := s.Handler()
			for _, r := range []apiRequest{
				{method: "POST", target: "/api/snippets", body: `{"code":"x"}`, header: map[string]string{"Content-Type": "application/json"}},
				{target: "/api/snippets/" + id},
				{target: "/s/" + id + ".py"},
				{target: "/s/" + id},
			} {
				start := time.Now()
				rec := serveAPI(t, h, r)
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("%s %s took %v", r.method, r.target, d)
				}
				if rec.Code != http.StatusServiceUnavailable {
					t.Errorf("%s %s: status %d: %s", r.method, r.target, rec.Code, rec.Body)
					continue
				}
				if code, _ := apiErrorOf(t, rec); code != "unavailable" {
					t.Errorf("%s %s: code %q", r.method, r.target, code)
				}
				if tt.store != nil && rec.Header().Get("Retry-After") == "" {
					t.Errorf("%s %s: no Retry-After", r.method, r.target)
				}
				if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("%s %s: Cache-Control %q", r.method, r.target, cc)
				}
			}
			rec := serveAPI(t, h, apiRequest{target: "/s/" + id, header: map[string]string{"Accept": "text/html"}})
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "unavailable") {
				t.Errorf("browser page during an outage: status %d\n%s", rec.Code, rec.Body)
			}
		})
	}
}

// memoryStore is a quick Store for the fuzz test.
type memoryStore struct {
	snippets.Store
	mu sync.Mutex
	m  map[string]*snippets.Snippet
}

func (m *memoryStore) Put(_ context.Context, s *snippets.Snippet) (bool, error) {
	if err := s.CheckStorable(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[s.ID]; ok {
		return false, nil
	}
	c := *s
	m.m[s.ID] = &c
	return true, nil
}

// FuzzCreateSnippet drives POST /api/snippets with arbitrary bodies: it
// answers 201, 200, 400 or 413, always with JSON, and what it accepts can be
// read back unchanged.
func FuzzCreateSnippet(f *testing.F) {
	for _, seed := range []string{
		`{"code":"print(1)"}`,
		`{"code":"print('hi')","runtime":"micropython","title":"Hi"}`,
		`{"code":"x","runtime":"pyscript","html":"<b>"}`,
		`{"code":"</script>\u0000"}`,
		"{\"code\":\"\xff\"}",
		`{"code":"a","code":"b"}`,
		`{"CODE":"a"}`,
		`{"code":"a"}   `,
		`[`,
		``,
	} {
		f.Add([]byte(seed))
	}
	st := &memoryStore{m: map[string]*snippets.Snippet{}}
	s := newServerWithStore(f, SnippetOptions{Limits: snippets.Limits{MaxCode: 1024, MaxHTML: 1024}}, st)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := serveAPI(t, h, apiRequest{method: "POST", target: "/api/snippets", body: string(body),
			header: map[string]string{"Content-Type": "application/json"}})
		switch rec.Code {
		case http.StatusCreated, http.StatusOK:
			var r createResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
				t.Fatalf("%q: body %q: %v", body, rec.Body, err)
			}
			st.mu.Lock()
			sn := st.m[r.ID]
			st.mu.Unlock()
			if sn == nil || r.URL != "/s/"+r.ID || sn.ContentID() != r.ID {
				t.Fatalf("%q: answered %+v, stored %+v", body, r, sn)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			apiErrorOf(t, rec)
		default:
			t.Fatalf("%q: status %d: %s", body, rec.Code, rec.Body)
		}
	})
}

// Creating A/B benchmarks is limited per client like sharing, in a bucket
// of its own: the editor shares B's code and then creates the benchmark.
func TestRateLimitABs(t *testing.T) {
	s, _ := newSnippetServer(t, SnippetOptions{CreatesPerMinute: 60, CreateBurst: 2})
	h := s.Handler()
	post := func(target, body string) *httptest.ResponseRecorder {
		return serveAPI(t, h, apiRequest{method: "POST", target: target, body: body,
			header: map[string]string{"Content-Type": "application/json"}, remote: "198.51.100.9:1000"})
	}
	var ids []string
	for i := range 2 {
		rec := post("/api/snippets", jsonOf(map[string]any{"code": "print(" + strconv.Itoa(i) + ")"}))
		var out struct{ ID string }
		if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
			t.Fatalf("share %d: %d %s", i, rec.Code, rec.Body)
		}
		ids = append(ids, out.ID)
	}
	ab := jsonOf(map[string]any{"a": ids[0], "b": ids[1], "runtimes": []string{"pyodide"}})
	for i := range 2 {
		if rec := post("/api/bench/ab", ab); rec.Code != http.StatusCreated {
			t.Fatalf("A/B benchmark %d within the burst: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := post("/api/bench/ab", ab)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("beyond the burst: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if code, msg := apiErrorOf(t, rec); code != "rate_limited" || !strings.Contains(msg, "too many new A/B benchmarks") {
		t.Errorf("error %s: %s", code, msg)
	}
}
