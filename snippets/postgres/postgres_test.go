package postgres

import (
	"os"
	"testing"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/postgres/pgtest"
	"github.com/pyplay/pyplay/snippets/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func openTemp(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) snippets.Store { return openTemp(t, pgtest.Start(t)) })
}
