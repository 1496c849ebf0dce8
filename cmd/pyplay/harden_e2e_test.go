package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestShutdownWithStalledClient sends SIGTERM while a client trickles a
// request body: the binary cuts that client once the grace period is over
// and exits 0, since nothing else went wrong.
func TestShutdownWithStalledClient(t *testing.T) {
	p := startBinary(t, "-db", "sqlite:"+filepath.Join(t.TempDir(), "db.sqlite"))
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(p.url, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /api/snippets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Expect: 100-continue\r\nContent-Length: 1000\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	// 100 Continue: the handler is reading the body.
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || !strings.Contains(line, "100") {
		t.Fatalf("answer %q, %v", line, err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := conn.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("pyplay did not stop within 30 s of SIGTERM:\n%s", p.log)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after cutting a stalled client, want 0:\n%s", code, p.log)
	}
	if !strings.Contains(p.log.String(), "cutting connections") {
		t.Errorf("the log does not say that a client was cut:\n%s", p.log)
	}
}

var metricsLine = regexp.MustCompile(`msg="serving metrics" url=(\S+)`)

// TestMetricsOffThePublicPort: the binary serves /metrics on its own
// loopback listener, never on the playground's port.
func TestMetricsOffThePublicPort(t *testing.T) {
	p := startBinary(t, "-db", "sqlite:"+filepath.Join(t.TempDir(), "db.sqlite"))
	m := metricsLine.FindStringSubmatch(p.log.String())
	if m == nil || !strings.HasPrefix(m[1], "http://127.0.0.1:") {
		t.Fatalf("no loopback metrics listener in the log:\n%s", p.log)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for url, want := range map[string]int{p.url + "/metrics": 404, m[1]: 200} {
		res, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", url, res.StatusCode, want)
		}
	}
}
