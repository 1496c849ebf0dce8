// Package sqlite is the snippets.Store for a single server: one SQLite file
// (pure Go, modernc.org/sqlite, so the binary needs no C toolchain).
//
// The file is in WAL mode with synchronous=FULL, so a Put that returned
// survives a crash or power loss, and readers never wait for the writer.
// All writes go through one connection: SQLite allows one writer at a time
// anyway, and queueing writers in Go instead of in SQLite's lock means
// concurrent requests wait their turn instead of failing with SQLITE_BUSY.
// The writes queued while one commits are committed together, in one
// transaction with one fsync (group commit, writer.go), each still
// succeeding or failing alone.
// Other processes using the same file (a CLI export while the server runs)
// are covered by a busy timeout and BEGIN IMMEDIATE transactions.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/internal/migrations"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// busyTimeout is how long a statement waits for another process's write
// lock before failing with SQLITE_BUSY (reported as Unavailable).
const busyTimeout = 10 * time.Second

// Store is a snippets.Store in a SQLite file. It is safe for concurrent use.
type Store struct {
	path  string
	write *sql.DB // exactly one connection; BEGIN IMMEDIATE; after Open, writes go through w
	read  *sql.DB // several read-only connections
	w     *writer // group commit: see writer.go
}

var _ snippets.Store = (*Store)(nil)

// Open opens (creating it and its parent directories if needed) the SQLite
// database at path and brings its schema up to date. The path must name a
// file: ":memory:" would give each connection its own database.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || filepath.Base(path) == "." || path[len(path)-1] == os.PathSeparator {
		return nil, fmt.Errorf("sqlite: open %q: need the path of a database file", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{path: abs}

	// Pragmas are per connection, so they go in the DSN, which the driver
	// applies to every connection it opens.
	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	common.Add("_pragma", "foreign_keys(1)")

	wq := cloneValues(common)
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Add("_pragma", "synchronous(FULL)") // FULL, not NORMAL: NORMAL in WAL mode may lose the last commits on power loss
	wq.Set("_txlock", "immediate")         // take the write lock at BEGIN, where busy_timeout applies, not at the first write
	if s.write, err = sql.Open("sqlite", fileURI(abs, wq)); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxLifetime(0)
	s.write.SetConnMaxIdleTime(0)

	// The writer runs first: it turns the file into WAL mode and creates the
	// schema, both of which a query_only reader could not do.
	if err := s.migrate(ctx); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	rq := cloneValues(common)
	rq.Add("_pragma", "query_only(1)") // a bug that writes through a reader fails instead of racing the writer
	if s.read, err = sql.Open("sqlite", fileURI(abs, rq)); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(n)
	s.read.SetMaxIdleConns(n)
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.startWriter()
	return s, nil
}

// fileURI makes a file: URI for path, escaping the characters ('?', '#',
// '%') that would otherwise end or change the name.
func fileURI(path string, q url.Values) string {
	u := url.URL{Path: filepath.ToSlash(path)}
	return "file:" + u.EscapedPath() + "?" + q.Encode()
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// migrationsKnown, when above zero, makes Open apply only that many
// migrations, as an older pyplay would: tests use it to build the databases
// that older versions left behind with this package's own code.
var migrationsKnown = 0

// migrate applies the embedded migrations that the database lacks, each in
// its own transaction together with its row in schema_migrations, so a
// crash leaves the schema at a version boundary.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations.Load(migrationFS, "migrations")
	if err != nil {
		return err
	}
	if migrationsKnown > 0 && migrationsKnown < len(ms) {
		ms = ms[:migrationsKnown]
	}
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT NOT NULL,
		applied INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: %w", mapError(err))
	}
	var current int
	if err := s.write.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", mapError(err))
	}
	if current > len(ms) {
		return fmt.Errorf("migrate: the database has schema version %d but this program knows only %d; run a newer pyplay", current, len(ms))
	}
	for _, m := range ms[current:] {
		if err := s.apply(ctx, m); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, m migrations.Migration) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapError(err)
	}
	defer tx.Rollback()
	// Another process may have applied it since we looked: BEGIN
	// IMMEDIATE holds the write lock now, so this answer is final.
	var done bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.Version).Scan(&done); err != nil {
		return mapError(err)
	}
	if done {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return mapError(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMilli()); err != nil {
		return mapError(err)
	}
	return mapError(tx.Commit())
}

// DataDir is the directory that holds the database file, its write-ahead
// log and journal: where free disk space matters.
func (s *Store) DataDir() string { return filepath.Dir(s.path) }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", mapError(err))
	}
	return nil
}

// Close commits the writes in progress, refuses new ones and closes the
// database. The WAL is checkpointed into the main file when the last
// connection closes.
func (s *Store) Close() error {
	s.stopWriter()
	var errs []error
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	errs = append(errs, s.write.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// mapError gives driver errors a snippets error code where one applies:
// a lock held too long by another process, a deadline that ran out and a
// full disk (snippets.ErrStorageFull) are Unavailable (try again later),
// not Internal. Other errors pass unchanged.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %w", snippets.Errorf(snippets.Unavailable, "the database is busy; try again shortly"), err)
		case sqlite3.SQLITE_FULL: // the disk is full (or max_page_count reached)
			return fmt.Errorf("%w: %w", snippets.ErrStorageFull, err)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", snippets.Errorf(snippets.Unavailable, "the database did not answer in time; try again shortly"), err)
	}
	return err
}

func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// now is the store's clock, in the precision it stores.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
