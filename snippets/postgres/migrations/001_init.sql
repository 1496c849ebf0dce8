-- Snippets, benchmark runs, and their batches and samples. The same shape
-- as the SQLite schema; times are timestamptz written by the store in
-- millisecond precision, so both stores return the same values.

CREATE TABLE snippets (
	seq     bigint GENERATED ALWAYS AS IDENTITY UNIQUE, -- creation order, for Each
	id      text PRIMARY KEY,                           -- content address (snippets.Snippet.Seal)
	runtime text NOT NULL,
	title   text NOT NULL,
	code    text NOT NULL,
	html    text NOT NULL,
	created timestamptz NOT NULL
);

CREATE TABLE runs (
	seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE, -- breaks ties between runs created in the same millisecond
	id              text PRIMARY KEY,
	snippet_id      text NOT NULL REFERENCES snippets (id) ON DELETE CASCADE,
	runtime         text NOT NULL,
	runtime_version text NOT NULL,
	env             jsonb NOT NULL,
	config          jsonb NOT NULL,
	phases          jsonb NOT NULL,
	created         timestamptz NOT NULL,
	finished        timestamptz,
	status          text NOT NULL,
	error           text NOT NULL,
	sample_count    integer NOT NULL DEFAULT 0 -- kept by AppendBatch so listing runs counts nothing
);

CREATE INDEX runs_by_snippet ON runs (snippet_id, created DESC, seq DESC);

-- One row per stored batch: the primary key makes AppendBatch exactly-once.
CREATE TABLE batches (
	run_id   text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	seq      bigint NOT NULL,
	received timestamptz NOT NULL,
	PRIMARY KEY (run_id, seq)
);

CREATE TABLE samples (
	run_id     text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	seq        bigint NOT NULL,
	batch_seq  bigint NOT NULL,
	warmup     boolean NOT NULL,
	ns         double precision NOT NULL,
	iterations bigint NOT NULL,
	hidden     boolean NOT NULL,
	PRIMARY KEY (run_id, seq)
);
