// Command snippetbench load-tests the snippet HTTP API of the real pyplay
// binary with wrk, on SQLite and on PostgreSQL, each side by side with a
// baseline route of the same server that answers a constant (GET
// /api/ping, which touches no store), and prints (or writes into
// BENCHMARKS.md) requests per second, p50/p99 latency and the ratio to the
// baseline.
//
//	go run ./cmd/snippetbench -bin bin/pyplay [-write BENCHMARKS.md]
//
// It runs on loopback only; PostgreSQL is a throwaway server started like
// the tests' (snippets/postgres/pgtest), but with durability switched back
// on so that POST compares fairly with SQLite's synchronous=FULL.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pyplay/pyplay/cmd/internal/serveproc"
	"github.com/pyplay/pyplay/snippets/postgres/pgtest"
)

// sectionHeading is the part of BENCHMARKS.md this program owns.
const sectionHeading = "## Snippets HTTP"

// postScript makes every wrk request a new snippet: a counter per thread
// and a nonce per run keep the code (so the ID) unique.
const postScript = `-- POST /api/snippets with new code every request (snippetbench).
local counter, nonce = 0, "x"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  nonce = (args[1] or "run") .. "-" .. tostring(tid)
end
function request()
  counter = counter + 1
  local body = '{"code":"print(\\"bench ' .. nonce .. ' ' .. counter .. '\\")\\n","runtime":"pyodide"}'
  return wrk.format("POST", "/api/snippets", {["Content-Type"] = "application/json"}, body)
end
`

type options struct {
	bin, wrk             string
	duration, timeout    time.Duration
	threads, connections int
	stores               string
	seed, rounds         int
	write                string
	loadBefore           string // the 1-minute load average when the runs began
}

// result is one wrk run.
type result struct {
	Name       string
	RPS        float64
	P50, P99   time.Duration
	Requests   int
	Non2xx     int
	Errors     string // wrk's socket errors line, if any
	BaselineOf float64
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/pyplay", "the pyplay binary to load (make build)")
	flag.StringVar(&o.wrk, "wrk", "wrk", "the wrk load generator (Debian's wrk)")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each run")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Second, "wrk's request timeout")
	flag.IntVar(&o.threads, "threads", 2, "wrk threads")
	flag.IntVar(&o.connections, "connections", 32, "wrk connections")
	flag.StringVar(&o.stores, "stores", "sqlite,postgres", "stores to run against")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of runs, interleaved; figures are medians over rounds")
	flag.IntVar(&o.seed, "seed", 500, "snippets stored before the runs, so reads hit a table that is not tiny")
	flag.StringVar(&o.write, "write", "", "replace the '"+sectionHeading+"' section of this Markdown file with the results")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "snippetbench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if _, err := os.Stat(o.bin); err != nil {
		return fmt.Errorf("%w: run `make build` first", err)
	}
	wrk, err := exec.LookPath(o.wrk)
	if err != nil {
		return fmt.Errorf("%w: install Debian's wrk (apt-get install wrk)", err)
	}
	dir, err := os.MkdirTemp("", "snippetbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "post.lua")
	if err := os.WriteFile(script, []byte(postScript), 0o644); err != nil {
		return err
	}
	o.wrk = wrk
	o.loadBefore = loadAverage()

	results := map[string][]result{}
	var order []string
	for _, store := range strings.Split(o.stores, ",") {
		store = strings.TrimSpace(store)
		var dsn string
		var cleanup func()
		switch store {
		case "sqlite":
			dsn = "sqlite:" + filepath.Join(dir, "bench.db")
			cleanup = func() {}
		case "postgres":
			dsn, cleanup, err = startPostgres()
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown store %q; use sqlite and/or postgres", store)
		}
		rs, err := benchStore(o, store, dsn, script)
		cleanup()
		if err != nil {
			return fmt.Errorf("%s: %w", store, err)
		}
		results[store] = rs
		order = append(order, store)
	}
	report := render(o, order, results)
	fmt.Print(report)
	if o.write != "" {
		return writeSection(o.write, report)
	}
	return nil
}

