package bench

import (
	"container/list"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"sync"

	"github.com/pyplay/pyplay/snippets"
)

// Statistics cost CPU in proportion to the samples they read, the
// dashboards ask for them again whenever something changes, and anyone may
// ask. So what the API computes is bounded and computed once per change of
// the data:
//
//   - A request reads at most maxReadSamples samples, newest runs first;
//     older runs are left out and the answer says it is truncated.
//     (MaxSamplesPerRun and MaxRunsPerSnippet bound what there is to read.)
//   - A run's statistics are computed once per sample count: samples are
//     only ever added, so the run's ID and its count name its data. The
//     listing reads the samples only of runs whose count changed.
//   - A comparison table is computed once per version of the snippet's
//     runs: the IDs, statuses and sample counts of the runs it reads
//     (compareKey), which every stored batch and every run.end changes, on
//     this server or any other sharing the database.
//   - At most statsWorkers computations run at once; a request waiting for
//     its turn, reading or computing stops when its client leaves (its
//     context ends) or the request's time is up.

const (
	// maxReadSamples bounds the samples one request reads: a listing of
	// runs whose statistics are not cached, a comparison, an export, one
	// snippet of the overview (about 8 MB while it is held).
	maxReadSamples = 200_000
	// statsWorkers bounds the computations running at once, so that
	// requests for statistics cannot take every core.
	statsWorkers = 2
	// runCacheEntries and compareCacheEntries bound the caches: a run's
	// statistics are a few hundred bytes, a table a few kilobytes per row.
	runCacheEntries     = 20_000
	compareCacheEntries = 256
	// suiteCacheEntries bounds the cached suite tables (GET
	// /api/bench/suite, one per scope and workload selection).
	suiteCacheEntries = 64
)

// lru is a map of at most max entries that forgets the least recently
// used. Safe for concurrent use.
type lru[K comparable, V any] struct {
	max int

	mu    sync.Mutex
	order *list.List // of *lruEntry, most recent first
	byKey map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, order: list.New(), byKey: make(map[K]*list.Element)}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*lruEntry[K, V]).val, true
	}
	var zero V
	return zero, false
}

func (c *lru[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[k]; ok {
		e.Value.(*lruEntry[K, V]).val = v
		c.order.MoveToFront(e)
		return
	}
	c.byKey[k] = c.order.PushFront(&lruEntry[K, V]{k, v})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*lruEntry[K, V]).key)
	}
}

// runKey names a run's data: its samples are only ever added to.
type runKey struct {
	id      string
	samples int
}

// runStats is what the API computes of one run's samples.
type runStats struct {
	view runView // without the run itself
}

// statsCaches are the lab's caches and its bound on computations.
type statsCaches struct {
	runs     *lru[runKey, runStats]
	compares *lru[uint64, compareTable]
	suites   *lru[uint64, suiteTable]
	workers  chan struct{}
}

func newStatsCaches() *statsCaches {
	return &statsCaches{
		runs:     newLRU[runKey, runStats](runCacheEntries),
		compares: newLRU[uint64, compareTable](compareCacheEntries),
		suites:   newLRU[uint64, suiteTable](suiteCacheEntries),
		workers:  make(chan struct{}, statsWorkers),
	}
}

// work runs fn when a worker is free, or gives up when ctx ends first. An
// error of fn's after ctx ended is busy: the request's time ran out, or
// its client left (then nobody reads the answer, but the log should not
// call it a failure).
func (sc *statsCaches) work(ctx context.Context, fn func() error) error {
	select {
	case sc.workers <- struct{}{}:
	case <-ctx.Done():
		return busy(ctx.Err())
	}
	defer func() { <-sc.workers }()
	return orBusy(ctx, fn())
}

// orBusy is err, or busy when ctx has ended.
func orBusy(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && snippets.ErrorCode(err) != snippets.Unavailable {
		return busy(err)
	}
	return err
}

// busy is the error of a request whose time ran out (or whose client
// left): the server is busy computing statistics, which a retry will find
// cached.
func busy(err error) error {
	return fmt.Errorf("%w: %w", snippets.Errorf(snippets.Unavailable, "the server is busy computing benchmark statistics; try again in a few seconds"), err)
}

