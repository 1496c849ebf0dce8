-- The owner of a benchmark run (snippets.RunStore.ClaimRun): an opaque value
-- the server sets when a producer starts the run (a hash of the secret token
-- it hands to that producer), so that no other producer can resume it. Runs
-- stored before this migration have none ('') until their producer claims
-- them.

ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
