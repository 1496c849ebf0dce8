package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
)

// SnippetOptions configures sharing: what a snippet may hold and how fast
// one client may create them. The zero value means the default limits and
// no rate limit.
type SnippetOptions struct {
	// Limits bounds a snippet; zero fields mean snippets.DefaultLimits.
	Limits snippets.Limits
	// CreatesPerMinute is how many snippets one client (one IPv4 address
	// or IPv6 /64) may create per minute on average; 0 means no limit.
	// The same rate, counted apart, bounds its new A/B benchmarks.
	CreatesPerMinute float64
	// CreateBurst is how many it may create at once before the rate
	// applies; at least 1 when CreatesPerMinute is set.
	CreateBurst int
	// StoreTimeout bounds each store call made for a request, so that a
	// wedged database answers 503 instead of piling up requests; 0 means
	// DefaultStoreTimeout.
	StoreTimeout time.Duration
	// DailyBytesPerClient is how many bytes of new snippets (code, html and
	// title) one client may store in a day (quota.go); 0 means
	// DefaultDailyBytesPerClient, negative no quota.
	DailyBytesPerClient int64
	// CacheBytes bounds the memory that keeps snippets and their rendered
	// pages (see snippet_cache.go); 0 means DefaultSnippetCacheBytes,
	// negative turns the cache off.
	CacheBytes int64

	// clock replaces time.Now for the cache, in tests.
	clock func() time.Time
}

// DefaultStoreTimeout is SnippetOptions.StoreTimeout's default.
const DefaultStoreTimeout = 5 * time.Second

// immutableCache is the caching of anything addressed by a snippet ID: the
// content behind an ID never changes.
const immutableCache = "public, max-age=31536000, immutable"

// snippetAPI serves POST /api/snippets, GET /api/snippets/{id}, and the
// snippet pages /s/{id} and /s/{id}.py.
type snippetAPI struct {
	s       *Server
	store   snippets.Store
	limits  snippets.Limits
	timeout time.Duration
	limiter *clientLimiter // nil: no rate limit
	quota   *byteQuota     // nil: no daily quota
	cache   *snippetCache  // nil: off
	now     func() time.Time
	created *prometheus.CounterVec
}

// newSnippetAPI applies the snippet options' defaults and registers the
// API's metrics.
func newSnippetAPI(s *Server) *snippetAPI {
	opt := s.cfg.Snippets
	a := &snippetAPI{s: s, store: s.cfg.Store, limits: opt.Limits.WithDefaults(), timeout: opt.StoreTimeout, now: opt.clock}
	if a.now == nil {
		a.now = time.Now
	}
	if a.timeout <= 0 {
		a.timeout = DefaultStoreTimeout
	}
	switch {
	case opt.CacheBytes == 0:
		a.cache = newSnippetCache(DefaultSnippetCacheBytes, snippetCacheTTL)
	case opt.CacheBytes > 0:
		a.cache = newSnippetCache(opt.CacheBytes, snippetCacheTTL)
	}
	a.created = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pyplay_snippet_creations_total",
		Help: "POST /api/snippets outcomes: created, existing, rejected (4xx), rate_limited, over_quota, failed (5xx).",
	}, []string{"result"})
	s.metrics.registry.MustRegister(a.created)
	switch {
	case opt.DailyBytesPerClient == 0:
		a.quota = newByteQuota(DefaultDailyBytesPerClient)
	case opt.DailyBytesPerClient > 0:
		a.quota = newByteQuota(opt.DailyBytesPerClient)
	}
	if opt.CreatesPerMinute > 0 {
		a.limiter = newClientLimiter(opt.CreatesPerMinute/60, opt.CreateBurst)
	}
	return a
}