// startPostgres starts a throwaway server with durability on (pgtest turns
// it off for speed) and returns the URL of a fresh database.
func startPostgres() (string, func(), error) {
	srv, err := pgtest.StartServer()
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, srv.DSN())
	if err != nil {
		srv.Close()
		return "", nil, err
	}
	for _, setting := range []string{"fsync = on", "synchronous_commit = on", "full_page_writes = on", "shared_buffers = '128MB'"} {
		if _, err := conn.Exec(ctx, "ALTER SYSTEM SET "+setting); err != nil {
			conn.Close(ctx)
			srv.Close()
			return "", nil, err
		}
	}
	conn.Close(ctx)
	if err := srv.Stop(); err != nil {
		srv.Close()
		return "", nil, err
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		return "", nil, err
	}
	dsn, err := srv.CreateDatabase(ctx, "snippetbench")
	if err != nil {
		srv.Close()
		return "", nil, err
	}
	return dsn, func() { srv.Close() }, nil
}

// benchStore starts pyplay on dsn, seeds it and runs every request kind
// against it, in rounds.
func benchStore(o options, store, dsn, script string) ([]result, error) {
	base, stop, err := startPyplay(o, store, dsn)
	if err != nil {
		return nil, err
	}
	defer stop()
	id, err := seed(o, store, base)
	if err != nil {
		return nil, err
	}
	runs := []struct{ name, path, script string }{
		{"baseline: GET /api/ping", "/api/ping", ""},
		{"GET /api/snippets/{id}", "/api/snippets/" + id, ""},
		{"GET /s/{id}", "/s/" + id, ""},
		{"POST /api/snippets", "/", script},
	}
	// Rounds interleave the requests, so that the machine's other work
	// (it is shared) weighs on each alike; each figure is the median over
	// rounds, and the ratio the median of each round's ratio to that
	// round's baseline.
	rounds := make([][]result, len(runs))
	for round := range o.rounds {
		for i, r := range runs {
			fmt.Fprintf(os.Stderr, "%s: round %d/%d: %s for %v\n", store, round+1, o.rounds, r.name, o.duration)
			res, err := runWrk(o, r.name, base+r.path, r.script)
			if err != nil {
				return nil, err
			}
			res.BaselineOf = res.RPS / baselineRPS(rounds, res, round)
			rounds[i] = append(rounds[i], res)
		}
	}
	out := make([]result, len(runs))
	for i, rs := range rounds {
		out[i] = median(rs)
	}
	return out, nil
}

// startPyplay starts the binary on a free loopback port and dsn and
// returns its URL once it answers; stop stops it as Ctrl-C would (its log
// is printed if that fails).
func startPyplay(o options, store, dsn string) (base string, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	var log bytes.Buffer
	cmd := exec.Command(o.bin, "serve", "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-preview-addr", "127.0.0.1:0",
		"-db", dsn, "-rate", "0", "-log-level", "warn")
	cmd.Stdout, cmd.Stderr = &log, &log
	proc, err := serveproc.Start(cmd)
	if err != nil {
		return "", nil, err
	}
	stop = func() {
		if err := proc.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: server shutdown: %v\n%s", store, err, log.String())
		}
	}
	if err := waitUp(base+"/api/ping", 30*time.Second); err != nil {
		stop()
		return "", nil, fmt.Errorf("%w\n%s", err, log.String())
	}
	return base, stop, nil
}

// seed stores o.seed snippets, so that reads hit a table that is not
// tiny, and returns the ID of one to read.
func seed(o options, store, base string) (string, error) {
	fmt.Fprintf(os.Stderr, "%s: seeding %d snippets\n", store, o.seed)
	var id string
	for i := range o.seed {
		var err error
		id, err = create(base, fmt.Sprintf("# seed %d\nfor i in range(%d):\n    print(i * i)\n", i, i))
		if err != nil {
			return "", err
		}
	}
	if id == "" {
		return create(base, "print('hello')\n")
	}
	return id, nil
}

// baselineRPS is the baseline's requests per second in the given round (the
// baseline is the first run of each round; for itself, its own).
func baselineRPS(rounds [][]result, r result, round int) float64 {
	if len(rounds[0]) > round {
		return rounds[0][round].RPS
	}
	return r.RPS
}

