package server

import (
	"bytes"
	"container/list"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/pyplay/pyplay/snippets"
)

// Snippets never change, so what the server reads or renders for one can
// be kept in memory: a popular link is opened many times a second, and
// every open would otherwise read the database and render the page again.
// Only deletion makes an entry stale, and it comes from another process
// (`pyplay snippets delete`, or another server sharing a PostgreSQL
// database) that has no way to tell this one, so entries expire soon.
const (
	// DefaultSnippetCacheBytes bounds the cache's memory.
	DefaultSnippetCacheBytes = 32 << 20
	// snippetCacheTTL is how long a deleted snippet may still be served
	// from memory by a running server. Deletion is how an operator takes
	// down a leaked secret, so it must take effect at once, not in a
	// minute; two seconds still spare the database and the renderer all
	// but one request in two seconds for a link that is in demand, which
	// is where the cache pays.
	snippetCacheTTL = 2 * time.Second
	// entryOverhead approximates the bookkeeping of one entry.
	entryOverhead = 256
)

// snippetCache is a byte-bounded LRU with expiry, safe for concurrent use.
// Keys are prefixed by kind: "s:" snippets, "p:" rendered pages.
type snippetCache struct {
	max int64
	ttl time.Duration

	mu   sync.Mutex
	size int64
	ll   *list.List // front: most recently used
	m    map[string]*list.Element
}

type cacheEntry struct {
	key     string
	value   any
	size    int64
	expires time.Time
}

// cachedPage is a rendered snippet page and the headers its renderer set.
type cachedPage struct {
	status int
	header http.Header
	body   []byte
	gzip   []byte // body gzipped, or nil when that does not pay
	etag   string // strong: a hash of body
}

func newSnippetCache(maxBytes int64, ttl time.Duration) *snippetCache {
	return &snippetCache{max: maxBytes, ttl: ttl, ll: list.New(), m: make(map[string]*list.Element)}
}

func (c *snippetCache) get(key string, now time.Time) (any, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if now.After(e.expires) {
		c.remove(el)
		return nil, false
	}
	c.ll.MoveToFront(el)
	return e.value, true
}

func (c *snippetCache) add(key string, value any, size int64, now time.Time) {
	if c == nil {
		return
	}
	size += entryOverhead + int64(len(key))
	if size > c.max/8 {
		return // one huge entry would flush everything else
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[key]; ok {
		c.remove(el)
	}
	c.m[key] = c.ll.PushFront(&cacheEntry{key: key, value: value, size: size, expires: now.Add(c.ttl)})
	c.size += size
	for c.size > c.max {
		c.remove(c.ll.Back())
	}
}

func (c *snippetCache) remove(el *list.Element) {
	e := c.ll.Remove(el).(*cacheEntry)
	delete(c.m, e.key)
	c.size -= e.size
}

func (c *snippetCache) snippet(id string, now time.Time) (*snippets.Snippet, bool) {
	v, ok := c.get("s:"+id, now)
	if !ok {
		return nil, false
	}
	return v.(*snippets.Snippet), true
}

func (c *snippetCache) addSnippet(sn *snippets.Snippet, now time.Time) {
	c.add("s:"+sn.ID, sn, int64(len(sn.Code)+len(sn.HTML)+len(sn.Title)), now)
}

func (c *snippetCache) page(key string, now time.Time) (*cachedPage, bool) {
	v, ok := c.get("p:"+key, now)
	if !ok {
		return nil, false
	}
	return v.(*cachedPage), true
}

func (c *snippetCache) addPage(key string, p *cachedPage, now time.Time) {
	size := int64(len(p.body) + len(p.gzip))
	for k, vs := range p.header {
		size += int64(len(k))
		for _, v := range vs {
			size += int64(len(v))
		}
	}
	c.add("p:"+key, p, size, now)
}

// bufferWriter takes a response into memory; its header is the real
// response's, so headers set by middleware stay where they are.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferWriter) Header() http.Header { return w.header }

func (w *bufferWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *bufferWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}

// headerChanges returns the headers after that differ from before: those a
// handler set.
func headerChanges(before, after http.Header) http.Header {
	out := http.Header{}
	for k, v := range after {
		if !slices.Equal(before[k], v) {
			out[k] = slices.Clone(v)
		}
	}
	return out
}
