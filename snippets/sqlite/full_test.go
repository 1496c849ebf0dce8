package sqlite

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyplay/pyplay/snippets"
)

// TestStorageFull fills the database to its page limit, which SQLite
// reports like a full disk (SQLITE_FULL): the write fails as
// ErrStorageFull, which is Unavailable, stores nothing, and writes work
// again once there is room.
func TestStorageFull(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "pyplay.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	setMaxPages := func(n int) {
		t.Helper()
		// Per connection; the writer has exactly one.
		if _, err := s.write.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n)); err != nil {
			t.Fatal(err)
		}
	}
	var pages int
	if err := s.write.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	setMaxPages(pages)
	sn := &snippets.Snippet{Code: strings.Repeat("print('full')\n", 4000), Runtime: snippets.Pyodide}
	sn.Seal()
	_, err = s.Put(ctx, sn)
	if !errors.Is(err, snippets.ErrStorageFull) || snippets.ErrorCode(err) != snippets.Unavailable {
		t.Fatalf("Put on a full database: %v (code %q), want ErrStorageFull", err, snippets.ErrorCode(err))
	}
	if _, err := s.Get(ctx, sn.ID); snippets.ErrorCode(err) != snippets.NotFound {
		t.Errorf("Get after the failed Put: %v, want NotFound", err)
	}
	setMaxPages(1 << 30)
	if created, err := s.Put(ctx, sn); err != nil || !created {
		t.Fatalf("Put once there is room: %v, %v", created, err)
	}
}
