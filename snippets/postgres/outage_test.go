package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/postgres/pgtest"
)

// quick is how soon every method must give up when the database is down.
const quick = 2 * time.Second

// TestOutage stops the server under an open store: every method fails
// fast with Unavailable, and the same store works again once the server
// is back.
func TestOutage(t *testing.T) {
	t.Parallel()
	srv := pgtest.NewServer(t)
	s := openTemp(t, srv.NewDatabase(t))
	ctx := t.Context()

	sn := &snippets.Snippet{Runtime: snippets.Pyodide, Code: "print('before')"}
	sn.Seal()
	if _, err := s.Put(ctx, sn); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRun(ctx, &snippets.Run{ID: "r1", SnippetID: sn.ID, Runtime: "pyodide"}); err != nil {
		t.Fatal(err)
	}

	ab := &snippets.AB{ID: snippets.NewABID(), Arms: []string{sn.ID, sn.ID}, Runtimes: []string{"pyodide"},
		Threshold: 0.02, BudgetMs: 60000, Interpreters: 5}
	if err := s.CreateAB(ctx, ab); err != nil {
		t.Fatal(err)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	during := &snippets.Snippet{Runtime: snippets.Pyodide, Code: "print('during')"}
	during.Seal()
	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"Put", func(ctx context.Context) error { _, err := s.Put(ctx, during); return err }},
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, sn.ID); return err }},
		{"Delete", func(ctx context.Context) error { return s.Delete(ctx, sn.ID) }},
		{"Each", func(ctx context.Context) error {
			return s.Each(ctx, func(*snippets.Snippet) error { return nil })
		}},
		{"CreateRun", func(ctx context.Context) error {
			return s.CreateRun(ctx, &snippets.Run{ID: "r2", SnippetID: sn.ID, Runtime: "pyodide"})
		}},
		{"AppendBatch", func(ctx context.Context) error {
			_, err := s.AppendBatch(ctx, &snippets.Batch{RunID: "r1", Samples: []snippets.Sample{{NsPerIter: 1, Iterations: 1}}})
			return err
		}},
		{"FinishRun", func(ctx context.Context) error { return s.FinishRun(ctx, "r1", snippets.RunDone, "") }},
		{"ListRuns", func(ctx context.Context) error { _, err := s.ListRuns(ctx, sn.ID); return err }},
		{"GetRun", func(ctx context.Context) error { _, err := s.GetRun(ctx, "r1"); return err }},
		{"CreateAB", func(ctx context.Context) error {
			return s.CreateAB(ctx, &snippets.AB{ID: snippets.NewABID(), Arms: []string{sn.ID, sn.ID}, Runtimes: []string{"pyodide"},
				Threshold: 0.02, BudgetMs: 60000, Interpreters: 5})
		}},
		{"GetAB", func(ctx context.Context) error { _, err := s.GetAB(ctx, ab.ID); return err }},
		{"ListABs", func(ctx context.Context) error { _, err := s.ListABs(ctx, sn.ID, 50); return err }},
		{"ABRuns", func(ctx context.Context) error { _, err := s.ABRuns(ctx, ab.ID); return err }},
		{"EndAB", func(ctx context.Context) error { return s.EndAB(ctx, ab.ID) }},
		{"Ping", s.Ping},
	}
	// Twice: the first round may meet pooled connections the shutdown
	// killed, the second must dial and be refused.
	for round := range 2 {
		for _, c := range calls {
			start := time.Now()
			err := c.call(context.Background()) // no deadline: the store must not hang on its own
			t.Logf("round %d: %s: %v", round, c.name, err)
			if d := time.Since(start); d > quick {
				t.Errorf("round %d: %s took %v with the database down, want under %v", round, c.name, d, quick)
			}
			if code := snippets.ErrorCode(err); code != snippets.Unavailable {
				t.Errorf("round %d: %s with the database down: %v (code %q), want unavailable", round, c.name, err, code)
			}
		}
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if created, err := s.Put(ctx, during); err != nil || !created {
		t.Fatalf("Put after the database came back = %v, %v", created, err)
	}
	for _, id := range []string{sn.ID, during.ID} {
		if _, err := s.Get(ctx, id); err != nil {
			t.Errorf("Get(%s) after the database came back: %v", id, err)
		}
	}
	if stored, err := s.AppendBatch(ctx, &snippets.Batch{RunID: "r1", Samples: []snippets.Sample{{NsPerIter: 1, Iterations: 1}}}); err != nil || !stored {
		t.Errorf("AppendBatch after the database came back = %v, %v", stored, err)
	}
}

