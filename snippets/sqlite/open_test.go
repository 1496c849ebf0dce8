package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyplay/pyplay/snippets"
)

// TestMain doubles as the child process of the crash and multi-process
// tests, which need a second process using the same database file.
func TestMain(m *testing.M) {
	if mode := os.Getenv("PYPLAY_SQLITE_CHILD"); mode != "" {
		if err := child(mode, os.Getenv("PYPLAY_SQLITE_PATH")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child(mode, path string) error {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		return err
	}
	switch {
	case mode == "crash":
		sn := &snippets.Snippet{Runtime: snippets.Pyodide, Code: "print('survives')"}
		sn.Seal()
		if _, err := s.Put(ctx, sn); err != nil {
			return err
		}
		fmt.Println(sn.ID) // acknowledged: from here on the parent may kill us
		time.Sleep(time.Minute)
		return nil
	case strings.HasPrefix(mode, "writer"):
		for i := range 30 {
			sn := &snippets.Snippet{Runtime: snippets.Pyodide, Code: fmt.Sprintf("print(%q, %d)", mode, i)}
			sn.Seal()
			if _, err := s.Put(ctx, sn); err != nil {
				return err
			}
			runID := fmt.Sprintf("%s-%d", mode, i)
			if err := s.CreateRun(ctx, &snippets.Run{ID: runID, SnippetID: sn.ID, Runtime: "pyodide"}); err != nil {
				return err
			}
			if _, err := s.AppendBatch(ctx, &snippets.Batch{RunID: runID, Samples: []snippets.Sample{{Seq: 0, NsPerIter: 1, Iterations: 1}}}); err != nil {
				return err
			}
		}
		return s.Close()
	}
	return fmt.Errorf("unknown child mode %q", mode)
}

func startChild(t *testing.T, mode, path string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "PYPLAY_SQLITE_CHILD="+mode, "PYPLAY_SQLITE_PATH="+path)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestPutSurvivesKill checks that an acknowledged Put is in the file even
// if the process dies at once (SIGKILL: no deferred Close, no checkpoint).
// Power loss is covered by synchronous=FULL, checked in TestPragmas.
func TestPutSurvivesKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := startChild(t, "crash", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id := strings.TrimSpace(line)
	if _, err := s.Get(t.Context(), id); err != nil {
		t.Fatalf("acknowledged snippet %s lost after SIGKILL: %v", id, err)
	}
}

// TestProcessesShareTheFile runs writers in three processes at once: none
// may fail with SQLITE_BUSY.
func TestProcessesShareTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var cmds []*exec.Cmd
	for i := range 2 {
		cmd := startChild(t, "writer"+strconv.Itoa(i), path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := child("writer-parent", path); err != nil {
			t.Errorf("parent writer: %v", err)
		}
	})
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child writer: %v", err)
		}
	}
	wg.Wait()
	n := 0
	if err := s.Each(t.Context(), func(*snippets.Snippet) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 90 {
		t.Errorf("%d snippets stored, want 90", n)
	}
}

func TestPragmas(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	for _, tt := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", strconv.Itoa(int(busyTimeout.Milliseconds()))},
	} {
		var got string
		if err := s.write.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("writer: PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
		}
	}
	var queryOnly string
	if err := s.read.QueryRowContext(ctx, "PRAGMA query_only").Scan(&queryOnly); err != nil || queryOnly != "1" {
		t.Errorf("reader: query_only = %q, %v; want 1", queryOnly, err)
	}
}

func TestOpenCreatesDirectoriesAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "pyplay.db")
	for range 2 {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		var n, max int
		if err := s.read.QueryRowContext(t.Context(), `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
			t.Fatal(err)
		}
		if n != max || n < 1 {
			t.Errorf("schema_migrations has %d rows up to version %d", n, max)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "future.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, name, applied) VALUES (999, '999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "schema version 999") {
		t.Fatalf("Open of a newer database: %v, want a schema version error", err)
	}
}

func TestOpenBadPaths(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"", ":memory:", dir + "/", filepath.Join(notDir, "db")} {
		if s, err := Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
	// Characters that mean something in a file: URI stay part of the name.
	odd := filepath.Join(dir, "we?ird#name%20.db")
	s, err := Open(t.Context(), odd)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(odd); err != nil {
		t.Errorf("database not at %q: %v", odd, err)
	}
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "text.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(t.Context(), path); err == nil {
		s.Close()
		t.Fatal("Open of a text file succeeded")
	}
}

func TestCanceledContext(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	sn := &snippets.Snippet{Runtime: snippets.Pyodide, Code: "x"}
	sn.Seal()
	if _, err := s.Put(ctx, sn); err == nil {
		t.Error("Put with a canceled context succeeded")
	}
	if _, err := s.Get(t.Context(), sn.ID); snippets.ErrorCode(err) != snippets.NotFound {
		t.Errorf("Get after a canceled Put: %v, want NotFound", err)
	}
}
