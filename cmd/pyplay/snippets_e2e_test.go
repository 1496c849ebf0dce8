package main

// End-to-end tests of sharing: the real Main (or the real binary) on port
// 0, a real SQLite file or PostgreSQL server, plain HTTP.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyplay/pyplay/server"
	"github.com/pyplay/pyplay/snippets/postgres/pgtest"
)

// lockedBuffer collects a server's log from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// skipUnbuilt skips (or, with CI set, fails) a test that needs the front
// end embedded in the binary, which `make build` produces.
func skipUnbuilt(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, server.ErrNotBuilt) {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// startMain runs `pyplay serve` in this process on a free port.
func startMain(t *testing.T, args ...string) (*Main, *lockedBuffer) {
	t.Helper()
	log := &lockedBuffer{}
	m := NewMain(io.Discard, log)
	base := []string{"-addr", "127.0.0.1:0", "-preview-addr", "127.0.0.1:0", "-log-level", "warn"}
	if err := m.ParseFlags(append(base, args...)); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(t.Context()); err != nil {
		skipUnbuilt(t, err)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", log)
		}
	})
	return m, log
}

var client = &http.Client{Timeout: 10 * time.Second}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) errorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func call(t *testing.T, method, url, body string) (response, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, data}, err
}

func mustCall(t *testing.T, method, url, body string) response {
	t.Helper()
	r, err := call(t, method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

func createSnippet(t *testing.T, base, code string) string {
	t.Helper()
	r := mustCall(t, "POST", base+"/api/snippets", fmt.Sprintf(`{"code": %q}`, code))
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var out struct{ ID string }
	json.Unmarshal(r.body, &out)
	return out.ID
}

func TestServeSnippetsEndToEnd(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "pyplay.db")
	m, _ := startMain(t, "-db", db, "-max-code", "1KiB", "-rate", "60", "-burst", "3")
	base := m.URL()

	id := createSnippet(t, base, "print('end to end')\n")
	if r := mustCall(t, "GET", base+"/api/snippets/"+id, ""); r.status != 200 || !bytes.Contains(r.body, []byte(`"code":"print('end to end')\n"`)) {
		t.Errorf("GET: %d %s", r.status, r.body)
	}
	if r := mustCall(t, "GET", base+"/s/"+id, ""); r.status != 200 || r.header.Get("X-Robots-Tag") != "noindex" || !bytes.Contains(r.body, []byte("print(&#39;end to end&#39;)")) {
		t.Errorf("page: %d %v", r.status, r.header)
	}
	if r := mustCall(t, "GET", base+"/s/"+id+".py", ""); string(r.body) != "print('end to end')\n" {
		t.Errorf("raw: %q", r.body)
	}
	if r := mustCall(t, "GET", base+"/healthz", ""); r.status != 200 || !bytes.Contains(r.body, []byte(`"store":"ok"`)) {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
	// -max-code reached the server.
	if r := mustCall(t, "POST", base+"/api/snippets", fmt.Sprintf(`{"code": %q}`, strings.Repeat("x", 1025))); r.status != 413 {
		t.Errorf("1025 bytes of code: %d %s", r.status, r.body)
	}
	// So did -rate and -burst: 3 at once (one spent above, one on the
	// refused body), then 429.
	createSnippet(t, base, "print(2)")
	r := mustCall(t, "POST", base+"/api/snippets", `{"code": "print(3)"}`)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Errorf("beyond the burst: %d %v", r.status, r.header)
	}

	// A graceful restart on the same file keeps everything.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2, _ := startMain(t, "-db", db)
	if r := mustCall(t, "GET", m2.URL()+"/api/snippets/"+id, ""); r.status != 200 {
		t.Errorf("after restart: %d %s", r.status, r.body)
	}
}

// buildBinary builds pyplay into a temporary directory, once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "pyplay-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pyplay")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// process is the pyplay binary running `serve`.
type process struct {
	cmd  *exec.Cmd
	url  string
	log  *lockedBuffer
	done chan struct{}
}

var servingLine = regexp.MustCompile(`msg=serving url=(\S+)`)

func startBinary(t *testing.T, args ...string) *process {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{log: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "-addr", "127.0.0.1:0", "-preview-addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Env = append(os.Environ(), "PYPLAY_LOG_LEVEL=info")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		found := false
		for sc.Scan() {
			p.log.Write(append(sc.Bytes(), '\n'))
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				urls <- m[1]
			}
		}
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("pyplay log (last 4 KiB):\n%s", tail(p.log.String(), 4096))
		}
	})
	select {
	case p.url = <-urls:
	case <-p.done:
		if strings.Contains(p.log.String(), server.ErrNotBuilt.Error()) {
			skipUnbuilt(t, server.ErrNotBuilt)
		}
		t.Fatalf("pyplay exited during start-up:\n%s", p.log)
	case <-time.After(30 * time.Second):
		t.Fatalf("pyplay did not start:\n%s", p.log)
	}
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestKillDuringCreations SIGKILLs the server in the middle of a stream of
// creations: every snippet it acknowledged must be there, intact, after a
// restart on the same SQLite file.
func TestKillDuringCreations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	db := "sqlite:" + filepath.Join(t.TempDir(), "pyplay.db")
	p := startBinary(t, "-db", db, "-rate", "0")

	const writers = 8
	var (
		mu    sync.Mutex
		acked = map[string]string{} // ID → code
		wg    sync.WaitGroup
	)
	enough := make(chan struct{})
	var once sync.Once
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				code := fmt.Sprintf("# writer %d, snippet %d\nprint(%q)\n", w, i, strings.Repeat("x", i%200))
				r, err := call(t, "POST", p.url+"/api/snippets", fmt.Sprintf(`{"code": %q}`, code))
				if err != nil {
					return // the server is gone
				}
				if r.status != http.StatusCreated {
					t.Errorf("writer %d: status %d: %s", w, r.status, r.body)
					return
				}
				var out struct{ ID string }
				if err := json.Unmarshal(r.body, &out); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				acked[out.ID] = code
				if len(acked) >= 300 {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(20 * time.Second):
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("no creation was acknowledged before the kill")
	}
	t.Logf("%d snippets acknowledged before SIGKILL", len(acked))

	p2 := startBinary(t, "-db", db)
	for id, code := range acked {
		r := mustCall(t, "GET", p2.url+"/api/snippets/"+id, "")
		if r.status != http.StatusOK {
			t.Errorf("acknowledged snippet %s: status %d after the crash", id, r.status)
			continue
		}
		var sn struct{ ID, Code string }
		if err := json.Unmarshal(r.body, &sn); err != nil || sn.ID != id || sn.Code != code {
			t.Errorf("acknowledged snippet %s came back as %s %q (%v)", id, sn.ID, sn.Code, err)
		}
	}
	// The database is writable after the crash.
	createSnippet(t, p2.url, "print('after the crash')")
}

