package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyplay/pyplay/cmd/internal/serveproc"
)

// server is the pyplay process under load, with its default limits.
type server struct {
	proc    *serveproc.Process
	url     string // http://127.0.0.1:PORT
	addr    string // 127.0.0.1:PORT
	metrics string
	dbPath  string
	dir     string
	// warnings counts the server's WARN and ERROR log lines, by message.
	warnings warnCounts
}

func startServer(bin string) (*server, error) {
	dir, err := os.MkdirTemp("", "soak-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, dbPath: filepath.Join(dir, "pyplay.db")}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	s.metrics = "http://" + metricsAddr + "/metrics"
	// Default limits, but the free-disk floor: a soak must not fail for
	// the machine's disk.
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-preview-addr", "127.0.0.1:0",
		"-metrics-addr", metricsAddr, "-db", "sqlite:"+s.dbPath, "-min-free-disk", "0")
	cmd.Env = append(os.Environ(), "PYPLAY_LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if s.proc, err = serveproc.Start(cmd); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	select {
	case u := <-s.watchLog(stderr):
		s.url, s.addr = u, strings.TrimPrefix(u, "http://")
		return s, nil
	case <-time.After(30 * time.Second):
		s.stop()
		s.cleanup()
		return nil, errors.New("the server did not start within 30 s")
	}
}

func (s *server) stop() error { return s.proc.Stop() }

func (s *server) cleanup() {
	s.proc.Stop()
	os.RemoveAll(s.dir)
}

// watchLog sends the URL of the "serving" line and counts warnings.
func (s *server) watchLog(stderr io.Reader) <-chan string {
	urls := make(chan string, 1)
	serving := regexp.MustCompile(`msg=serving url=(\S+)`)
	msg := regexp.MustCompile(`msg=("[^"]*"|\S+)`)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Text()
			if m := serving.FindStringSubmatch(line); m != nil && !found {
				found = true
				urls <- strings.Replace(m[1], "localhost", "127.0.0.1", 1)
			} else if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
				key := line
				if m := msg.FindStringSubmatch(line); m != nil {
					key = m[1]
				}
				s.warnings.add(key, line)
			}
		}
	}()
	return urls
}

// sample is the server measured at one moment.
type sample struct {
	at         time.Duration
	rss        int64
	goroutines int64
	fds        int64
	conns      int64
}

type samples []sample

// watch measures the server every interval after warmup until ctx ends,
// then sends what it measured.
func (s *server) watch(ctx context.Context, warmup, interval time.Duration) <-chan samples {
	out := make(chan samples, 1)
	go func() {
		var ss samples
		start := time.Now()
		select {
		case <-ctx.Done():
			out <- ss
			return
		case <-time.After(warmup):
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			m := s.measure()
			m.at = time.Since(start)
			ss = append(ss, m)
			log.Printf("soak: %5.0fs  RSS %6.1f MiB  goroutines %5d  open files %4d  connections %4d",
				m.at.Seconds(), float64(m.rss)/(1<<20), m.goroutines, m.fds, m.conns)
			select {
			case <-ctx.Done():
				out <- ss
				return
			case <-t.C:
			}
		}
	}()
	return out
}

func (s *server) measure() sample {
	var m sample
	pid := s.proc.Pid()
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				var kb int64
				fmt.Sscan(v, &kb)
				m.rss = kb << 10
			}
		}
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		m.fds = int64(len(fds))
	}
	if res, err := (&http.Client{Timeout: 5 * time.Second}).Get(s.metrics); err == nil {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 {
				continue
			}
			v, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "go_goroutines":
				m.goroutines = int64(v)
			case "pyplay_http_connections_open":
				m.conns = int64(v)
			}
		}
		res.Body.Close()
	}
	return m
}

// cpu returns the CPU time the server has used so far (user + system).
func (s *server) cpu() time.Duration { return s.proc.CPU() }

// Growth allowed from the first third of the samples to the last: a
// figure grows when its mean rose by more than the share and by more than
// the floor (noise on small numbers).
const growthShare = 0.25

var growthFloor = map[string]float64{"RSS (MiB)": 16, "goroutines": 100, "open files": 50}

// report prints the series' summary and whether anything kept growing.
func (ss samples) report(w io.Writer) bool {
	fmt.Fprintln(w)
	if len(ss) < 6 {
		fmt.Fprintf(w, "server: only %d measurements; run longer to judge growth\n", len(ss))
		return true
	}
	third := len(ss) / 3
	ok := true
	fmt.Fprintf(w, "server over %d measurements (%.0f s to %.0f s), first third → last third (mean; max):\n", len(ss), ss[0].at.Seconds(), ss[len(ss)-1].at.Seconds())
	for _, f := range []struct {
		name string
		get  func(sample) float64
	}{
		{"RSS (MiB)", func(m sample) float64 { return float64(m.rss) / (1 << 20) }},
		{"goroutines", func(m sample) float64 { return float64(m.goroutines) }},
		{"open files", func(m sample) float64 { return float64(m.fds) }},
		{"connections", func(m sample) float64 { return float64(m.conns) }},
	} {
		first, last := mean(ss[:third], f.get), mean(ss[len(ss)-third:], f.get)
		peak := 0.0
		for _, m := range ss {
			peak = max(peak, f.get(m))
		}
		verdict := "steady"
		if floor, judged := growthFloor[f.name]; judged && last > first*(1+growthShare) && last-first > floor {
			verdict, ok = "GROWING", false
		} else if !judged {
			verdict = "(load, not judged)"
		}
		fmt.Fprintf(w, "  %-12s %8.1f → %8.1f  (max %8.1f)  %s\n", f.name, first, last, peak, verdict)
	}
	return ok
}

func mean(ss []sample, get func(sample) float64) float64 {
	t := 0.0
	for _, m := range ss {
		t += get(m)
	}
	return t / float64(len(ss))
}

// warnCounts counts log lines by message, keeping the first of each.
type warnCounts struct {
	n       atomic.Int64
	m       syncMap
	mu      sync.Mutex
	example map[string]string
}

func (c *warnCounts) add(key, line string) {
	c.n.Add(1)
	c.m.inc(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.example == nil {
		c.example = map[string]string{}
	}
	if _, ok := c.example[key]; !ok {
		c.example[key] = line
	}
}

func (c *warnCounts) top(n int) []string {
	all := c.m.snapshot()
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return all[keys[i]] > all[keys[j]] })
	var out []string
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys[:min(n, len(keys))] {
		out = append(out, fmt.Sprintf("%s ×%d, e.g. %.300s", k, all[k], c.example[k]))
	}
	return out
}
