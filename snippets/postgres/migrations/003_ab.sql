-- A/B benchmarks (snippets.AB) and the link of a run to one (snippets.ABLink).
-- The same shape as the SQLite schema. An A/B benchmark goes with its arms'
-- snippets, and a link with its run or its benchmark: deleting a snippet
-- (an operator removing a leaked secret) removes every trace of it.

CREATE TABLE abs (
	seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE, -- breaks ties between benchmarks created in the same millisecond
	id           text PRIMARY KEY,
	arm_a        text NOT NULL REFERENCES snippets (id) ON DELETE CASCADE,
	arm_b        text NOT NULL REFERENCES snippets (id) ON DELETE CASCADE,
	arm_c        text REFERENCES snippets (id) ON DELETE CASCADE, -- NULL: only A and B
	runtimes     text NOT NULL, -- comma-separated, in the order given
	threshold    double precision NOT NULL,
	budget_ms    integer NOT NULL,
	interpreters integer NOT NULL,
	created      timestamptz NOT NULL,
	ended        timestamptz
);

-- ListABs finds a snippet's benchmarks through whichever arm it is.
CREATE INDEX abs_by_a ON abs (arm_a);
CREATE INDEX abs_by_b ON abs (arm_b);
CREATE INDEX abs_by_c ON abs (arm_c);

CREATE TABLE ab_runs (
	run_id      text PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
	ab_id       text NOT NULL REFERENCES abs (id) ON DELETE CASCADE,
	arm         text NOT NULL, -- a, b or c
	interpreter integer NOT NULL
);

CREATE INDEX ab_runs_by_ab ON ab_runs (ab_id);