// median takes the median of each figure over rounds; sums the errors.
func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	out := result{Name: rs[0].Name}
	out.RPS = pick(func(r result) float64 { return r.RPS })
	out.P50 = time.Duration(pick(func(r result) float64 { return float64(r.P50) }))
	out.P99 = time.Duration(pick(func(r result) float64 { return float64(r.P99) }))
	out.BaselineOf = pick(func(r result) float64 { return r.BaselineOf })
	var errs []string
	for _, r := range rs {
		out.Requests += r.Requests
		out.Non2xx += r.Non2xx
		if r.Errors != "" {
			errs = append(errs, r.Errors)
		}
	}
	out.Errors = strings.Join(errs, "; ")
	return out
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitUp(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("pyplay did not answer %s within %v", url, within)
}

func create(base, code string) (string, error) {
	body, _ := json.Marshal(map[string]string{"code": code, "runtime": "pyodide"})
	res, err := http.Post(base+"/api/snippets", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("create a snippet: %d %s", res.StatusCode, data)
	}
	var out struct{ ID string }
	if err := json.Unmarshal(data, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// wrkArgs is the wrk command line for a run (also printed in the report).
func wrkArgs(o options, url, script string) []string {
	args := []string{"-t" + strconv.Itoa(o.threads), "-c" + strconv.Itoa(o.connections),
		"-d" + strconv.Itoa(int(o.duration.Seconds())) + "s", "--timeout", strconv.Itoa(int(o.timeout.Seconds())) + "s", "--latency",
		// As browsers ask: pages come gzipped (the API's small JSON does not).
		"-H", "Accept-Encoding: gzip, br"}
	if script != "" {
		args = append(args, "-s", script)
	}
	args = append(args, url)
	if script != "" {
		args = append(args, "--", strconv.FormatInt(time.Now().UnixNano(), 36))
	}
	return args
}

func runWrk(o options, name, url, script string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, o.wrk, wrkArgs(o, url, script)...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk %s: %w\n%s", name, err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return result{}, fmt.Errorf("wrk %s: %w\n%s", name, err, out)
	}
	r.Name = name
	return r, nil
}

var (
	reRPS      = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reRequests = regexp.MustCompile(`(\d+) requests in`)
	reNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reErrors   = regexp.MustCompile(`Socket errors: .*`)
	rePercent  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
)

// parseWrk reads wrk's report (with --latency).
func parseWrk(out string) (result, error) {
	var r result
	m := reRPS.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("no Requests/sec in wrk's output")
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	if m := reRequests.FindStringSubmatch(out); m != nil {
		r.Requests, _ = strconv.Atoi(m[1])
	}
	if m := reNon2xx.FindStringSubmatch(out); m != nil {
		r.Non2xx, _ = strconv.Atoi(m[1])
	}
	r.Errors = reErrors.FindString(out)
	for _, m := range rePercent.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		d := time.Duration(v * float64(map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]))
		if m[1] == "50" {
			r.P50 = d
		} else {
			r.P99 = d
		}
	}
	if r.P50 == 0 || r.P99 == 0 {
		return r, errors.New("no latency distribution in wrk's output (needs --latency)")
	}
	return r, nil
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// render writes the section in Markdown: one table with the stores side by
// side, then how it was measured.
func render(o options, stores []string, results map[string][]result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", sectionHeading)
	fmt.Fprintf(&b, "Command: `make bench-http` (part of `make bench`), i.e. `go run ./cmd/snippetbench -bin bin/pyplay -write BENCHMARKS.md`,\n")
	args := wrkArgs(o, "URL", "")
	for i, a := range args {
		if strings.Contains(a, " ") {
			args[i] = "'" + a + "'"
		}
	}
	fmt.Fprintf(&b, "which runs `wrk %s` against the real binary for each row (POST with `-s post.lua`, a\n",
		strings.Join(args, " "))
	b.WriteString("script in cmd/snippetbench that sends new code every request).\n\n")
	renderTable(&b, stores, results)
	renderHow(&b, o)
	return b.String()
}

