package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown sends SIGTERM to the real binary after it has used
// its store: it must shut down in order, log that it stopped, and exit 0.
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
	if !strings.Contains(p.log.String(), "msg=stopped") {
		t.Errorf("no 'stopped' log line:\n%s", p.log)
	}
}