// runViews returns the views of a snippet's newest runs (without samples),
// reading the samples only of runs whose statistics are not cached, at
// most maxReadSamples of them: it stops listing, truncated, at the first
// run that would read more.
func (l *Lab) runViews(ctx context.Context, snippetID string) (views []*runView, truncated bool, err error) {
	list, truncated, err := listRuns(ctx, l.cfg.Store, snippetID)
	if err != nil {
		return nil, false, orBusy(ctx, err)
	}
	views = make([]*runView, 0, len(list))
	err = l.stats.work(ctx, func() error {
		budget := maxReadSamples
		for _, r := range list {
			if err := ctx.Err(); err != nil {
				return busy(err)
			}
			if st, ok := l.stats.runs.get(runKey{r.ID, r.SampleCount}); ok {
				v := st.view
				v.Run = r
				views = append(views, &v)
				continue
			}
			if r.SampleCount > budget {
				truncated = true
				return nil
			}
			full, err := l.cfg.Store.GetRun(ctx, r.ID)
			if snippets.ErrorCode(err) == snippets.NotFound {
				continue // deleted in between
			}
			if err != nil {
				return fmt.Errorf("get run %s: %w", r.ID, err)
			}
			budget -= len(full.Samples)
			v := finiteView(viewOf(full)) // cached views are shared: only read from now on
			v.Run = nil
			l.stats.runs.put(runKey{full.ID, len(full.Samples)}, runStats{view: *v})
			full.Samples = nil // the listing is a summary; GET /api/bench/runs/{run} has them
			v.Run = full
			views = append(views, v)
		}
		return nil
	})
	return views, truncated, err
}

// compareTableOf returns the comparison table of a snippet's newest runs
// against baseline, from the cache when the runs have not changed since
// it was computed.
func (l *Lab) compareTableOf(ctx context.Context, snippetID, baseline string) (compareTable, error) {
	list, truncated, err := listRuns(ctx, l.cfg.Store, snippetID)
	if err != nil {
		return compareTable{}, orBusy(ctx, err)
	}
	key := compareKey(snippetID, baseline, list)
	if t, ok := l.stats.compares.get(key); ok {
		return t, nil
	}
	var table compareTable
	err = l.stats.work(ctx, func() error {
		if t, ok := l.stats.compares.get(key); ok { // computed while this request waited
			table = t
			return nil
		}
		runs, partial, err := readRuns(ctx, l.cfg.Store, list)
		if err != nil {
			return err
		}
		if table, err = compareRuns(ctx, runs, baseline); err != nil {
			return err
		}
		table.Truncated = truncated || partial
		table = finiteView(table) // cached tables are shared: only read from now on
		l.stats.compares.put(key, table)
		return nil
	})
	return table, err
}

// compareKey names a version of the runs a comparison reads.
func compareKey(snippetID, baseline string, list []*snippets.Run) uint64 {
	h := fnv.New64a()
	h.Write([]byte(snippetID + "\x00" + baseline + "\x00"))
	var n [8]byte
	for _, r := range list {
		h.Write([]byte(r.ID + "\x00" + r.Status + "\x00"))
		binary.LittleEndian.PutUint64(n[:], uint64(r.SampleCount))
		h.Write(n[:])
	}
	return h.Sum64()
}

// listRuns lists a snippet's newest runs without samples, at most
// maxListedRuns.
func listRuns(ctx context.Context, store snippets.RunStore, snippetID string) ([]*snippets.Run, bool, error) {
	list, err := store.ListRuns(ctx, snippetID)
	if err != nil {
		return nil, false, fmt.Errorf("list runs of %s: %w", snippetID, err)
	}
	if len(list) > maxListedRuns {
		return list[:maxListedRuns], true, nil
	}
	return list, false, nil
}

// readRuns reads the listed runs with their samples, newest first, until
// the next would take the samples read past maxReadSamples (then it
// reports truncated). A run deleted in between is skipped.
func readRuns(ctx context.Context, store snippets.RunStore, list []*snippets.Run) ([]*snippets.Run, bool, error) {
	return readRunsBudget(ctx, store, list, maxReadSamples)
}

// readRunsBudget is readRuns reading at most budget samples.
func readRunsBudget(ctx context.Context, store snippets.RunStore, list []*snippets.Run, budget int) ([]*snippets.Run, bool, error) {
	runs := make([]*snippets.Run, 0, len(list))
	for _, r := range list {
		if err := ctx.Err(); err != nil {
			return nil, false, busy(err)
		}
		if r.SampleCount > budget {
			return runs, true, nil
		}
		full, err := store.GetRun(ctx, r.ID)
		if snippets.ErrorCode(err) == snippets.NotFound {
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("get run %s: %w", r.ID, err)
		}
		budget -= len(full.Samples)
		runs = append(runs, full)
	}
	return runs, false, nil
}
