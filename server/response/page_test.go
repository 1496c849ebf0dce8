package response

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/pyplay/pyplay/snippets"
)

// A browser following a broken link to any page gets a page that says what
// is wrong; programs and the JSON API keep getting ErrorBody.
func TestErrorHandlerAnswersNavigationsWithAPage(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = ErrorHandler(slog.New(slog.DiscardHandler))
	notFound := func(echo.Context) error {
		return snippets.Errorf(snippets.NotFound, `no A/B benchmark with ID "x": IDs are 16 letters, <digits>`)
	}
	e.GET("/bench/ab/:id", notFound)
	e.POST("/bench/ab/:id", notFound)
	e.HEAD("/bench/ab/:id", notFound)
	e.GET("/api/bench/ab/:id", notFound)
	e.GET("/boom", func(echo.Context) error { return errors.New("secret detail") })
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

	for _, tc := range []struct {
		method, path, accept string
		page                 bool
		status               int
		want                 []string
	}{
		{"GET", "/bench/ab/x", browser, true, 404, []string{"<title>Page not found · pyplay</title>", "<h1>Page not found</h1>",
			"<p>No A/B benchmark with ID &#34;x&#34;: IDs are 16 letters, &lt;digits&gt;.</p>", `<a href="/">`}},
		{"GET", "/no/such/page", browser, true, 404, []string{"<h1>Page not found</h1>", "<p>Not Found.</p>"}},
		{"GET", "/boom", browser, true, 500, []string{"<h1>Something went wrong</h1>", "<p>Internal error.</p>"}},
		{"GET", "/bench/ab/x", "*/*", false, 404, []string{`"code":"not_found"`}},
		{"GET", "/bench/ab/x", "", false, 404, []string{`"code":"not_found"`}},
		{"GET", "/api/bench/ab/x", browser, false, 404, []string{`"code":"not_found"`}},
		{"POST", "/bench/ab/x", browser, false, 404, []string{`"code":"not_found"`}},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		if tc.accept != "" {
			req.Header.Set("Accept", tc.accept)
		}
		if got := WantsPage(req); got != tc.page {
			t.Errorf("%s %s (Accept %q): WantsPage = %v, want %v", tc.method, tc.path, tc.accept, got, tc.page)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, rec.Code, tc.status)
		}
		ct := rec.Header().Get("Content-Type")
		if tc.page != strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s %s (Accept %q): Content-Type %q", tc.method, tc.path, tc.accept, ct)
		}
		if !tc.page {
			var b ErrorBody
			if err := json.Unmarshal(body, &b); err != nil || b.Error.Code == "" {
				t.Errorf("%s %s: not an ErrorBody: %s", tc.method, tc.path, body)
			}
		}
		for _, w := range tc.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("%s %s: body lacks %q:\n%s", tc.method, tc.path, w, body)
			}
		}
		if strings.Contains(string(body), "secret detail") {
			t.Errorf("%s %s: an internal error's detail reached the client", tc.method, tc.path)
		}
	}

	// HEAD: the status and type, no body.
	req := httptest.NewRequest(http.MethodHead, "/bench/ab/x", nil)
	req.Header.Set("Accept", browser)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != 404 || rec.Body.Len() != 0 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("HEAD: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{"": "", "no snippet": "No snippet.", "done.": "Done.", "élan": "Élan."} {
		if got := Sentence(in); got != want {
			t.Errorf("Sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
