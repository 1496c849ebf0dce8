package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/pyplay/pyplay/snippets"
)

// TestMigrateLegacyRunsHaveNoClaimableOwner: runs stored before runs had
// owners cannot be claimed by anyone, since nobody can prove to have
// started them; runs created afterwards can.
func TestMigrateLegacyRunsHaveNoClaimableOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	migrationsKnown = 3
	old, err := Open(t.Context(), path)
	migrationsKnown = 0
	if err != nil {
		t.Fatal(err)
	}
	sn := &snippets.Snippet{Runtime: snippets.Pyodide, Code: "print(1)"}
	sn.Seal()
	if _, err := old.Put(t.Context(), sn); err != nil {
		t.Fatal(err)
	}
	if _, err := old.write.ExecContext(t.Context(), `INSERT INTO runs (id, snippet_id, runtime, runtime_version, env, config, phases, created, status, error)
		VALUES ('legacy', ?, 'pyodide', '', '{}', '{}', '{}', 1700000000000, 'running', '')`, sn.ID); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.ClaimRun(t.Context(), "legacy", "someone")
	if err != nil || c.Owner != snippets.LegacyRunOwner {
		t.Errorf("claiming a legacy run = %+v, %v; want owner %q", c, err, snippets.LegacyRunOwner)
	}
	if err := s.CreateRun(t.Context(), &snippets.Run{ID: "new", SnippetID: sn.ID, Runtime: "pyodide"}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.ClaimRun(t.Context(), "new", "someone"); err != nil || c.Owner != "someone" {
		t.Errorf("claiming a new run = %+v, %v", c, err)
	}
}