// TestPostgresOutage stops PostgreSQL under a running server: requests get
// 503 JSON quickly, /healthz says so, and service resumes by itself once the
// database is back.
func TestPostgresOutage(t *testing.T) {
	pg := pgtest.NewServer(t)
	m, _ := startMain(t, "-db", pg.NewDatabase(t), "-rate", "0")
	base := m.URL()
	before := createSnippet(t, base, "print('before the outage')")

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	const quick = 2 * time.Second
	during := fmt.Sprintf(`{"code": %q}`, "print('during the outage')")
	// Twice: the first round may meet pooled connections the shutdown
	// killed, the second must dial and be refused.
	for round := range 2 {
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/api/snippets", during},
			{"GET", "/api/snippets/" + before, ""},
			{"GET", "/s/" + before + ".py", ""},
			{"GET", "/healthz", ""},
		} {
			start := time.Now()
			r := mustCall(t, c.method, base+c.path, c.body)
			if d := time.Since(start); d > quick {
				t.Errorf("round %d: %s %s took %v with the database down", round, c.method, c.path, d)
			}
			if r.status != http.StatusServiceUnavailable || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("round %d: %s %s: %d %s %s", round, c.method, c.path, r.status, r.header.Get("Content-Type"), r.body)
				continue
			}
			if c.path == "/healthz" {
				if !bytes.Contains(r.body, []byte(`"status":"unavailable"`)) {
					t.Errorf("healthz during the outage: %s", r.body)
				}
			} else if r.errorCode() != "unavailable" || r.header.Get("Retry-After") == "" {
				t.Errorf("round %d: %s %s: %s, Retry-After %q", round, c.method, c.path, r.body, r.header.Get("Retry-After"))
			}
		}
	}

	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := mustCall(t, "POST", base+"/api/snippets", during)
		if r.status == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery 15 s after the database came back: %d %s", r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := mustCall(t, "GET", base+"/api/snippets/"+before, ""); r.status != http.StatusOK {
		t.Errorf("GET after recovery: %d %s", r.status, r.body)
	}
	if r := mustCall(t, "GET", base+"/healthz", ""); r.status != http.StatusOK {
		t.Errorf("healthz after recovery: %d %s", r.status, r.body)
	}
}
