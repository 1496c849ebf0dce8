package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/storage"
)

// storeFlag is -db (PYPLAY_DB), the snippet store: serve's and the
// snippets tools', so that an export reads what the server wrote.
type storeFlag struct {
	DSN string
}

func (f *storeFlag) register(fs *flag.FlagSet) error {
	f.DSN = storage.DefaultDSN
	return registerEnvFlags(fs, []envFlag{
		{&f.DSN, "db", "PYPLAY_DB", "database: sqlite:PATH or postgres://…"},
	})
}

// open opens the store; an error names it without its password.
func (f *storeFlag) open(ctx context.Context) (snippets.Store, error) {
	st, err := storage.Open(ctx, f.DSN)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", describeDSN(f.DSN), err)
	}
	return st, nil
}

// describeDSN names a database for logs and messages, without a password.
func describeDSN(dsn string) string { return storage.Redact(dsn) }