// routes registers the snippet API and pages on e.
func (a *snippetAPI) routes(e *echo.Echo) {
	var create []echo.MiddlewareFunc
	if a.limiter != nil {
		create = append(create, limitPerClient(a.limiter, "new snippets", func() { a.created.WithLabelValues("rate_limited").Inc() }))
	}
	get := func(path string, h echo.HandlerFunc) { e.Match([]string{http.MethodGet, http.MethodHead}, path, h) }
	e.POST("/api/snippets", a.create, create...)
	get("/api/snippets/:id", a.get)
	get("/s/:id", a.page) // also /s/{id}.py: echo cannot split a segment
	// A baseline for load tests and a liveness probe: it answers without
	// touching the store, unlike /healthz.
	get("/api/ping", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, pingBody)
	})
}

var pingBody = []byte(`{"status":"ok"}` + "\n")

// createResponse is the body of 201 and 200 answers to POST /api/snippets.
type createResponse struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Name is what the snippet is called (snippets.Snippet.Name), so that
	// the page can name itself as /s/{id} would; "" when nothing names it.
	Name string `json:"name"`
}

// create stores the snippet in the request body: 201 when it is new, 200
// when the same content was shared before (content addressing).
func (a *snippetAPI) create(c echo.Context) error {
	req, res := c.Request(), c.Response()
	res.Header().Set(echo.HeaderCacheControl, "no-store")
	err := a.createSnippet(c)
	if err != nil {
		_, _, status := response.Classify(err)
		switch {
		case status == http.StatusTooManyRequests: // over the quota: counted as such
		case status >= 500:
			a.created.WithLabelValues("failed").Inc()
		default:
			a.created.WithLabelValues("rejected").Inc()
		}
		// A body refused unread would otherwise be drained to keep the
		// connection alive; it is not worth reading.
		if req.ContentLength != 0 && (status == http.StatusRequestEntityTooLarge || status == http.StatusUnsupportedMediaType) {
			res.Header().Set(echo.HeaderConnection, "close")
		}
	}
	return err
}

