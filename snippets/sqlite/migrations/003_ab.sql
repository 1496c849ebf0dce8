-- A/B benchmarks (snippets.AB) and the link of a run to one (snippets.ABLink).
-- An A/B benchmark goes with its arms' snippets, and a link with its run or
-- its benchmark: deleting a snippet (an operator removing a leaked secret)
-- removes every trace of it.

CREATE TABLE abs (
	seq          INTEGER PRIMARY KEY, -- breaks ties between benchmarks created in the same millisecond
	id           TEXT NOT NULL UNIQUE,
	arm_a        TEXT NOT NULL REFERENCES snippets (id) ON DELETE CASCADE,
	arm_b        TEXT NOT NULL REFERENCES snippets (id) ON DELETE CASCADE,
	arm_c        TEXT REFERENCES snippets (id) ON DELETE CASCADE, -- NULL: only A and B
	runtimes     TEXT NOT NULL, -- comma-separated, in the order given
	threshold    REAL NOT NULL,
	budget_ms    INTEGER NOT NULL,
	interpreters INTEGER NOT NULL,
	created      INTEGER NOT NULL,
	ended        INTEGER
) STRICT;

-- ListABs finds a snippet's benchmarks through whichever arm it is.
CREATE INDEX abs_by_a ON abs (arm_a);
CREATE INDEX abs_by_b ON abs (arm_b);
CREATE INDEX abs_by_c ON abs (arm_c);

CREATE TABLE ab_runs (
	run_id      TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
	ab_id       TEXT NOT NULL REFERENCES abs (id) ON DELETE CASCADE,
	arm         TEXT NOT NULL, -- a, b or c
	interpreter INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX ab_runs_by_ab ON ab_runs (ab_id);
