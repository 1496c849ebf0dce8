package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func query(t *testing.T, dsn, sql string, args ...any) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var s string
	err = conn.QueryRow(ctx, sql, args...).Scan(&s)
	return s, err
}

func TestDatabasesAreSeparate(t *testing.T) {
	a, b := Start(t), Start(t)
	if a == b {
		t.Fatalf("two databases share the URL %s", a)
	}
	for _, dsn := range []string{a, b} {
		if got, err := query(t, dsn, `SELECT current_setting('server_encoding')`); err != nil || got != "UTF8" {
			t.Errorf("server_encoding = %q, %v", got, err)
		}
	}
	ctx := t.Context()
	connA, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer connA.Close(ctx)
	if _, err := connA.Exec(ctx, `CREATE TABLE only_in_a (id int)`); err != nil {
		t.Fatal(err)
	}
	if _, err := query(t, b, `SELECT 'x' FROM only_in_a`); err == nil {
		t.Error("a table created in one test database is visible in another")
	}
}

func TestStopStart(t *testing.T) {
	s := NewServer(t)
	dsn := s.NewDatabase(t)
	if _, err := query(t, dsn, `SELECT 'up'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := query(t, dsn, `SELECT 'up'`); err == nil {
		t.Fatal("query succeeded while the server was stopped")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a stopped server took %v to refuse", d)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if got, err := query(t, dsn, `SELECT current_database()`); err != nil || got == "" {
		t.Fatalf("after restart: %q, %v", got, err)
	}
}

// fakeTB records what skipOrFail decides instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Skip(args ...any)          { f.skipped, f.msg = true, fmt.Sprint(args...) }
func (f *fakeTB) Fatal(args ...any)         { f.failed, f.msg = true, fmt.Sprint(args...) }
func (f *fakeTB) Fatalf(s string, a ...any) { f.failed, f.msg = true, fmt.Sprintf(s, a...) }

func TestNotInstalled(t *testing.T) {
	err := fmt.Errorf("pgtest: %w", ErrNotInstalled)

	t.Setenv("CI", "")
	tb := &fakeTB{}
	skipOrFail(tb, err)
	if !tb.skipped || tb.failed {
		t.Errorf("without CI: skipped %v, failed %v; want a skip", tb.skipped, tb.failed)
	}

	t.Setenv("CI", "true")
	tb = &fakeTB{}
	skipOrFail(tb, err)
	if !tb.failed || tb.skipped {
		t.Errorf("with CI: skipped %v, failed %v; want a failure", tb.skipped, tb.failed)
	}
	for _, want := range []string{"apt-get install postgresql", "CI is set"} {
		if !strings.Contains(tb.msg, want) {
			t.Errorf("message %q does not mention %q", tb.msg, want)
		}
	}

	tb = &fakeTB{}
	skipOrFail(tb, errors.New("initdb: disk full"))
	if !tb.failed {
		t.Error("other start-up errors must fail, not skip")
	}
}
