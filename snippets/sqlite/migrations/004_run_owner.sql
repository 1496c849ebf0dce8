-- The owner of a benchmark run (snippets.RunOwners.ClaimRun): an opaque value
-- the server sets when a producer starts the run (a hash of the secret token
-- it hands to that producer), so that no other producer can resume it. A
-- new run has none ('') until its producer claims it, a moment after
-- creating it. Runs stored before this migration get snippets.LegacyRunOwner,
-- which no claim matches: nobody can prove to own them.

ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
UPDATE runs SET owner = '-';
