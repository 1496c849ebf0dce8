package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pyplay/pyplay/snippets"
)

// contentTypes are set explicitly rather than left to the platform's MIME
// table: .wasm must be application/wasm for streaming compilation and .mjs
// must be JavaScript for module workers, whatever /etc/mime.types says.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".wasm": "application/wasm",
	".json": "application/json",
	".map":  "application/json",
	".zip":  "application/zip",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
	".py":   "text/plain; charset=utf-8",
}

func contentType(name string) string {
	ext := path.Ext(name)
	if ct, ok := contentTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// assetServer serves files from an fs.FS with precompressed variants chosen
// by Accept-Encoding, strong ETags and cache headers. Files under a
// content-hashed or versioned path never change, so they are immutable.
type assetServer struct {
	fsys  fs.FS
	cache bool     // remember ETags (embedded files never change)
	etags sync.Map // name → etag
}

// notFound is the 404 of a path that names nothing: a file, a page.
func notFound(msg string) error { return snippets.Errorf(snippets.NotFound, "%s", msg) }

type encoding struct{ name, ext string }

// encodings in order of preference.
var encodings = []encoding{{"br", ".br"}, {"gzip", ".gz"}}

// serve writes the file name (a path inside fsys) or a 404 JSON error.
func (a *assetServer) serve(c echo.Context, name string, immutable bool) error {
	if !fs.ValidPath(name) || strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".tmp") {
		return notFound("no such file")
	}
	req, res := c.Request(), c.Response()
	h := res.Header()
	h.Add("Vary", "Accept-Encoding")
	served, enc := name, ""
	accepted := acceptedEncodings(req.Header.Get("Accept-Encoding"))
	for _, e := range encodings {
		if accepted[e.name] && a.exists(name+e.ext) {
			served, enc = name+e.ext, e.name
			break
		}
	}
	f, err := a.fsys.Open(served)
	if err != nil {
		return notFound("no such file")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return notFound("no such file")
	}
	etag, body, err := a.etag(served, f)
	if err != nil {
		return err
	}
	h.Set(echo.HeaderContentType, contentType(name))
	if enc != "" {
		h.Set(echo.HeaderContentEncoding, enc)
	}
	h.Set("ETag", etag)
	if immutable {
		h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		h.Set(echo.HeaderCacheControl, "no-cache")
	}
	http.ServeContent(res, req, "", time.Time{}, body)
	return nil
}

func (a *assetServer) exists(name string) bool {
	st, err := fs.Stat(a.fsys, name)
	return err == nil && !st.IsDir()
}

// etag returns the file's strong ETag and a seekable body.
func (a *assetServer) etag(name string, f fs.File) (string, io.ReadSeeker, error) {
	rs, seekable := f.(io.ReadSeeker)
	if a.cache && seekable {
		if e, ok := a.etags.Load(name); ok {
			return e.(string), rs, nil
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(data)
	e := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	if a.cache {
		a.etags.Store(name, e)
	}
	return e, bytes.NewReader(data), nil
}

// acceptedEncodings parses Accept-Encoding, honouring q=0 refusals.
func acceptedEncodings(header string) map[string]bool {
	out := map[string]bool{}
	for _, part := range strings.Split(header, ",") {
		token, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		token = strings.ToLower(strings.TrimSpace(token))
		if token == "" {
			continue
		}
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		out[token] = q > 0
	}
	return out
}
