package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/internal/rowscan"
)

// CreateRun stores a new run; see snippets.RunStore.
func (s *Store) CreateRun(ctx context.Context, r *snippets.Run) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("postgres: create run: %w", err)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	t := now()
	for range 3 {
		var status string
		var created time.Time
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var err error
			status, created, err = createRun(ctx, tx, r, t)
			return err
		})
		if errors.Is(err, errRunVanished) {
			continue // deleted in between; try again
		}
		if err != nil {
			return fmt.Errorf("postgres: create run %s: %w", r.ID, mapError(err))
		}
		r.Status, r.Created = status, created
		return nil
	}
	return fmt.Errorf("postgres: create run %s: the run was deleted and created repeatedly while creating it", r.ID)
}

// errRunVanished says a run that was there a moment ago is not: CreateRun
// tries again.
var errRunVanished = errors.New("run deleted while creating it")

// createRun stores r (and its A/B link) unless it is stored already, and
// returns the stored status and creation time.
func createRun(ctx context.Context, tx pgx.Tx, r *snippets.Run, t time.Time) (status string, created time.Time, err error) {
	tag, err := tx.Exec(ctx, `INSERT INTO runs
		(id, snippet_id, runtime, runtime_version, env, config, phases, created, status, error)
		VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8, $9, '')
		ON CONFLICT (id) DO NOTHING`,
		r.ID, r.SnippetID, r.Runtime, r.RuntimeVersion, jsonText(r.Env), jsonText(r.Config), jsonText(r.Phases),
		t, snippets.RunRunning)
	if isForeignKeyViolation(err) {
		return "", time.Time{}, snippets.Errorf(snippets.NotFound, "no snippet with ID %s", r.SnippetID)
	}
	if err != nil {
		return "", time.Time{}, mapError(err)
	}
	if tag.RowsAffected() == 1 {
		if r.AB != nil {
			_, err := tx.Exec(ctx, `INSERT INTO ab_runs (run_id, ab_id, arm, interpreter) VALUES ($1, $2, $3, $4)`,
				r.ID, r.AB.ID, r.AB.Arm, r.AB.Interpreter)
			if isForeignKeyViolation(err) {
				// The transaction rolls back: no run without its benchmark.
				return "", time.Time{}, snippets.Errorf(snippets.NotFound, "no A/B benchmark with ID %s", r.AB.ID)
			}
			if err != nil {
				return "", time.Time{}, mapError(err)
			}
		}
		return snippets.RunRunning, t, nil
	}
	// The run exists: a resend, or another snippet's run.
	var snippetID string
	var link struct {
		id, arm     *string
		interpreter *int
	}
	err = tx.QueryRow(ctx, `SELECT snippet_id, status, created, l.ab_id, l.arm, l.interpreter
		FROM runs LEFT JOIN ab_runs l ON l.run_id = runs.id WHERE runs.id = $1`, r.ID).
		Scan(&snippetID, &status, &created, &link.id, &link.arm, &link.interpreter)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", time.Time{}, errRunVanished
	}
	if err != nil {
		return "", time.Time{}, mapError(err)
	}
	if snippetID != r.SnippetID {
		return "", time.Time{}, snippets.Errorf(snippets.Conflict, "run %s already exists for snippet %s", r.ID, snippetID)
	}
	// A resend keeps the link the run was created with.
	switch {
	case link.id == nil && r.AB != nil:
		return "", time.Time{}, snippets.Errorf(snippets.Conflict, "run %s already exists outside any A/B benchmark", r.ID)
	case link.id != nil:
		stored := snippets.ABLink{ID: *link.id, Arm: *link.arm, Interpreter: *link.interpreter}
		if r.AB != nil && *r.AB != stored {
			return "", time.Time{}, snippets.Errorf(snippets.Conflict, "run %s already exists as arm %s of interpreter %d of A/B benchmark %s", r.ID, stored.Arm, stored.Interpreter, stored.ID)
		}
		r.AB = &stored
	}
	return status, created.UTC(), nil
}

