// Command wsload is the WebSocket load run of `make bench`: it starts the
// real pyplay binary on loopback, connects many benchmark producers that
// stream sample batches and many dashboard viewers that follow them, and
// reports samples stored per second, fan-out latency (from a producer
// writing a batch to a viewer reading it), the server's memory, and
// whether any sample was lost.
//
//	go run ./cmd/wsload -bin bin/pyplay [-producers 200 -viewers 20 -duration 10s]
//
// Producers pace themselves to the server's announced limit (10 batches a
// second each, by default) and are spread over -snippets snippets; each
// viewer follows -follow of them (1, as a dashboard does; -follow 10 makes
// every viewer take every batch). Everything runs on 127.0.0.1
// and ends within -duration plus a drain of at most -drain.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyplay/pyplay/cmd/internal/benchclient"
	"github.com/pyplay/pyplay/cmd/internal/serveproc"
	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/postgres/pgtest"
)

type options struct {
	bin       string
	db        string
	producers int
	viewers   int
	snippets  int
	follow    int
	batch     int
	interval  time.Duration
	duration  time.Duration
	drain     time.Duration
	coalesce  bool
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/pyplay", "the pyplay binary to start (make build)")
	flag.StringVar(&o.db, "db", "", "database for the server; default: a new SQLite file in a temporary directory; \"pgtest\": a throwaway PostgreSQL (fsync off)")
	flag.IntVar(&o.producers, "producers", 200, "concurrent producers, one run each")
	flag.IntVar(&o.viewers, "viewers", 20, "dashboard viewers")
	flag.IntVar(&o.snippets, "snippets", 10, "snippets the runs are spread over")
	flag.IntVar(&o.follow, "follow", 1, "snippets each viewer follows, as a dashboard follows one (at most 32 and -snippets)")
	flag.IntVar(&o.batch, "batch", 25, "samples per batch")
	flag.DurationVar(&o.interval, "interval", 100*time.Millisecond, "time between a producer's batches")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long producers stream")
	flag.DurationVar(&o.drain, "drain", 60*time.Second, "how long to wait for the last acknowledgements")
	flag.BoolVar(&o.coalesce, "coalesce", true, "viewers ask for coalesced frames, as the dashboard does; -coalesce=false for a server older than hello's \"coalesce\"")
	flag.Parse()
	log.SetFlags(0)
	if err := run(o); err != nil {
		log.Fatalf("wsload: %v", err)
	}
}

// server is the pyplay process under load.
type server struct {
	proc    *serveproc.Process
	url     string
	metrics string // GET /metrics, on the server's own loopback listener
}

// startServer starts the pyplay binary on loopback ports with its own
// database and returns once it serves; cleanup stops it as Ctrl-C would
// and removes the database.
func startServer(o options) (*server, func(), error) {
	db, dropDB, err := serverDB(o.db)
	if err != nil {
		return nil, nil, err
	}
	metricsAddr, err := freeLoopbackAddr()
	if err != nil {
		dropDB()
		return nil, nil, err
	}
	cmd := exec.Command(o.bin, "serve", "-addr", "127.0.0.1:0", "-preview-addr", "127.0.0.1:0", "-metrics-addr", metricsAddr, "-db", db, "-rate", "0")
	cmd.Env = append(os.Environ(), "PYPLAY_LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		dropDB()
		return nil, nil, err
	}
	proc, err := serveproc.Start(cmd)
	if err != nil {
		dropDB()
		return nil, nil, err
	}
	cleanup := func() {
		if err := proc.Stop(); err != nil {
			log.Printf("server shutdown: %v", err)
		}
		dropDB()
	}
	select {
	case u := <-watchLog(stderr):
		return &server{proc: proc, url: u, metrics: "http://" + metricsAddr + "/metrics"}, cleanup, nil
	case <-time.After(30 * time.Second):
		cleanup()
		return nil, nil, errors.New("the server did not start within 30 s")
	}
}

