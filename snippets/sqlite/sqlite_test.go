package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/storetest"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "pyplay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) snippets.Store { return openTemp(t) })
}