// jsonText stores an absent JSON object as {} so readers always get an
// object.
func jsonText(m json.RawMessage) string {
	m = bytes.TrimSpace(m)
	if len(m) == 0 {
		return "{}"
	}
	return string(m)
}

// AppendBatch stores a batch exactly once; see snippets.RunStore.
func (s *Store) AppendBatch(ctx context.Context, b *snippets.Batch) (stored bool, err error) {
	if err := b.Validate(); err != nil {
		return false, fmt.Errorf("postgres: append batch: %w", err)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: append batch %s/%d: %w", b.RunID, b.Seq, mapError(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	stored, err = appendBatch(ctx, tx, b)
	if err != nil {
		return false, fmt.Errorf("postgres: append batch %s/%d: %w", b.RunID, b.Seq, err)
	}
	if !stored {
		return false, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("postgres: append batch %s/%d: %w", b.RunID, b.Seq, mapError(err))
	}
	return true, nil
}

func appendBatch(ctx context.Context, tx pgx.Tx, b *snippets.Batch) (bool, error) {
	// Locking the run serialises the batches of one run, so the overlap
	// check below cannot race another batch and sample_count stays exact.
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM runs WHERE id = $1 FOR UPDATE`, b.RunID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, snippets.Errorf(snippets.NotFound, "no run with ID %s", b.RunID)
	}
	if err != nil {
		return false, mapError(err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO batches (run_id, seq, received) VALUES ($1, $2, $3)
		ON CONFLICT (run_id, seq) DO NOTHING`, b.RunID, b.Seq, now())
	if err != nil {
		return false, mapError(err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil // a resend: the batch is already stored
	}
	if len(b.Samples) == 0 {
		return true, nil
	}
	n := len(b.Samples)
	seqs, iters := make([]int64, n), make([]int64, n)
	warmups, hidden := make([]bool, n), make([]bool, n)
	ns := make([]float64, n)
	for i, sm := range b.Samples {
		seqs[i], iters[i], warmups[i], hidden[i], ns[i] = int64(sm.Seq), int64(sm.Iterations), sm.Warmup, sm.Hidden, sm.NsPerIter
	}
	var taken int64
	err = tx.QueryRow(ctx, `SELECT seq FROM samples WHERE run_id = $1 AND seq = ANY($2) ORDER BY seq LIMIT 1`, b.RunID, seqs).Scan(&taken)
	if err == nil {
		// The caller rolls back, so nothing of this batch is kept.
		return false, snippets.Errorf(snippets.Conflict, "sample %d of run %s is already stored by another batch", taken, b.RunID)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, mapError(err)
	}
	// One statement for the whole batch, however many samples it has.
	if _, err := tx.Exec(ctx, `INSERT INTO samples (run_id, seq, batch_seq, warmup, ns, iterations, hidden)
		SELECT $1, u.seq, $2, u.warmup, u.ns, u.iterations, u.hidden
		FROM unnest($3::bigint[], $4::boolean[], $5::float8[], $6::bigint[], $7::boolean[]) AS u (seq, warmup, ns, iterations, hidden)`,
		b.RunID, b.Seq, seqs, warmups, ns, iters, hidden); err != nil {
		return false, mapError(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE runs SET sample_count = sample_count + $2 WHERE id = $1`, b.RunID, n); err != nil {
		return false, mapError(err)
	}
	return true, nil
}

// FinishRun records how a run ended; see snippets.RunStore.
func (s *Store) FinishRun(ctx context.Context, runID, status, errText string) error {
	if err := snippets.ValidateFinish(status, errText); err != nil {
		return fmt.Errorf("postgres: finish run %s: %w", runID, err)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `UPDATE runs SET status = $2, error = $3, finished = $4 WHERE id = $1 AND status = 'running'`,
		runID, status, errText, now())
	if err != nil {
		return fmt.Errorf("postgres: finish run %s: %w", runID, mapError(err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Finished already, or not there.
	var stored string
	err = s.pool.QueryRow(ctx, `SELECT status FROM runs WHERE id = $1`, runID).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: finish run %s: %w", runID, snippets.Errorf(snippets.NotFound, "no run with ID %s", runID))
	}
	if err != nil {
		return fmt.Errorf("postgres: finish run %s: %w", runID, mapError(err))
	}
	if stored == status {
		return nil // a resend
	}
	return fmt.Errorf("postgres: finish run %s: %w", runID,
		snippets.Errorf(snippets.Conflict, "run %s has ended already (%s); its outcome cannot change to %s", runID, stored, status))
}

// runColumns are a run's columns with its A/B link, from runs joined to
// ab_runs as l (runsFrom, or an inner join when only linked runs matter).
const runColumns = `runs.id, runs.snippet_id, runs.runtime, runs.runtime_version, runs.env, runs.config, runs.phases,
	runs.created, runs.finished, runs.status, runs.error, runs.sample_count, l.ab_id, l.arm, l.interpreter`

// runsFrom is the FROM clause for runColumns over every run.
const runsFrom = `runs LEFT JOIN ab_runs l ON l.run_id = runs.id`

func scanRun(row rowscan.Scanner) (*snippets.Run, error) {
	var r snippets.Run
	var env, config, phases []byte
	var finished *time.Time
	var abID, abArm *string
	var abInterp *int
	if err := row.Scan(&r.ID, &r.SnippetID, &r.Runtime, &r.RuntimeVersion, &env, &config, &phases,
		&r.Created, &finished, &r.Status, &r.Error, &r.SampleCount, &abID, &abArm, &abInterp); err != nil {
		return nil, err
	}
	if abID != nil {
		r.AB = &snippets.ABLink{ID: *abID, Arm: *abArm, Interpreter: *abInterp}
	}
	r.Env, r.Config, r.Phases = env, config, phases
	r.Created = r.Created.UTC()
	if finished != nil {
		t := finished.UTC()
		r.Finished = &t
	}
	return &r, nil
}

// ListRuns returns a snippet's runs, newest first; see snippets.RunStore.
func (s *Store) ListRuns(ctx context.Context, snippetID string) ([]*snippets.Run, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+runColumns+` FROM `+runsFrom+` WHERE runs.snippet_id = $1 ORDER BY runs.created DESC, runs.seq DESC`, snippetID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list runs of %s: %w", snippetID, mapError(err))
	}
	defer rows.Close()
	runs, err := rowscan.Collect([]*snippets.Run{}, rows, scanRun)
	if err != nil {
		return nil, fmt.Errorf("postgres: list runs of %s: %w", snippetID, mapError(err))
	}
	return runs, nil
}

// GetRun returns a run with its samples; see snippets.RunStore.
func (s *Store) GetRun(ctx context.Context, runID string) (*snippets.Run, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	// One snapshot, so SampleCount and Samples agree even while batches
	// arrive.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("postgres: get run %s: %w", runID, mapError(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	r, err := scanRun(tx.QueryRow(ctx, `SELECT `+runColumns+` FROM `+runsFrom+` WHERE runs.id = $1`, runID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: get run %s: %w", runID, snippets.Errorf(snippets.NotFound, "no run with ID %s", runID))
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get run %s: %w", runID, mapError(err))
	}
	rows, err := tx.Query(ctx, `SELECT `+rowscan.SampleColumns+` FROM samples WHERE run_id = $1 ORDER BY seq`, runID)
	if err != nil {
		return nil, fmt.Errorf("postgres: get run %s: %w", runID, mapError(err))
	}
	defer rows.Close()
	if r.Samples, err = rowscan.Collect(make([]snippets.Sample, 0, r.SampleCount), rows, rowscan.Sample); err != nil {
		return nil, fmt.Errorf("postgres: get run %s: %w", runID, mapError(err))
	}
	return r, nil
}