// serverDB returns the DSN the server is to use for -db and how to remove
// it afterwards: a new SQLite file by default, a database on a throwaway
// PostgreSQL server for "pgtest", or the DSN given (kept).
func serverDB(db string) (dsn string, drop func(), err error) {
	dir, err := os.MkdirTemp("", "wsload-")
	if err != nil {
		return "", nil, err
	}
	drop = func() { os.RemoveAll(dir) }
	switch db {
	case "":
		return "sqlite:" + filepath.Join(dir, "pyplay.db"), drop, nil
	case "pgtest":
		pg, err := pgtest.StartServer()
		if err != nil {
			drop()
			return "", nil, err
		}
		drop = func() { os.RemoveAll(dir); pg.Close() }
		if db, err = pg.CreateDatabase(context.Background(), "wsload"); err != nil {
			drop()
			return "", nil, err
		}
	}
	return db, drop, nil
}

// watchLog reads the server's log: it sends the URL of its "serving" line
// and echoes warnings and errors, so that they show beside the figures.
func watchLog(stderr io.Reader) <-chan string {
	urls := make(chan string, 1)
	serving := regexp.MustCompile(`msg=serving url=(\S+)`)
	go func() {
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			if m := serving.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				urls <- m[1]
			} else if strings.Contains(sc.Text(), "level=ERROR") || strings.Contains(sc.Text(), "level=WARN") {
				log.Printf("server: %s", sc.Text())
			}
		}
	}()
	return urls
}

// rss returns the server's resident and peak resident memory in bytes.
func (s *server) rss() (cur, peak int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.proc.Pid()))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		var kb int64
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			fmt.Sscan(v, &kb)
			cur = kb << 10
		}
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			fmt.Sscan(v, &kb)
			peak = kb << 10
		}
	}
	return cur, peak
}

// cpu returns the CPU time the server has used so far (user + system).
func (s *server) cpu() time.Duration { return s.proc.CPU() }

func createSnippets(base string, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		body, _ := json.Marshal(map[string]string{"code": fmt.Sprintf("# load %d\nsum(range(%d))\n", i, 1000+i), "runtime": "pyodide"})
		res, err := http.Post(base+"/api/snippets", "application/json", strings.NewReader(string(body)))
		if err != nil {
			return nil, err
		}
		var out struct{ ID string }
		err = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if err != nil || out.ID == "" {
			return nil, fmt.Errorf("create snippet: %s %v", res.Status, err)
		}
		ids[i] = out.ID
	}
	return ids, nil
}

// latencies collects the acknowledgement latency of every batch and the
// fan-out latency of every delivery.
type latencies struct {
	mu    sync.Mutex
	sent  map[string]time.Time // "run/batch" → first write
	d     []time.Duration      // write → a viewer read it
	acked []time.Duration      // write → the producer read its ack
}

func (l *latencies) onAck(run string, batch int, _ bool) {
	now := time.Now()
	k := fmt.Sprintf("%s/%d", run, batch)
	l.mu.Lock()
	if t, ok := l.sent[k]; ok {
		l.acked = append(l.acked, now.Sub(t))
	}
	l.mu.Unlock()
}

func (l *latencies) onSend(run string, batch int) {
	k := fmt.Sprintf("%s/%d", run, batch)
	now := time.Now()
	l.mu.Lock()
	if _, ok := l.sent[k]; !ok {
		l.sent[k] = now
	}
	l.mu.Unlock()
}

func (l *latencies) received(run string, batch int) {
	now := time.Now()
	k := fmt.Sprintf("%s/%d", run, batch)
	l.mu.Lock()
	if t, ok := l.sent[k]; ok {
		l.d = append(l.d, now.Sub(t))
	}
	l.mu.Unlock()
}

