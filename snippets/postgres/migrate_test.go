package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/internal/migrations"
	"github.com/pyplay/pyplay/snippets/postgres/pgtest"
)

// TestMigrateKeepsOldSnippets opens a database made by a pyplay that knew
// only the first migration: its snippets keep working, with the default
// interpreter and the IDs they had, and new PyScript pages can name theirs.
func TestMigrateKeepsOldSnippets(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Start(t)
	old := &snippets.Snippet{Runtime: snippets.PyScript, Title: "Old page", Code: "print(1)", HTML: "<p>old</p>"}
	old.Seal()

	ms, err := migrations.Load(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		ms[0].SQL,
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())`,
		`INSERT INTO schema_migrations (version, name) VALUES (1, '` + ms[0].Name + `')`,
	} {
		if _, err := conn.Exec(t.Context(), stmt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(t.Context(), `INSERT INTO snippets (id, runtime, title, code, html, created) VALUES ($1, $2, $3, $4, $5, now())`,
		old.ID, string(old.Runtime), old.Title, old.Code, old.HTML); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())

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
