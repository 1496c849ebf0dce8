-- The interpreter a PyScript snippet's page runs on: '' for the default
-- (Pyodide), 'micropython' otherwise (snippets.Snippet.Interpreter). Rows
-- stored before this migration get the default, which is what they ran on,
-- and keep their IDs: the default does not take part in the content address.

ALTER TABLE snippets ADD COLUMN interpreter TEXT NOT NULL DEFAULT '';