// run is one load run: start the server, connect the viewers and then the
// producers, stream and drain while measuring the server, stop the
// viewers, count what arrived, report.
func run(o options) error {
	if o.snippets < 1 || o.follow < 1 || o.follow > min(o.snippets, benchproto.DefaultLimits.MaxSubscriptions) {
		return fmt.Errorf("-snippets must be at least 1, -follow between 1 and min(-snippets, %d)", benchproto.DefaultLimits.MaxSubscriptions)
	}
	srv, stop, err := startServer(o)
	if err != nil {
		return err
	}
	defer stop()
	if host, _, _ := net.SplitHostPort(strings.TrimPrefix(srv.url, "http://")); host != "127.0.0.1" {
		return fmt.Errorf("the server listens on %s, not loopback", srv.url)
	}
	ids, err := createSnippets(srv.url, o.snippets)
	if err != nil {
		return err
	}
	m := &measures{cpuBefore: srv.cpu()}
	m.rssBefore, _ = srv.rss()

	lat := &latencies{sent: map[string]time.Time{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Viewers first, so that they see every batch.
	vs, err := startViewers(ctx, o, srv.url, ids, lat)
	if err != nil {
		return err
	}
	ps, err := startProducers(o, srv.url, ids, lat)
	if err != nil {
		return err
	}
	defer closeProducers(ps)

	printPlan(o)
	streamAll(ctx, o, srv, ps, m)
	// Give the viewers the last fan-out, then stop them.
	time.Sleep(500 * time.Millisecond)
	cancel()
	vs.wg.Wait()

	t, err := count(srv.url, ps, vs)
	if err != nil {
		return err
	}
	return report(o, m, t, lat, vs)
}

// viewers are the dashboard viewers of a load run.
type viewers struct {
	all      []viewer
	wg       sync.WaitGroup
	dropped  atomic.Int64 // viewers the server dropped as too slow
	frames   atomic.Int64 // WebSocket frames read, counted as each viewer stops
	messages atomic.Int64 // messages in those frames, read while streaming
}

// viewer is one dashboard viewer and what it read.
type viewer struct {
	follows []string     // the snippets it follows
	batches atomic.Int64 // samples messages read
	err     error        // why it stopped before the end, if it did
}

// startViewers connects o.viewers viewers, each following o.follow
// snippets, which read until ctx is done.
func startViewers(ctx context.Context, o options, base string, ids []string, lat *latencies) (*viewers, error) {
	vs := &viewers{all: make([]viewer, o.viewers)}
	for i := range vs.all {
		v := &vs.all[i]
		for j := 0; j < o.follow; j++ {
			v.follows = append(v.follows, ids[(i+j)%len(ids)])
		}
		c, err := benchclient.DialViewer(ctx, benchclient.Config{URL: base, Client: "wsload-viewer/1", Coalesce: o.coalesce}, v.follows...)
		if err != nil {
			return nil, fmt.Errorf("viewer %d: %w", i, err)
		}
		vs.wg.Add(1)
		go func() {
			defer vs.wg.Done()
			vs.read(ctx, v, c, lat)
		}()
	}
	return vs, nil
}

// read counts what viewer v reads on c until ctx is done or the server
// drops it.
func (vs *viewers) read(ctx context.Context, v *viewer, c *benchclient.Viewer, lat *latencies) {
	defer c.Close()
	start := c.Frames()
	defer func() { vs.frames.Add(int64(c.Frames() - start)) }()
	for {
		data, err := c.NextRaw(ctx)
		if err != nil {
			if ctx.Err() == nil {
				v.err = err
				vs.dropped.Add(1)
			}
			return
		}
		typ, run, batch, err := decodeCounted(data)
		if err != nil {
			v.err = fmt.Errorf("decode %.100s: %w", data, err)
			return
		}
		vs.messages.Add(1)
		if typ == benchproto.TypeSamples {
			lat.received(run, batch)
			v.batches.Add(1)
		}
	}
}

// decodeCounted reads only what is counted of a message: decoding every
// sample with encoding/json would make the load generator, not the
// server, the bottleneck (BENCHMARKS.md).
func decodeCounted(data []byte) (typ, run string, batch int, err error) {
	var m struct {
		Type    string `json:"type"`
		Payload struct {
			Run   json.RawMessage `json:"run"` // an object in run.started
			Batch int             `json:"batch"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return "", "", 0, err
	}
	if m.Type == benchproto.TypeSamples {
		if err := json.Unmarshal(m.Payload.Run, &run); err != nil {
			return "", "", 0, err
		}
	}
	return m.Type, run, m.Payload.Batch, nil
}

// producer is one benchmark producer streaming one run.
type producer struct {
	client  *benchclient.Producer
	run     *benchclient.Run
	snippet string
	added   int // samples added to run
}

// startProducers connects o.producers producers, spread over the
// snippets, and starts a run on each.
func startProducers(o options, base string, ids []string, lat *latencies) ([]*producer, error) {
	ps := make([]*producer, 0, o.producers)
	for i := range o.producers {
		c, err := benchclient.NewProducer(benchclient.Config{URL: base, Client: "wsload-producer/1", MaxBatch: o.batch, OnSend: lat.onSend, OnAck: lat.onAck})
		if err != nil {
			closeProducers(ps)
			return nil, err
		}
		p := &producer{client: c, snippet: ids[i%len(ids)]}
		p.run = c.Start(benchproto.RunInfo{ID: fmt.Sprintf("load-%d-%d", time.Now().UnixNano(), i), Snippet: p.snippet, Runtime: "pyodide",
			Env: json.RawMessage(`{"userAgent":"wsload","cores":2}`)})
		ps = append(ps, p)
	}
	return ps, nil
}

func closeProducers(ps []*producer) {
	for _, p := range ps {
		p.client.Close()
	}
}

// stream adds a batch to the run every o.interval until o.duration after
// start, then ends the run. Producer i starts i/o.producers of an interval
// late, so that the producers' ticks are spread over it.
func (p *producer) stream(o options, i int, start time.Time) {
	time.Sleep(time.Duration(i) * o.interval / time.Duration(o.producers))
	t := time.NewTicker(o.interval)
	defer t.Stop()
	samples := make([]snippets.Sample, o.batch)
	for time.Since(start) < o.duration {
		for j := range samples {
			samples[j] = snippets.Sample{Warmup: p.added+j < 5, NsPerIter: float64(1000 + (p.added+j)%97), Iterations: 100}
		}
		p.run.Add(samples...)
		p.added += o.batch
		<-t.C
	}
	p.run.End(snippets.RunDone, "")
}

func printPlan(o options) {
	store := "SQLite (WAL, synchronous=FULL)"
	if strings.HasPrefix(o.db, "postgres") || o.db == "pgtest" {
		store = "PostgreSQL " + o.db
	}
	fmt.Printf("streaming: %d producers × %d samples every %v for %v over %d snippets, %d viewers; store %s\n",
		o.producers, o.batch, o.interval, o.duration, o.snippets, o.viewers, store)
}

// measures are the server's figures over a load run.
type measures struct {
	elapsed  time.Duration // from the first batch to the last acknowledgement
	waitErrs []error       // producers not acknowledged in full within -drain
	// Resident memory before the viewers connected, at the end, at its
	// peak (VmHWM), and the largest sampled while streaming; Go heap in
	// use at the end.
	rssBefore, rssNow, rssPeak, rssSampled, heap int64
	cpuBefore, cpu                               time.Duration // cpu: used since cpuBefore was read
}

// streamAll runs every producer, waits (at most o.drain) for the server
// to acknowledge everything, and measures the server meanwhile.
func streamAll(ctx context.Context, o options, srv *server, ps []*producer, m *measures) {
	start := time.Now()
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stream(o, i, start)
		}()
	}
	var sampled atomic.Int64
	ticker := time.NewTicker(250 * time.Millisecond)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ticker.C:
				if c, _ := srv.rss(); c > sampled.Load() {
					sampled.Store(c)
				}
			case <-done:
				return
			}
		}
	}()
	wg.Wait()
	dctx, dcancel := context.WithTimeout(ctx, o.drain)
	defer dcancel()
	for _, p := range ps {
		if err := p.client.Wait(dctx); err != nil {
			m.waitErrs = append(m.waitErrs, err)
		}
	}
	m.elapsed = time.Since(start)
	ticker.Stop()
	close(done)
	m.rssSampled = sampled.Load()
	m.rssNow, m.rssPeak = srv.rss()
	m.cpu = srv.cpu() - m.cpuBefore
	m.heap = serverHeap(srv.metrics)
}

// tally is what reached the store and the viewers.
type tally struct {
	sent, stored int // samples
	lost         int // runs missing samples
	stats        benchclient.Stats
	complete     int // viewers that read every batch of their snippets
	deliveries   int // batches due to viewers
}

// count asks the server what it stored, run by run, and checks each
// viewer's count against the batches of the snippets it follows.
func count(base string, ps []*producer, vs *viewers) (tally, error) {
	var t tally
	perSnippet := map[string]int{}
	for _, p := range ps {
		t.sent += p.added
		n, err := storedSamples(base, p.run.ID())
		if err != nil {
			return t, err
		}
		t.stored += n
		if n != p.added {
			t.lost++
		}
		s := p.client.Stats()
		t.stats.Batches += s.Batches
		t.stats.Duplicates += s.Duplicates
		t.stats.Reconnects += s.Reconnects
		t.stats.Resent += s.Resent
		perSnippet[p.snippet] += s.Batches
	}
	for i := range vs.all {
		v := &vs.all[i]
		want := 0
		for _, id := range v.follows {
			want += perSnippet[id]
		}
		t.deliveries += want
		if v.batches.Load() == int64(want) {
			t.complete++
		}
	}
	return t, nil
}

// report prints the figures; it fails the run if a sample was lost.
func report(o options, m *measures, t tally, lat *latencies, vs *viewers) error {
	slices.Sort(lat.d)
	slices.Sort(lat.acked)
	batches, secs := t.stats.Batches, m.elapsed.Seconds()
	fmt.Printf("machine: %d CPUs (%s/%s), server and load generator on the same machine\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("samples stored: %d of %d sent in %d batches over %.1f s: %.0f samples/s (%.0f batches/s)\n",
		t.stored, t.sent, batches, secs, float64(t.stored)/secs, float64(batches)/secs)
	fmt.Printf("ack latency (producer write → ack read, %d batches): p50 %v, p99 %v, max %v\n",
		len(lat.acked), percentile(lat.acked, 0.5), percentile(lat.acked, 0.99), percentile(lat.acked, 1))
	fmt.Printf("fan-out latency (producer write → viewer read, %d deliveries): p50 %v, p99 %v, max %v\n",
		len(lat.d), percentile(lat.d, 0.50), percentile(lat.d, 0.99), percentile(lat.d, 1))
	fmt.Printf("viewers: %d following %d snippet(s) each: %d received every batch of their snippets (%d deliveries due); dropped as too slow: %d\n",
		o.viewers, o.follow, t.complete, t.deliveries, vs.dropped.Load())
	fmt.Printf("viewers read %d messages in %d WebSocket frames (coalesced frames: %v)\n", vs.messages.Load(), vs.frames.Load(), o.coalesce)
	fmt.Printf("server memory: RSS %s before, %s at the end, peak %s (VmHWM; %s sampled while streaming); Go heap in use at the end %s\n",
		mib(m.rssBefore), mib(m.rssNow), mib(m.rssPeak), mib(m.rssSampled), mib(m.heap))
	fmt.Printf("server CPU while streaming and draining: %.2f s, %.0f µs per stored batch with its fan-out\n",
		m.cpu.Seconds(), float64(m.cpu.Microseconds())/float64(max(batches, 1)))
	fmt.Printf("producers: %d reconnects, %d batches resent, %d duplicates\n", t.stats.Reconnects, t.stats.Resent, t.stats.Duplicates)
	if t.lost > 0 || t.stored != t.sent || len(m.waitErrs) > 0 {
		return fmt.Errorf("SAMPLES LOST: %d runs incomplete, %d of %d stored; %v", t.lost, t.stored, t.sent, errors.Join(m.waitErrs...))
	}
	fmt.Println("no sample lost: every run has every sample, once")
	if vs.dropped.Load() > 0 || t.complete != o.viewers {
		for i := range vs.all {
			if err := vs.all[i].err; err != nil {
				fmt.Printf("viewer %d: %v\n", i, err)
			}
		}
	}
	return nil
}

// percentile is the p-th of sorted latencies d (0 when there are none).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(p*float64(len(d))))].Round(10 * time.Microsecond)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// storedSamples asks the server how many samples a run has.
func storedSamples(base, run string) (int, error) {
	res, err := http.Get(base + "/api/bench/runs/" + run)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return 0, fmt.Errorf("run %s: %s %s", run, res.Status, b)
	}
	var r struct {
		Status      string `json:"status"`
		SampleCount int    `json:"sampleCount"`
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		return 0, err
	}
	return r.SampleCount, nil
}

// freeLoopbackAddr is a loopback address with a port free a moment ago, for
// the server's metrics listener (whose port it would otherwise pick, like
// the main one's, at random, and log only).
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// serverHeap reads go_memstats_heap_inuse_bytes from the server's metrics.
func serverHeap(metricsURL string) int64 {
	res, err := http.Get(metricsURL)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return int64(f)
		}
	}
	return 0
}