// renderTable writes the figures, a row per request and four columns per
// store, and then any errors wrk saw.
func renderTable(b *strings.Builder, stores []string, results map[string][]result) {
	names := []string{}
	if len(stores) > 0 {
		for _, r := range results[stores[0]] {
			names = append(names, r.Name)
		}
	}
	b.WriteString("| request |")
	sep := "| --- |"
	for _, s := range stores {
		label := map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}[s]
		fmt.Fprintf(b, " %s req/s | p50 ms | p99 ms | × baseline |", label)
		sep += " ---: | ---: | ---: | ---: |"
	}
	b.WriteString("\n" + sep + "\n")
	var problems []string
	for i, name := range names {
		fmt.Fprintf(b, "| %s |", name)
		for _, s := range stores {
			r := results[s][i]
			fmt.Fprintf(b, " %.0f | %s | %s | %.2f |", r.RPS, ms(r.P50), ms(r.P99), r.BaselineOf)
			if r.Non2xx > 0 || r.Errors != "" {
				problems = append(problems, fmt.Sprintf("%s, %s: %d non-2xx responses of %d; %s", s, name, r.Non2xx, r.Requests, r.Errors))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	if len(problems) > 0 {
		b.WriteString("Errors during the runs (the figures above include them):\n\n")
		for _, p := range problems {
			fmt.Fprintf(b, "- %s\n", p)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("Every response was 2xx (no errors, no timeouts).\n\n")
	}
}

// renderHow says how the figures were measured and on what machine, so
// that a reader can judge and repeat them.
func renderHow(b *strings.Builder, o options) {
	fmt.Fprintf(b, "How: %d snippets are stored first; then %d rounds, each a %v run of wrk per row in turn (%d threads,\n",
		o.seed, o.rounds, o.duration, o.threads)
	fmt.Fprintf(b, "%d connections, closed loop); every figure is the median over the rounds, the ratio the median of each\n", o.connections)
	b.WriteString("round's ratio to the baseline run just before it (so the columns need not divide exactly). The server\n")
	b.WriteString("is one `pyplay serve -rate 0 -log-level warn` on 127.0.0.1; the baseline is `GET /api/ping`, a route\n")
	b.WriteString("of the same server and middleware (request ID, access log, metrics, security headers) that writes a\n")
	b.WriteString("constant without touching the store. GETs read one snippet again and again, so they come from the\n")
	b.WriteString("server's in-memory snippet cache (read again every two seconds, when the entry expires), as a popular\n")
	b.WriteString("link does; POST stores new code every time\n")
	b.WriteString("(`201`), durably: SQLite in WAL mode with `synchronous=FULL`, PostgreSQL (a throwaway server like the\n")
	b.WriteString("tests', with `fsync`, `synchronous_commit` and `full_page_writes` switched back on) on the same disk.\n")
	fmt.Fprintf(b, "wrk, pyplay and PostgreSQL share the machine's %d cores, so absolute figures are low; compare ratios.\n", runtime.NumCPU())
	fmt.Fprintf(b, "Run on %s, %s, %s; load average %s before the runs, %s after (other work on the machine).\n",
		time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.Version(), o.loadBefore, loadAverage())
}

// loadAverage is the 1-minute load average, which says how busy the
// machine was besides the benchmark.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(data))[0]
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// writeSection replaces the section under sectionHeading in a Markdown
// file (up to the next "## " heading), or appends it; other sections are
// left byte for byte.
func writeSection(path, section string) error {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	doc := string(data)
	if doc == "" {
		doc = "# Benchmarks\n"
	}
	start := strings.Index(doc, "\n"+sectionHeading+"\n")
	var out string
	if start < 0 {
		out = strings.TrimRight(doc, "\n") + "\n\n" + section
	} else {
		start++ // keep the newline before the heading
		rest := doc[start+len(sectionHeading):]
		end := strings.Index(rest, "\n## ")
		tail := ""
		if end >= 0 {
			tail = "\n" + rest[end+1:]
		}
		out = doc[:start] + section + tail
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(out), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
