package storage

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/postgres"
	"github.com/pyplay/pyplay/snippets/postgres/pgtest"
	"github.com/pyplay/pyplay/snippets/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tt := range []struct{ dsn, file string }{
		{"sqlite:./data/pyplay.db", filepath.Join(dir, "data", "pyplay.db")},
		{"sqlite:rel.db", filepath.Join(dir, "rel.db")},
		{"sqlite:" + filepath.Join(dir, "abs", "x.db"), filepath.Join(dir, "abs", "x.db")},
		{"sqlite://" + filepath.Join(dir, "url.db"), filepath.Join(dir, "url.db")},
	} {
		s, err := Open(t.Context(), tt.dsn)
		if err != nil {
			t.Errorf("Open(%q): %v", tt.dsn, err)
			continue
		}
		if _, ok := s.(*sqlite.Store); !ok {
			t.Errorf("Open(%q) = %T, want *sqlite.Store", tt.dsn, s)
		}
		s.Close()
		if _, err := os.Stat(tt.file); err != nil {
			t.Errorf("Open(%q) did not create %s: %v", tt.dsn, tt.file, err)
		}
	}
}

func TestOpenPostgres(t *testing.T) {
	dsn := pgtest.Start(t)
	for _, d := range []string{dsn, strings.Replace(dsn, "postgres://", "postgresql://", 1)} {
		s, err := Open(t.Context(), d)
		if err != nil {
			t.Fatalf("Open(%q): %v", d, err)
		}
		if _, ok := s.(*postgres.Store); !ok {
			t.Errorf("Open(%q) = %T, want *postgres.Store", d, s)
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Error(err)
		}
		s.Close()
	}
}

func TestOpenPostgresUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err = Open(ctx, "postgres://pyplay:hunter2@"+addr+"/pyplay?sslmode=disable")
	if snippets.ErrorCode(err) != snippets.Unavailable {
		t.Errorf("Open of a closed port: %v, want unavailable", err)
	}
	if err != nil && strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestOpenRejects(t *testing.T) {
	for _, tt := range []struct{ dsn, msg string }{
		{"", "unknown database"},
		{"./data/pyplay.db", "use sqlite:PATH"},
		{"mysql://root@localhost/pyplay", "unknown database"},
		{"postgres:/nohost", "unknown database"},
		{"sqlite:", "names no file"},
		{"sqlite://host/db", "not a host"},
		{"sqlite:./x.db?_pragma=foo", "without options"},
		{"redis://u:hunter2@host", "u:xxxxx@host"},
	} {
		s, err := Open(t.Context(), tt.dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", tt.dsn)
			continue
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Open(%q): %v; want a message containing %q", tt.dsn, err, tt.msg)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) shows the password: %v", tt.dsn, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for dsn, want := range map[string]string{
		"sqlite:./data/pyplay.db":                  "sqlite:./data/pyplay.db",
		"postgres://pyplay:s3cret@db:5432/pyplay":  "postgres://pyplay:xxxxx@db:5432/pyplay",
		"postgres://pyplay@db/pyplay?sslmode=none": "postgres://pyplay@db/pyplay?sslmode=none",
		// Not a URL: a password with a '%' that escapes nothing.
		"postgres://pyplay:50%off@db/pyplay": "postgres://pyplay:xxxxx@db/pyplay",
	} {
		if got := Redact(dsn); got != want {
			t.Errorf("Redact(%q) = %q, want %q", dsn, got, want)
		}
	}
}
