// Package storage opens the snippets.Store that a DSN names, so that the
// command line and configuration need to know only one string:
//
//	sqlite:./data/pyplay.db        a SQLite file, relative to the working directory
//	sqlite:/var/lib/pyplay/db      a SQLite file, absolute
//	sqlite:///var/lib/pyplay/db    the same, in URL form
//	postgres://user@host/db?…      PostgreSQL (postgresql:// too), as libpq takes it
package storage

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/postgres"
	"github.com/pyplay/pyplay/snippets/sqlite"
)

// DefaultDSN is the store pyplay uses when none is configured.
const DefaultDSN = "sqlite:./data/pyplay.db"

// Open opens the store dsn names and brings its schema up to date. Errors
// from a database that does not answer have the code Unavailable; a DSN of
// no known kind is an error that lists the kinds.
func Open(ctx context.Context, dsn string) (snippets.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path, err := sqlitePath(dsn)
		if err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return postgres.Open(ctx, dsn)
	}
	return nil, fmt.Errorf("storage: unknown database %q; use sqlite:PATH (e.g. %s) or postgres://user:password@host/database", Redact(dsn), DefaultDSN)
}

// sqlitePath takes the path out of sqlite:PATH or sqlite:///abs/path.
func sqlitePath(dsn string) (string, error) {
	path := strings.TrimPrefix(dsn, "sqlite:")
	if rest, ok := strings.CutPrefix(path, "//"); ok {
		// URL form: only an empty host is meaningful (sqlite:///abs).
		if !strings.HasPrefix(rest, "/") {
			return "", fmt.Errorf("storage: %q: a SQLite database is a file, not a host; use sqlite:./relative/path or sqlite:/absolute/path", dsn)
		}
		path = rest
	}
	if path == "" {
		return "", fmt.Errorf("storage: %q names no file; use e.g. %s", dsn, DefaultDSN)
	}
	if strings.ContainsAny(path, "?#") {
		// Someone may expect query options as in other DSNs; SQLite
		// settings are fixed by the store, so refuse rather than create a
		// file whose name contains them.
		return "", fmt.Errorf("storage: %q: sqlite: takes a file path without options", dsn)
	}
	return path, nil
}

// Redact hides the password in a DSN, for logs and messages.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		if u.User == nil {
			return dsn
		}
		return u.Redacted()
	}
	// Not a URL (a password with characters a URL must escape): hide
	// what lies between the user name and the last '@'.
	scheme, rest, ok := strings.Cut(dsn, "://")
	at := strings.LastIndexByte(rest, '@')
	if !ok || at < 0 {
		return dsn
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
