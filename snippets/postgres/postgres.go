// Package postgres is the snippets.Store for several servers sharing one
// PostgreSQL database (github.com/jackc/pgx/v5 with a connection pool).
//
// An outage of the database is an Unavailable error, returned quickly (a
// refused or timed-out connection, never a hang), and the store recovers
// by itself when the database is back: the pool drops dead connections
// and dials new ones. Schema migrations are embedded and applied by Open
// under an advisory lock, so servers starting together do not race.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/internal/migrations"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

const (
	// connectTimeout bounds dialling and authenticating when the DSN sets
	// no connect_timeout: an unreachable host (no RST, packets dropped)
	// otherwise hangs for the kernel's TCP timeout, minutes.
	connectTimeout = 2 * time.Second
	// opTimeout bounds every call that does not bring an earlier deadline,
	// so a wedged database answers 503 instead of piling up requests.
	opTimeout = 10 * time.Second
	// healthCheckPeriod is how often idle connections are checked, so
	// connections killed by a database restart are replaced before use.
	healthCheckPeriod = 5 * time.Second
	// migrationLock is the advisory lock key held while migrating
	// ("pyplay" in ASCII).
	migrationLock int64 = 0x707970_6c6179
)

// Store is a snippets.Store in a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

var _ snippets.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string, as libpq takes) and brings its schema up to date. It fails with
// an Unavailable error if the database does not answer. Pool settings in
// the DSN (pool_max_conns, …) are honoured; connect_timeout defaults to 2 s.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	cfg.HealthCheckPeriod = healthCheckPeriod
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", mapError(err))
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s@%s/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	return s, nil
}

// Pool returns the store's connection pool, for what the Store interface
// does not cover, such as LISTEN/NOTIFY between servers. Do not close it;
// Close the Store.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// migrationsKnown, when above zero, makes Open apply only that many
// migrations, as an older pyplay would: tests use it to build the databases
// that older versions left behind with this package's own code.
var migrationsKnown = 0

// migrate applies the embedded migrations that the database lacks, each in
// its own transaction with its row in schema_migrations, holding an
// advisory lock so that concurrent Opens apply each migration once.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations.Load(migrationFS, "migrations")
	if err != nil {
		return err
	}
	if migrationsKnown > 0 && migrationsKnown < len(ms) {
		ms = ms[:migrationsKnown]
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", mapError(err))
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", mapError(err))
	}
	defer func() {
		// Unlock even if ctx is done; if the connection is gone, so is
		// the session's lock.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), connectTimeout)
		defer cancel()
		conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, migrationLock)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		name    text NOT NULL,
		applied timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("migrate: %w", mapError(err))
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", mapError(err))
	}
	if current > len(ms) {
		return fmt.Errorf("migrate: the database has schema version %d but this program knows only %d; run a newer pyplay", current, len(ms))
	}
	for _, m := range ms[current:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, mapError(err))
		}
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", mapError(err))
	}
	return nil
}

// Close closes every connection, waiting for those in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, opTimeout)
}

// now is the store's clock, in the precision it stores (that of SQLite,
// so both stores return equal times).
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

var errUnavailable = snippets.Errorf(snippets.Unavailable, "the database is unavailable; try again shortly")

// mapError gives driver errors a snippets error code where one applies and
// passes others unchanged. Everything that means "the database is not
// answering right now" is Unavailable, so that the server answers 503 and
// clients retry: refused or broken connections, timeouts, a server
// starting up or shutting down, too many connections.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "53100" { // disk_full
		return fmt.Errorf("%w: %w", snippets.ErrStorageFull, err)
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", errUnavailable, err)
	}
	if errors.As(err, &pgErr) && len(pgErr.Code) == 5 && pgErr.Code[:2] == "22" {
		// Data exceptions (invalid byte sequence, value out of range): the
		// input, not the database, is at fault.
		return fmt.Errorf("%w: %w", snippets.Errorf(snippets.Invalid, "the database refused the data: %s", pgErr.Message), err)
	}
	return err
}

func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false // the caller gave up; that says nothing about the database
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "08": // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // admin shutdown, crash shutdown, cannot connect now
			return true
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "53": // insufficient resources, too many connections
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		pgconn.Timeout(err) ||
		pgconn.SafeToRetry(err) || // e.g. "conn closed": nothing was sent
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// isForeignKeyViolation reports whether err is PostgreSQL's
// foreign_key_violation.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}