func (a *snippetAPI) createSnippet(c echo.Context) error {
	req, res := c.Request(), c.Response()
	if err := response.RequireJSON(req.Header.Get(echo.HeaderContentType), "the snippet"); err != nil {
		return err
	}
	max := a.limits.MaxBody()
	if req.ContentLength > max {
		return snippets.Errorf(snippets.TooLarge, "request body is %d bytes; the limit is %d bytes (%d bytes of code)",
			req.ContentLength, max, a.limits.MaxCode)
	}
	if err := a.s.storage.writable(); err != nil {
		return response.StoreError(c, err)
	}
	body := http.MaxBytesReader(res, req.Body, max)
	sn, err := snippets.Decode(body, a.limits)
	if err != nil {
		return err
	}
	if err := a.storeReady(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(req.Context(), a.timeout)
	defer cancel()
	// Reserved before the write and given back unless it stored something
	// new, so that concurrent requests cannot overdraw the quota. A
	// snippet that exists costs nothing, even over the quota.
	client, size, reserved := clientKey(c.RealIP()), snippetSize(sn), false
	if a.quota != nil {
		ok, used, wait := a.quota.reserve(client, size, a.now())
		if !ok && !a.exists(ctx, sn.ID) {
			a.created.WithLabelValues("over_quota").Inc()
			return overQuota(c, used, a.quota.limit, wait)
		}
		reserved = ok
	}
	created, err := a.store.Put(ctx, sn)
	a.s.storage.noteWrite(err, time.Now())
	if reserved && !created {
		a.quota.refund(client, size)
	}
	if err != nil {
		return response.StoreError(c, fmt.Errorf("create snippet %s: %w", sn.ID, err))
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		res.Header().Set(echo.HeaderLocation, "/api/snippets/"+sn.ID)
		a.created.WithLabelValues("created").Inc()
	} else {
		a.created.WithLabelValues("existing").Inc()
	}
	return c.JSON(status, createResponse{ID: sn.ID, URL: "/s/" + sn.ID, Name: sn.Name()})
}

// get answers GET /api/snippets/{id}: the snippet as JSON, cached for
// good, since the content behind an ID never changes.
func (a *snippetAPI) get(c echo.Context) error {
	sn, err := a.lookup(c, c.Param("id"))
	if err != nil {
		return err
	}
	if a.notModified(c, sn.ID) {
		return nil
	}
	// Clients get the interpreter named (EffectiveInterpreter), so that
	// they need not know which one is the default.
	out := *sn
	out.Interpreter = sn.EffectiveInterpreter()
	return c.JSON(http.StatusOK, &out)
}

// page answers GET /s/{id} (the editor on the snippet) and /s/{id}.py
// (its code as a file).
func (a *snippetAPI) page(c echo.Context) error {
	id := c.Param("id")
	if raw, ok := strings.CutSuffix(id, ".py"); ok {
		return a.raw(c, raw)
	}
	h := c.Response().Header()
	// Shared programs are their authors' business, not a search engine's.
	h.Set("X-Robots-Tag", "noindex")
	sn, err := a.lookup(c, id)
	if err != nil {
		return a.pageError(c, err)
	}
	return a.renderPage(c, sn)
}

// renderPage renders the editor on sn, or sends the copy rendered before,
// with an ETag so that a browser coming back gets 304. The page depends on
// the snippet, the build and the runtime ?runtime= asks for (one of the few
// valid ones), nothing else a client sends (so no Host header can make a
// copy of its own or push others out); in -dev the templates change under
// it, so nothing is kept.
func (a *snippetAPI) renderPage(c echo.Context, sn *snippets.Snippet) error {
	if a.cache == nil || a.s.cfg.Dev {
		return a.s.renderEditor(c, sn)
	}
	now := a.now()
	key := sn.ID + "|" + a.s.manifest.Load().Build + "|" + askedRuntime(c)
	p, ok := a.cache.page(key, now)
	if !ok {
		var err error
		if p, err = a.capturePage(c, sn); err != nil || p == nil {
			return err
		}
		if p.status == http.StatusOK {
			a.cache.addPage(key, p, now)
		}
	}
	h := c.Response().Header()
	for k, v := range p.header {
		h[k] = v[:len(v):len(v)] // an Add below must not write into the cached slice
	}
	body, etag := p.body, p.etag
	if p.gzip != nil {
		h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
		if acceptedEncodings(c.Request().Header.Get(echo.HeaderAcceptEncoding))["gzip"] {
			// Each encoding is its own representation, with its own ETag.
			body, etag = p.gzip, strings.TrimSuffix(p.etag, `"`)+`-gz"`
			h.Set(echo.HeaderContentEncoding, "gzip")
		}
	}
	h.Set("ETag", etag)
	if p.status == http.StatusOK && etagMatch(c.Request().Header.Get("If-None-Match"), etag) {
		h.Del(echo.HeaderContentEncoding)
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(p.status, h.Get(echo.HeaderContentType), body)
}

// capturePage runs renderEditor into a buffer, keeping the status and the
// headers it set. It returns nil, nil if renderEditor wrote no page.
func (a *snippetAPI) capturePage(c echo.Context, sn *snippets.Snippet) (*cachedPage, error) {
	res := c.Response()
	before := res.Header().Clone()
	buf := &bufferWriter{header: res.Header()}
	orig := res.Writer
	res.Writer = buf
	err := a.s.renderEditor(c, sn)
	res.Writer = orig
	if err != nil || buf.status == 0 {
		return nil, err
	}
	// Undo echo's note that the response went out: it went to the buffer.
	res.Committed, res.Status, res.Size = false, http.StatusOK, 0
	sum := sha256.Sum256(buf.body.Bytes())
	p := &cachedPage{
		status: buf.status,
		header: headerChanges(before, res.Header()),
		body:   buf.body.Bytes(),
		etag:   `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`,
	}
	// Compressed once here, sent many times: a page is mostly markup and
	// the starter examples, which shrink to a third.
	if p.header.Get(echo.HeaderContentEncoding) == "" && len(p.body) >= 1024 {
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(p.body)
		if zw.Close() == nil && gz.Len() < len(p.body) {
			p.gzip = gz.Bytes()
		}
	}
	return p, nil
}

// raw answers GET /s/{id}.py: the code alone, as a download.
func (a *snippetAPI) raw(c echo.Context, id string) error {
	h := c.Response().Header()
	h.Set("X-Robots-Tag", "noindex")
	sn, err := a.lookup(c, id)
	if err != nil {
		return err
	}
	h.Set(echo.HeaderContentDisposition, response.Attachment(downloadName(sn)))
	if a.notModified(c, sn.ID) {
		return nil
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(sn.Code))
}

// lookup fetches the snippet with the given ID, for the snippet API and
// pages and for the benchmark lab: the one place that tells a client an
// ID is unknown. Until it succeeds the response may not be cached: an
// unknown ID may be created later, and an outage ends.
func (a *snippetAPI) lookup(c echo.Context, id string) (*snippets.Snippet, error) {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	if err := snippets.CheckID(id); err != nil {
		return nil, snippets.Errorf(snippets.NotFound, "no snippet with ID %q: %v", response.Truncate(id, 64), err)
	}
	if err := a.storeReady(); err != nil {
		return nil, err
	}
	now := a.now()
	if sn, ok := a.cache.snippet(id, now); ok {
		return sn, nil
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), a.timeout)
	defer cancel()
	sn, err := a.store.Get(ctx, id)
	if err != nil {
		if snippets.ErrorCode(err) == snippets.NotFound {
			return nil, snippets.Errorf(snippets.NotFound, "no snippet with ID %s: the link may be incomplete, or the snippet was removed", id)
		}
		return nil, response.StoreError(c, fmt.Errorf("get snippet %s: %w", id, err))
	}
	a.cache.addSnippet(sn, now)
	return sn, nil
}

// exists reports whether the snippet with the given ID is stored (false
// when the store cannot tell).
func (a *snippetAPI) exists(ctx context.Context, id string) bool {
	if _, ok := a.cache.snippet(id, a.now()); ok {
		return true
	}
	_, err := a.store.Get(ctx, id)
	return err == nil
}

// notModified sets the caching headers of a snippet's representation and
// answers 304 when the client already has it. The ETag is the ID itself:
// it is a hash of everything the response carries.
func (a *snippetAPI) notModified(c echo.Context, id string) bool {
	h := c.Response().Header()
	etag := `"` + id + `"`
	h.Set("ETag", etag)
	h.Set(echo.HeaderCacheControl, immutableCache)
	if etagMatch(c.Request().Header.Get("If-None-Match"), etag) {
		c.NoContent(http.StatusNotModified)
		return true
	}
	return false
}

// etagMatch implements If-None-Match's weak comparison (RFC 9110 13.1.2).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func (a *snippetAPI) storeReady() error {
	if a.store == nil {
		return snippets.Errorf(snippets.Unavailable, "snippet storage is not configured on this server")
	}
	return nil
}

// pageError answers an error on /s/{id} (and /embed/{id}) with the error
// page for browsers, titled for a snippet, and as JSON to everything else.
func (a *snippetAPI) pageError(c echo.Context, err error) error {
	if !response.WantsPage(c.Request()) {
		return err
	}
	code, msg, status := response.Classify(err)
	var title string
	switch {
	case status == http.StatusNotFound:
		title = "Snippet not found"
	case code == snippets.Unavailable:
		title = "Snippets are unavailable right now"
		if a.store != nil {
			msg = "the snippet database is not answering. Try again in a few seconds; nothing is lost"
		}
	default:
		// The app's error handler logs it and answers with its page.
		return err
	}
	return response.ErrorPage(c, status, title, msg)
}

// downloadName is the file name offered for a snippet's code: its title
// made safe for every file system, or its ID.
func downloadName(sn *snippets.Snippet) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(sn.Title) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('_')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	name := strings.TrimRight(b.String(), "_")
	if name == "" {
		return sn.ID + ".py"
	}
	return name + ".py"
}
