package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown sends SIGTERM to the real binary after it has used
// its store: it must shut down in order (stop accepting and drain HTTP,
// stop the WebSocket hub and background work, close the store last, as
// they may still write to it), log each step, and exit 0.
func TestGracefulShutdown(t *testing.T) {
	p := startBinary(t, "-db", "sqlite:"+filepath.Join(t.TempDir(), "db.sqlite"))
	createSnippet(t, p.url, "print('before shutdown')\n")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("pyplay did not stop within 15 s of SIGTERM:\n%s", p.log)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0:\n%s", code, p.log)
	}
	log := p.log.String()
	rest := log
	for _, step := range []string{
		`msg=serving`,
		`msg="shutdown: closing listeners, draining HTTP"`,
		`msg="shutdown: HTTP drained, WebSocket hub and background work stopped"`,
		`msg="shutdown: store closed"`,
		`msg=stopped`,
	} {
		i := strings.Index(rest, step)
		if i < 0 {
			if strings.Contains(log, step) {
				t.Fatalf("%s logged out of order:\n%s", step, log)
			}
			t.Fatalf("no %s log line:\n%s", step, log)
		}
		rest = rest[i+len(step):]
	}
}
