package postgres

import (
	"testing"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/internal/migrations"
	"github.com/pyplay/pyplay/snippets/postgres/pgtest"
)

// TestMigrateKeepsOldSnippets opens a database made by a pyplay that knew
// only the first migration: its snippets keep working, with the default
// interpreter and the IDs they had, and new PyScript pages can name theirs.
//
// Not parallel: it sets migrationsKnown, which every Open reads.
func TestMigrateKeepsOldSnippets(t *testing.T) {
	dsn := pgtest.Start(t)
	old := &snippets.Snippet{Runtime: snippets.PyScript, Title: "Old page", Code: "print(1)", HTML: "<p>old</p>"}
	old.Seal()

	ms, err := migrations.Load(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	// The database as a pyplay that knew only the first migration left it,
	// made by this package's own migration code, with a row in its columns.
	migrationsKnown = 1
	v1, err := Open(t.Context(), dsn)
	migrationsKnown = 0
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := v1.pool.QueryRow(t.Context(), `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil || v != 1 {
		t.Fatalf("old database at schema version %d, %v; want 1", v, err)
	}
	if _, err := v1.pool.Exec(t.Context(), `INSERT INTO snippets (id, runtime, title, code, html, created) VALUES ($1, $2, $3, $4, $5, now())`,
		old.ID, string(old.Runtime), old.Title, old.Code, old.HTML); err != nil {
		t.Fatal(err)
	}
	v1.Close()

	s := openTemp(t, dsn)
	var version int
	if err := s.pool.QueryRow(t.Context(), `SELECT max(version) FROM schema_migrations`).Scan(&version); err != nil || version != len(ms) {
		t.Fatalf("schema version %d, %v; want %d", version, err, len(ms))
	}
	got, err := s.Get(t.Context(), old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Interpreter != "" || got.EffectiveInterpreter() != snippets.InterpreterPyodide || got.ContentID() != old.ID || got.HTML != old.HTML {
		t.Errorf("old snippet after migrating: %+v (ContentID %s), want %+v", got, got.ContentID(), old)
	}
	mpy := *old
	mpy.Interpreter = snippets.InterpreterMicroPython
	mpy.Seal()
	if created, err := s.Put(t.Context(), &mpy); err != nil || !created {
		t.Fatalf("Put(MicroPython page) = %v, %v", created, err)
	}
	if got, err := s.Get(t.Context(), mpy.ID); err != nil || got.Interpreter != snippets.InterpreterMicroPython {
		t.Errorf("Get(MicroPython page) = %+v, %v", got, err)
	}
}