// TestOpenUnreachable checks that Open reports a refused connection as
// Unavailable, promptly.
func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nobody listens there now
	start := time.Now()
	_, err = Open(context.Background(), "postgres://postgres@"+addr+"/pyplay?sslmode=disable")
	if code := snippets.ErrorCode(err); code != snippets.Unavailable {
		t.Errorf("Open of a closed port: %v (code %q), want unavailable", err, code)
	}
	if d := time.Since(start); d > quick {
		t.Errorf("Open of a closed port took %v", d)
	}
}

// TestConnectTimeout points the store at a server that accepts TCP
// connections and never answers (a wedged host, a black-holing firewall):
// the default connect timeout must end the wait.
func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // hold it open, say nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	start := time.Now()
	_, err = Open(context.Background(), "postgres://postgres@"+l.Addr().String()+"/pyplay?sslmode=disable")
	d := time.Since(start)
	if code := snippets.ErrorCode(err); code != snippets.Unavailable {
		t.Errorf("Open of a silent server: %v (code %q), want unavailable", err, code)
	}
	if d > connectTimeout+time.Second {
		t.Errorf("Open of a silent server took %v, want about %v", d, connectTimeout)
	}
}

// TestConcurrentOpen starts several stores on one fresh database at once,
// as servers starting together do: the advisory lock lets exactly one
// apply each migration.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Start(t)
	const n = 4
	stores := make([]*Store, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := Open(t.Context(), dsn)
			if err != nil {
				t.Error(err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			defer s.Close()
		}
	}
	if t.Failed() {
		return
	}
	var rows, versions int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != versions || rows < 1 {
		t.Errorf("schema_migrations has %d rows for %d versions", rows, versions)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Start(t)
	s := openTemp(t, dsn)
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES (999, '999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	if s2, err := Open(t.Context(), dsn); err == nil {
		s2.Close()
		t.Fatal("Open of a database from the future succeeded")
	}
}

func TestOpenBadDSN(t *testing.T) {
	if _, err := Open(t.Context(), "postgres://host:notaport/db"); err == nil {
		t.Fatal("Open with a malformed DSN succeeded")
	}
}

func TestMapError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, snippets.Unavailable},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), snippets.Unavailable},
		{"eof", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), snippets.Unavailable},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), snippets.Unavailable},
		{"admin shutdown", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, snippets.Unavailable},
		{"starting up", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, snippets.Unavailable},
		{"connection failure", &pgconn.PgError{Code: "08006"}, snippets.Unavailable},
		{"too many connections", &pgconn.PgError{Code: "53300"}, snippets.Unavailable},
		{"disk full", &pgconn.PgError{Code: "53100", Message: "could not extend file: No space left on device"}, snippets.Unavailable},
		{"bad bytes", &pgconn.PgError{Code: "22021", Message: "invalid byte sequence"}, snippets.Invalid},
		{"unique violation", &pgconn.PgError{Code: "23505"}, snippets.Internal},
		{"syntax error", &pgconn.PgError{Code: "42601"}, snippets.Internal},
		{"canceled", fmt.Errorf("query: %w", context.Canceled), snippets.Internal},
		{"other", errors.New("something else"), snippets.Internal},
	}
	for _, tt := range tests {
		err := mapError(tt.err)
		if got := snippets.ErrorCode(err); got != tt.code {
			t.Errorf("%s: code %q, want %q", tt.name, got, tt.code)
		}
		if full := tt.name == "disk full"; errors.Is(err, snippets.ErrStorageFull) != full {
			t.Errorf("%s: errors.Is(ErrStorageFull) = %v", tt.name, !full)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: the mapped error lost the original", tt.name)
		}
	}
	if mapError(nil) != nil {
		t.Error("mapError(nil) != nil")
	}
}
