-- Snippets, benchmark runs, and their batches and samples.
-- Times are Unix milliseconds (UTC): integers compare and sort exactly and
-- do not depend on a driver's time format.

CREATE TABLE snippets (
	seq     INTEGER PRIMARY KEY,  -- creation order, for Each
	id      TEXT NOT NULL UNIQUE, -- content address (snippets.Snippet.Seal)
	runtime TEXT NOT NULL,
	title   TEXT NOT NULL,
	code    TEXT NOT NULL,
	html    TEXT NOT NULL,
	created INTEGER NOT NULL
) STRICT;

CREATE TABLE runs (
	seq             INTEGER PRIMARY KEY, -- breaks ties between runs created in the same millisecond
	id              TEXT NOT NULL UNIQUE,
	snippet_id      TEXT NOT NULL REFERENCES snippets (id) ON DELETE CASCADE,
	runtime         TEXT NOT NULL,
	runtime_version TEXT NOT NULL,
	env             TEXT NOT NULL, -- JSON object
	config          TEXT NOT NULL, -- JSON object
	phases          TEXT NOT NULL, -- JSON object
	created         INTEGER NOT NULL,
	finished        INTEGER,
	status          TEXT NOT NULL,
	error           TEXT NOT NULL,
	sample_count    INTEGER NOT NULL DEFAULT 0 -- kept by AppendBatch so listing runs counts nothing
) STRICT;

CREATE INDEX runs_by_snippet ON runs (snippet_id, created DESC, seq DESC);

-- One row per stored batch: the primary key makes AppendBatch exactly-once.
CREATE TABLE batches (
	run_id   TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	seq      INTEGER NOT NULL,
	received INTEGER NOT NULL,
	PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE samples (
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	batch_seq  INTEGER NOT NULL,
	warmup     INTEGER NOT NULL,
	ns         REAL NOT NULL,
	iterations INTEGER NOT NULL,
	hidden     INTEGER NOT NULL,
	PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;
