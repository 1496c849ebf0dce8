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
	proc *serveproc.Process
	url  string
}

func startServer(o options) (*server, func(), error) {
	dir, err := os.MkdirTemp("", "wsload-")
	if err != nil {
		return nil, nil, err
	}
	db := o.db
	var pg *pgtest.Server
	switch db {
	case "":
		db = "sqlite:" + filepath.Join(dir, "pyplay.db")
	case "pgtest":
		if pg, err = pgtest.StartServer(); err != nil {
			return nil, nil, err
		}
		if db, err = pg.CreateDatabase(context.Background(), "wsload"); err != nil {
			pg.Close()
			return nil, nil, err
		}
	}
	cmd := exec.Command(o.bin, "serve", "-addr", "127.0.0.1:0", "-preview-addr", "127.0.0.1:0", "-db", db, "-rate", "0")
	cmd.Env = append(os.Environ(), "PYPLAY_LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, nil, err
	}
	proc, err := serveproc.Start(cmd)
	if err != nil {
		if pg != nil {
			pg.Close()
		}
		return nil, nil, err
	}
	cleanup := func() {
		if err := proc.Stop(); err != nil {
			log.Printf("server shutdown: %v", err)
		}
		os.RemoveAll(dir)
		if pg != nil {
			pg.Close()
		}
	}
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
	select {
	case u := <-urls:
		return &server{proc: proc, url: u}, cleanup, nil
	case <-time.After(30 * time.Second):
		cleanup()
		return nil, nil, errors.New("the server did not start within 30 s")
	}
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

// cpu returns the CPU time the server has used so far (user + system),
// from /proc/PID/stat: a cost figure that, unlike throughput and latency,
// does not depend much on how busy the rest of the machine is.
func (s *server) cpu() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.proc.Pid()))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): state is
	// the first, utime and stime the 12th and 13th, in clock ticks.
	_, rest, ok := strings.Cut(string(data), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	var user, sys int64
	fmt.Sscan(f[11], &user)
	fmt.Sscan(f[12], &sys)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(user+sys) * time.Second / ticksPerSecond
}

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
	rssBefore, _ := srv.rss()
	cpuBefore := srv.cpu()

	lat := &latencies{sent: map[string]time.Time{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Viewers first, so that they see every batch.
	var viewersWG sync.WaitGroup
	viewerBatches := make([]atomic.Int64, o.viewers)
	viewerWant := make([]int, o.viewers) // batches each viewer should see
	follows := make([][]string, o.viewers)
	viewerErrs := make([]error, o.viewers)
	var dropped atomic.Int64
	var frames, messages atomic.Int64 // read by the viewers while streaming
	for i := 0; i < o.viewers; i++ {
		for j := 0; j < o.follow; j++ {
			follows[i] = append(follows[i], ids[(i+j)%len(ids)])
		}
		v, err := benchclient.DialViewer(ctx, benchclient.Config{URL: srv.url, Client: "wsload-viewer/1", Coalesce: o.coalesce}, follows[i]...)
		if err != nil {
			return fmt.Errorf("viewer %d: %w", i, err)
		}
		viewersWG.Add(1)
		go func() {
			defer viewersWG.Done()
			defer v.Close()
			start := v.Frames()
			defer func() { frames.Add(int64(v.Frames() - start)) }()
			for {
				data, err := v.NextRaw(ctx)
				if err != nil {
					if ctx.Err() == nil {
						viewerErrs[i] = err
						dropped.Add(1)
					}
					return
				}
				// Only what is counted: decoding every sample with
				// encoding/json would make the load generator, not the
				// server, the bottleneck (BENCHMARKS.md).
				var m struct {
					Type    string `json:"type"`
					Payload struct {
						Run   json.RawMessage `json:"run"` // an object in run.started
						Batch int             `json:"batch"`
					} `json:"payload"`
				}
				var run string
				err = json.Unmarshal(data, &m)
				if err == nil && m.Type == benchproto.TypeSamples {
					err = json.Unmarshal(m.Payload.Run, &run)
				}
				if err != nil {
					viewerErrs[i] = fmt.Errorf("decode %.100s: %w", data, err)
					return
				}
				messages.Add(1)
				if m.Type == benchproto.TypeSamples {
					lat.received(run, m.Payload.Batch)
					viewerBatches[i].Add(1)
				}
			}
		}()
	}

	producers := make([]*benchclient.Producer, o.producers)
	runs := make([]*benchclient.Run, o.producers)
	added := make([]int, o.producers)
	for i := range producers {
		p, err := benchclient.NewProducer(benchclient.Config{URL: srv.url, Client: "wsload-producer/1", MaxBatch: o.batch, OnSend: lat.onSend, OnAck: lat.onAck})
		if err != nil {
			return err
		}
		defer p.Close()
		producers[i] = p
		runs[i] = p.Start(benchproto.RunInfo{ID: fmt.Sprintf("load-%d-%d", time.Now().UnixNano(), i), Snippet: ids[i%len(ids)], Runtime: "pyodide",
			Env: json.RawMessage(`{"userAgent":"wsload","cores":2}`)})
	}

	store := "SQLite (WAL, synchronous=FULL)"
	if strings.HasPrefix(o.db, "postgres") || o.db == "pgtest" {
		store = "PostgreSQL " + o.db
	}
	fmt.Printf("streaming: %d producers × %d samples every %v for %v over %d snippets, %d viewers; store %s\n",
		o.producers, o.batch, o.interval, o.duration, o.snippets, o.viewers, store)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the producers' ticks over the interval.
			time.Sleep(time.Duration(i) * o.interval / time.Duration(o.producers))
			t := time.NewTicker(o.interval)
			defer t.Stop()
			samples := make([]snippets.Sample, o.batch)
			for time.Since(start) < o.duration {
				for j := range samples {
					samples[j] = snippets.Sample{Warmup: added[i]+j < 5, NsPerIter: float64(1000 + (added[i]+j)%97), Iterations: 100}
				}
				runs[i].Add(samples...)
				added[i] += o.batch
				<-t.C
			}
			runs[i].End(snippets.RunDone, "")
		}()
	}
	var sampledRSS atomic.Int64 // the largest current RSS seen while streaming
	ticker := time.NewTicker(250 * time.Millisecond)
	go func() {
		for range ticker.C {
			if c, _ := srv.rss(); c > sampledRSS.Load() {
				sampledRSS.Store(c)
			}
		}
	}()
	wg.Wait()
	dctx, dcancel := context.WithTimeout(ctx, o.drain)
	defer dcancel()
	var waitErrs []error
	for _, p := range producers {
		if err := p.Wait(dctx); err != nil {
			waitErrs = append(waitErrs, err)
		}
	}
	elapsed := time.Since(start)
	ticker.Stop()
	rssNow, rssPeak := srv.rss()
	cpuUsed := srv.cpu() - cpuBefore
	heap := serverHeap(srv.url)

	// Give the viewers the last fan-out, then stop them.
	time.Sleep(500 * time.Millisecond)
	cancel()
	viewersWG.Wait()

	// Count what is stored, run by run.
	var sent, stored, batches int
	lost := 0
	for i, r := range runs {
		sent += added[i]
		n, err := storedSamples(srv.url, r.ID())
		if err != nil {
			return err
		}
		stored += n
		if n != added[i] {
			lost++
		}
	}
	var st benchclient.Stats
	for _, p := range producers {
		s := p.Stats()
		st.Batches += s.Batches
		st.Duplicates += s.Duplicates
		st.Reconnects += s.Reconnects
		st.Resent += s.Resent
	}
	batches = st.Batches
	slices.Sort(lat.d)
	slices.Sort(lat.acked)
	pctOf := func(d []time.Duration, p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, int(p*float64(len(d))))].Round(10 * time.Microsecond)
	}
	pct := func(p float64) time.Duration { return pctOf(lat.d, p) }
	perSnippet := map[string]int{}
	for i, p := range producers {
		perSnippet[ids[i%len(ids)]] += p.Stats().Batches
	}
	complete := 0
	deliveries := 0
	for i := range viewerBatches {
		for _, id := range follows[i] {
			viewerWant[i] += perSnippet[id]
		}
		deliveries += viewerWant[i]
		if viewerBatches[i].Load() == int64(viewerWant[i]) {
			complete++
		}
	}

	fmt.Printf("machine: %d CPUs (%s/%s), server and load generator on the same machine\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("samples stored: %d of %d sent in %d batches over %.1f s: %.0f samples/s (%.0f batches/s)\n",
		stored, sent, batches, elapsed.Seconds(), float64(stored)/elapsed.Seconds(), float64(batches)/elapsed.Seconds())
	fmt.Printf("ack latency (producer write → ack read, %d batches): p50 %v, p99 %v, max %v\n",
		len(lat.acked), pctOf(lat.acked, 0.5), pctOf(lat.acked, 0.99), pctOf(lat.acked, 1))
	fmt.Printf("fan-out latency (producer write → viewer read, %d deliveries): p50 %v, p99 %v, max %v\n",
		len(lat.d), pct(0.50), pct(0.99), pct(1))
	fmt.Printf("viewers: %d following %d snippet(s) each: %d received every batch of their snippets (%d deliveries due); dropped as too slow: %d\n",
		o.viewers, o.follow, complete, deliveries, dropped.Load())
	fmt.Printf("viewers read %d messages in %d WebSocket frames (coalesced frames: %v)\n", messages.Load(), frames.Load(), o.coalesce)
	fmt.Printf("server memory: RSS %s before, %s at the end, peak %s (VmHWM; %s sampled while streaming); Go heap in use at the end %s\n",
		mib(rssBefore), mib(rssNow), mib(rssPeak), mib(sampledRSS.Load()), mib(heap))
	fmt.Printf("server CPU while streaming and draining: %.2f s, %.0f µs per stored batch with its fan-out\n",
		cpuUsed.Seconds(), float64(cpuUsed.Microseconds())/float64(max(batches, 1)))
	fmt.Printf("producers: %d reconnects, %d batches resent, %d duplicates\n", st.Reconnects, st.Resent, st.Duplicates)
	if lost > 0 || stored != sent || len(waitErrs) > 0 {
		return fmt.Errorf("SAMPLES LOST: %d runs incomplete, %d of %d stored; %v", lost, stored, sent, errors.Join(waitErrs...))
	}
	fmt.Println("no sample lost: every run has every sample, once")
	if dropped.Load() > 0 || complete != o.viewers {
		for i, err := range viewerErrs {
			if err != nil {
				fmt.Printf("viewer %d: %v\n", i, err)
			}
		}
	}
	return nil
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

// serverHeap reads go_memstats_heap_inuse_bytes from /metrics.
func serverHeap(base string) int64 {
	res, err := http.Get(base + "/metrics")
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
