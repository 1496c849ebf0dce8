package server

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pyplay/pyplay/snippets"
)

func TestSnippetCacheLRU(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := newSnippetCache(8*(entryOverhead+1000), time.Minute)
	for i := range 8 {
		c.add(fmt.Sprint(i), i, 1000-1, now) // the key takes the last byte
	}
	if _, ok := c.get("0", now); !ok {
		t.Fatal("entry 0 missing before the cache is full")
	}
	c.add("8", 8, 999, now) // evicts the least recently used: 1, not 0
	if _, ok := c.get("1", now); ok {
		t.Error("entry 1 survived; the LRU order is wrong")
	}
	for _, k := range []string{"0", "2", "8"} {
		if _, ok := c.get(k, now); !ok {
			t.Errorf("entry %s evicted", k)
		}
	}
	if c.size > c.max {
		t.Errorf("size %d over the bound %d", c.size, c.max)
	}
	// Entries expire.
	if _, ok := c.get("0", now.Add(time.Minute+time.Second)); ok {
		t.Error("an expired entry was returned")
	}
	if _, ok := c.m["0"]; ok {
		t.Error("an expired entry was kept")
	}
	// One entry may not take more than an eighth.
	c.add("huge", 0, c.max, now)
	if _, ok := c.get("huge", now); ok {
		t.Error("an entry over an eighth of the cache was stored")
	}
	// A nil cache is off, not a crash.
	var off *snippetCache
	off.add("x", 1, 1, now)
	if _, ok := off.get("x", now); ok {
		t.Error("a nil cache returned something")
	}
}

// countingStore counts Gets, to see what the cache saves.
type countingStore struct {
	snippets.Store
	gets int
}

func (s *countingStore) Get(ctx context.Context, id string) (*snippets.Snippet, error) {
	s.gets++
	return s.Store.Get(ctx, id)
}

func TestSnippetPagesCached(t *testing.T) {
	_, st := newSnippetServer(t, SnippetOptions{})
	counting := &countingStore{Store: st}
	h := newServerWithStore(t, SnippetOptions{}, counting).Handler()
	id := shareSnippet(t, h, map[string]any{"code": "print('cached')", "title": "Cached"})

	first := serveAPI(t, h, apiRequest{target: "/s/" + id})
	second := serveAPI(t, h, apiRequest{target: "/s/" + id})
	if first.Code != 200 || second.Code != 200 || first.Body.String() != second.Body.String() {
		t.Fatalf("statuses %d, %d; bodies equal: %v", first.Code, second.Code, first.Body.String() == second.Body.String())
	}
	for _, k := range []string{"Content-Type", "Cache-Control", "X-Robots-Tag", "Content-Security-Policy", "Cross-Origin-Embedder-Policy"} {
		if first.Header().Get(k) != second.Header().Get(k) || first.Header().Get(k) == "" {
			t.Errorf("%s: %q first, %q from the cache", k, first.Header().Get(k), second.Header().Get(k))
		}
	}
	etag := first.Header().Get("ETag")
	if etag == "" || second.Header().Get("ETag") != etag {
		t.Errorf("ETag %q first, %q from the cache", etag, second.Header().Get("ETag"))
	}
	if rec := serveAPI(t, h, apiRequest{target: "/s/" + id, header: map[string]string{"If-None-Match": etag}}); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match: status %d, %d bytes", rec.Code, rec.Body.Len())
	}
	if first.Header().Get("X-Request-Id") == second.Header().Get("X-Request-Id") {
		t.Error("the cached page repeats the first request's ID")
	}
	// Browsers get it gzipped: another representation, another ETag.
	gz := serveAPI(t, h, apiRequest{target: "/s/" + id, header: map[string]string{"Accept-Encoding": "gzip, deflate, br"}})
	if gz.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(gz.Header().Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip: Content-Encoding %q, Vary %q", gz.Header().Get("Content-Encoding"), gz.Header().Get("Vary"))
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if string(plain) != first.Body.String() || gz.Body.Len() >= len(plain) {
		t.Errorf("gzipped page: %d bytes for %d, equal: %v", gz.Body.Len(), len(plain), string(plain) == first.Body.String())
	}
	gzETag := gz.Header().Get("ETag")
	if gzETag == etag || !strings.HasSuffix(gzETag, `-gz"`) {
		t.Errorf("gzip ETag %q beside %q", gzETag, etag)
	}
	if rec := serveAPI(t, h, apiRequest{target: "/s/" + id, header: map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gzETag}}); rec.Code != http.StatusNotModified || rec.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip If-None-Match: status %d, Content-Encoding %q", rec.Code, rec.Header().Get("Content-Encoding"))
	}
	if rec := serveAPI(t, h, apiRequest{target: "/s/" + id, header: map[string]string{"Accept-Encoding": "gzip;q=0"}}); rec.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that refuses it")
	}
	if vary := serveAPI(t, h, apiRequest{target: "/s/" + id}).Header().Values("Vary"); len(vary) != 1 {
		t.Errorf("Vary grows from request to request: %q", vary)
	}

	serveAPI(t, h, apiRequest{target: "/api/snippets/" + id})
	serveAPI(t, h, apiRequest{target: "/s/" + id + ".py"})
	if counting.gets != 1 {
		t.Errorf("the store was read %d times for one snippet, want 1", counting.gets)
	}
	// HEAD is served from the same entry, without a body.
	if rec := serveAPI(t, h, apiRequest{method: http.MethodHead, target: "/s/" + id}); rec.Code != 200 {
		t.Errorf("HEAD: %d", rec.Code)
	}
	// A cache of -1 bytes is off.
	counting.gets = 0
	off := newServerWithStore(t, SnippetOptions{CacheBytes: -1}, counting).Handler()
	serveAPI(t, off, apiRequest{target: "/s/" + id})
	serveAPI(t, off, apiRequest{target: "/s/" + id})
	if counting.gets != 2 {
		t.Errorf("without a cache the store was read %d times for two requests", counting.gets)
	}
}

// TestDeletedSnippetLeavesTheCache deletes a snippet behind the server's
// back, as `pyplay snippets delete` does from another process: the server
// may serve it from memory for snippetCacheTTL, and not a moment longer.
func TestDeletedSnippetLeavesTheCache(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	opt := SnippetOptions{clock: func() time.Time { return now }}
	s, st := newSnippetServer(t, opt)
	h := s.Handler()
	id := shareSnippet(t, h, map[string]any{"code": "SECRET = 'hunter2'\n", "title": "Leaked"})
	targets := []string{"/s/" + id, "/api/snippets/" + id, "/s/" + id + ".py"}
	for _, target := range targets {
		if rec := serveAPI(t, h, apiRequest{target: target}); rec.Code != 200 {
			t.Fatalf("%s: %d before the deletion", target, rec.Code)
		}
	}
	if err := st.Delete(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	now = now.Add(snippetCacheTTL - time.Millisecond)
	if rec := serveAPI(t, h, apiRequest{target: "/s/" + id}); rec.Code != 200 {
		t.Fatalf("within the TTL: %d; the page should still come from memory (or this test proves nothing)", rec.Code)
	}
	now = now.Add(2 * time.Millisecond)
	for _, target := range targets {
		if rec := serveAPI(t, h, apiRequest{target: target}); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d %s after the TTL, want 404", target, rec.Code, rec.Body)
		}
	}
}
