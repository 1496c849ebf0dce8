package server

// Rich output (display() in the Output log, web/editor/richoutput.ts) shows
// HTML from user code. It must never run with the playground's origin, so
// it is rendered in a frame of the preview origin's /display document, and
// the playground adds sandbox="allow-scripts" without allow-same-origin:
// the document runs in an opaque origin, with no access to the playground
// (another origin), nor to the preview origin's storage (PyScript pages'),
// nor to cookies or storage at all. Its CSP allows inline scripts (the
// sizing script below, and the user's own: HTML output of libraries often
// carries some) but no request of any kind: images and fonts only as data:
// or blob: URLs. See docs/output.md.

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"
)

// displayCSP: %s is frame-ancestors (the playground that asked).
const displayCSP = "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; " +
	"img-src data: blob:; font-src data:; media-src data: blob:; frame-ancestors %s; base-uri 'none'; form-action 'none'"

// displayTemplate waits for one {type: "render", html} message from its
// parent (the playground origin, checked), inserts the HTML so that its
// scripts run, and reports the content's height ({type: "size"}) whenever
// it changes, so the playground sizes the frame (up to its limit).
var displayTemplate = template.Must(template.New("display").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="color-scheme" content="light dark">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Output · pyplay</title>
<style>
:root { color-scheme: light dark; font: 14px/1.45 system-ui, sans-serif; }
body { margin: 0; padding: 4px 2px; }
img, svg, video, canvas { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 2px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; text-align: right; border-bottom: 1px solid rgb(128 128 128 / 35%); }
thead th { border-bottom: 2px solid rgb(128 128 128 / 60%); }
tbody tr:nth-child(odd) { background: rgb(128 128 128 / 8%); }
</style>
<script>
(() => {
  const parent = {{.}};
  let rendered = false;
  const size = () => window.parent.postMessage({ type: "size", height: document.documentElement.scrollHeight }, parent);
  addEventListener("message", (e) => {
    if (rendered || e.source !== window.parent || e.origin !== parent) return;
    const m = e.data;
    if (!m || m.type !== "render" || typeof m.html !== "string") return;
    rendered = true;
    const range = document.createRange();
    range.selectNodeContents(document.body);
    document.body.append(range.createContextualFragment(m.html));
    size();
  });
  addEventListener("DOMContentLoaded", () => {
    new ResizeObserver(size).observe(document.body);
    window.parent.postMessage({ type: "ready" }, parent);
  });
})();
</script>
</head>
<body></body>
</html>
`))

// displayDocument serves the frame for the playground named by ?parent=
// (checked as for previews).
func (s *Server) displayDocument(c echo.Context) error {
	parent, err := s.previewParent(c.Request())
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := displayTemplate.Execute(&buf, parent); err != nil {
		return err
	}
	h := c.Response().Header()
	allowFraming(h, fmt.Sprintf(displayCSP, parent))
	h.Set("Cache-Control", "no-cache")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}
