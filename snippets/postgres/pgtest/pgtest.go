// Package pgtest runs throwaway PostgreSQL servers for tests: a fresh data
// directory, a free port on 127.0.0.1, fsync off, and a fresh database per
// test, so that tests against PostgreSQL are as isolated and almost as
// quick as tests against SQLite.
//
// One server per test package, shared through TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.Start(t) // a new, empty database on the shared server
//		...
//	}
//
// Tests that stop and restart the server (outages, two processes sharing a
// database) take a server of their own with NewServer.
//
// The server binaries are found under /usr/lib/postgresql/*/bin (Debian's
// layout, newest version first), in $PGTEST_BIN, or on PATH. When they are
// missing, tests are skipped, or fail if the environment variable CI is set
// (a CI machine that silently skips the PostgreSQL tests proves nothing).
// When the tests run as root, the server runs as the postgres user, because
// PostgreSQL refuses to run as root.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotInstalled is returned (wrapped) by StartServer when the PostgreSQL
// server binaries cannot be found.
var ErrNotInstalled = errors.New("PostgreSQL server binaries (initdb, postgres) not found; " +
	"install Debian's postgresql package (apt-get install postgresql) or set PGTEST_BIN to their directory")

// startTimeout bounds how long Start waits for the server to accept
// connections; a healthy server needs well under a second.
const startTimeout = 30 * time.Second

// Server is one PostgreSQL server with its own data directory and port.
// Its methods are safe for concurrent use.
type Server struct {
	bin  string // directory holding initdb and postgres
	dir  string // temporary directory: data directory, socket, log
	port int
	cred *syscall.Credential // the postgres user's, when running as root

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	dbs    atomic.Int64
}

// StartServer creates a data directory and starts a server on a free port.
// Call Close when done.
func StartServer() (*Server, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		if s.cred, err = postgresCredential(); err != nil {
			return nil, err
		}
	}
	if s.dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if err := s.init(); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	if err := s.Start(); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	return s, nil
}

func findBinaries() (string, error) {
	var dirs []string
	if d := os.Getenv("PGTEST_BIN"); d != "" {
		dirs = append(dirs, d)
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { // newest first: 16 before 15 before 9.6
		return versionOf(versions[i]) > versionOf(versions[j])
	})
	dirs = append(dirs, versions...)
	if p, err := exec.LookPath("postgres"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "postgres")) && isExecutable(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("pgtest: %w", ErrNotInstalled)
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, which PostgreSQL refuses, and there is no postgres user to run it as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgtest: postgres user has uid %q, gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }
func (s *Server) logPath() string { return filepath.Join(s.dir, "postgres.log") }

// command prepares a server binary to run as the right user, without the
// PG* environment variables of whoever runs the tests.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir // the user's working directory may be closed to postgres
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "LC_ALL=C")
	cmd.SysProcAttr = sysProcAttr(s.cred)
	return cmd
}

func (s *Server) init() error {
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	out, err := s.command("initdb", "-D", s.dataDir(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port = port
	// Settings for a disposable server: durability off (a crash loses only
	// test data), small memory so several test packages can run at once,
	// enough connections for parallel tests each with a pool.
	conf := fmt.Sprintf(`
# pgtest
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 300
log_min_messages = warning
log_min_error_statement = panic
`, s.port, s.dir)
	f, err := os.OpenFile(filepath.Join(s.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}

// freePort asks the kernel for a free port. Another process could take it
// before the server binds it; the window is short and tests would fail
// loudly, not subtly.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts the server (again, after Stop) on its data directory and
// port and waits until it accepts connections.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("pgtest: server already running")
	}
	logf, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	cmd := s.command("postgres", "-D", s.dataDir())
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.DSN())
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("pgtest: postgres exited during start-up:\n%s", s.logTail())
		case <-ctx.Done():
			s.stopLocked()
			return fmt.Errorf("pgtest: postgres did not accept connections within %v: %v\n%s", startTimeout, err, s.logTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop shuts the server down (PostgreSQL's fast shutdown: open sessions
// are ended) and waits for it to exit. Clients see an outage: connection
// refused until Start.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

func (s *Server) stopLocked() error {
	if s.cmd == nil {
		return nil
	}
	defer func() { s.cmd = nil }()
	s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-s.exited:
		return nil
	case <-time.After(15 * time.Second):
	}
	s.cmd.Process.Signal(syscall.SIGQUIT) // immediate shutdown
	select {
	case <-s.exited:
		return nil
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		return errors.New("pgtest: postgres ignored SIGINT and SIGQUIT; killed it")
	}
}

// Close stops the server and removes its data directory.
func (s *Server) Close() error {
	err := s.Stop()
	if rerr := os.RemoveAll(s.dir); err == nil {
		err = rerr
	}
	return err
}

// Port returns the TCP port the server listens on (127.0.0.1 only).
func (s *Server) Port() int { return s.port }

// DSN returns the URL of the server's postgres database, for
// administration. Tests should use a database of their own (NewDatabase).
func (s *Server) DSN() string { return s.dsnFor("postgres") }

func (s *Server) dsnFor(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logPath())
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// CreateDatabase creates an empty database whose name starts with prefix
// and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context, prefix string) (dsn string, err error) {
	name := unsafeName.ReplaceAllString(strings.ToLower(prefix), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("t%d_%s", s.dbs.Add(1), name)
	conn, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return s.dsnFor(name), nil
}

// DropDatabase drops the database dsn names, disconnecting its clients.
func (s *Server) DropDatabase(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("pgtest: drop database: %w", err)
	}
	conn, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		return fmt.Errorf("pgtest: drop database: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{cfg.Database}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", cfg.Database, err)
	}
	return nil
}

// NewDatabase creates an empty database for tb, dropped when tb ends, and
// returns its URL.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn, err := s.CreateDatabase(ctx, tb.Name())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// A test may leave its server stopped; Close removes everything anyway.
		if err := s.DropDatabase(ctx, dsn); err != nil {
			tb.Logf("pgtest: %v", err)
		}
	})
	return dsn
}

// NewServer starts a server for tb alone, closed when tb ends: for tests
// that stop and start it. It skips tb (or fails it when CI is set) if
// PostgreSQL is not installed.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s, err := StartServer()
	if err != nil {
		skipOrFail(tb, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	return s
}

func skipOrFail(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, ErrNotInstalled) {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%v (CI is set, so this fails instead of skipping)", err)
			return
		}
		tb.Skip(err)
		return
	}
	tb.Fatal(err)
}

// The package's shared server, started on first use by Start when Main
// runs the tests.
var shared struct {
	sync.Mutex
	inMain bool
	server *Server
	err    error
}

// Main runs the package's tests with a shared server, started when a test
// first calls Start (so packages whose PostgreSQL tests are filtered out by
// -run pay nothing) and closed when the tests end. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	shared.Lock()
	shared.inMain = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.server != nil {
		if err := shared.server.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Start returns the URL of a new, empty database for tb, dropped when tb
// ends. The database is on the package's shared server when TestMain uses
// Main, otherwise on a server started for tb alone. It skips tb (or fails
// it when CI is set) if PostgreSQL is not installed.
func Start(tb testing.TB) string {
	tb.Helper()
	shared.Lock()
	if !shared.inMain {
		shared.Unlock()
		return NewServer(tb).NewDatabase(tb)
	}
	if shared.server == nil && shared.err == nil {
		shared.server, shared.err = StartServer()
	}
	s, err := shared.server, shared.err
	shared.Unlock()
	if err != nil {
		skipOrFail(tb, err)
	}
	return s.NewDatabase(tb)
}
