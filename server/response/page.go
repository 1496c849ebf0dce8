package response

import (
	"html/template"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/pyplay/pyplay/snippets"
)

// WantsPage reports whether an error on req is for a person's browser: a
// navigation (GET or HEAD asking for HTML) to anything but the JSON API. A
// JSON body is no way to tell a person a link is broken; programs, which
// do not ask for HTML first, keep getting ErrorBody.
func WantsPage(req *http.Request) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	if p := req.URL.Path; p == "/api" || strings.HasPrefix(p, "/api/") {
		return false
	}
	return acceptsHTML(req.Header.Get(echo.HeaderAccept))
}

// acceptsHTML reports whether an Accept header asks for HTML, as browsers'
// navigations do.
func acceptsHTML(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		if mt = strings.TrimSpace(mt); mt == "text/html" || mt == "application/xhtml+xml" {
			return true
		}
	}
	return false
}

// pageTitle is an error page's heading when the handler names none.
func pageTitle(code string, status int) string {
	switch {
	case status == http.StatusNotFound:
		return "Page not found"
	case code == snippets.Unavailable:
		return "Unavailable right now"
	case status == http.StatusTooManyRequests:
		return "Too many requests"
	case status < 500:
		return "That request cannot be answered"
	default:
		return "Something went wrong"
	}
}

// ErrorPage answers with the small HTML page for status: title as its
// heading, message (an error message, as in ErrorBody) as a sentence under
// it, and a way back to the playground.
func ErrorPage(c echo.Context, status int, title, message string) error {
	var buf strings.Builder
	if err := errorPageTemplate.Execute(&buf, errorPage{Title: title, Message: Sentence(message)}); err != nil {
		return err
	}
	if c.Request().Method == http.MethodHead {
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		return c.NoContent(status)
	}
	return c.HTML(status, buf.String())
}

// Sentence capitalises an error message and ends it with a full stop, for a
// page: messages are written to follow "error: " in logs and JSON.
func Sentence(msg string) string {
	r, n := utf8.DecodeRuneInString(msg)
	if n == 0 {
		return msg
	}
	msg = string(unicode.ToUpper(r)) + msg[n:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

type errorPage struct {
	Title, Message string
}

var errorPageTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}} · pyplay</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
:root { color-scheme: light dark; }
body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 15vh auto; padding: 0 1rem; }
h1 { font-size: 1.4rem; } p { opacity: .8; overflow-wrap: anywhere; }
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
<p><a href="/">Open the playground</a> to write a new program.</p>
</main>
</body>
</html>
`))
