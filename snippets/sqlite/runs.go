package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/internal/rowscan"
)

// CreateRun stores a new run; see snippets.RunStore.
func (s *Store) CreateRun(ctx context.Context, r *snippets.Run) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("sqlite: create run: %w", err)
	}
	var status string
	var created time.Time
	err := s.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		status, created, err = createRun(ctx, tx, r)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create run %s: %w", r.ID, err)
	}
	r.Status, r.Created = status, created
	return nil
}

// createRun stores r unless it is stored already, and returns the stored
// status and creation time.
func createRun(ctx context.Context, tx *sql.Tx, r *snippets.Run) (status string, created time.Time, err error) {
	var snippetID string
	var ms int64
	err = tx.QueryRowContext(ctx, `SELECT snippet_id, status, created FROM runs WHERE id = ?`, r.ID).Scan(&snippetID, &status, &ms)
	switch {
	case err == nil:
		if snippetID != r.SnippetID {
			return "", time.Time{}, snippets.Errorf(snippets.Conflict, "run %s already exists for snippet %s", r.ID, snippetID)
		}
		if err := keepABLink(ctx, tx, r); err != nil {
			return "", time.Time{}, err
		}
		return status, fromMillis(ms), nil
	case !errors.Is(err, sql.ErrNoRows):
		return "", time.Time{}, mapError(err)
	}

	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM snippets WHERE id = ?)`, r.SnippetID).Scan(&exists); err != nil {
		return "", time.Time{}, mapError(err)
	}
	if !exists {
		return "", time.Time{}, snippets.Errorf(snippets.NotFound, "no snippet with ID %s", r.SnippetID)
	}
	t := now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO runs
		(id, snippet_id, runtime, runtime_version, env, config, phases, created, status, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '')`,
		r.ID, r.SnippetID, r.Runtime, r.RuntimeVersion, jsonText(r.Env), jsonText(r.Config), jsonText(r.Phases),
		toMillis(t), snippets.RunRunning); err != nil {
		return "", time.Time{}, mapError(err)
	}
	if r.AB != nil {
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM abs WHERE id = ?)`, r.AB.ID).Scan(&exists); err != nil {
			return "", time.Time{}, mapError(err)
		}
		if !exists {
			// The writer rolls back to this operation's savepoint: no run
			// without its benchmark.
			return "", time.Time{}, snippets.Errorf(snippets.NotFound, "no A/B benchmark with ID %s", r.AB.ID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ab_runs (run_id, ab_id, arm, interpreter) VALUES (?, ?, ?, ?)`,
			r.ID, r.AB.ID, r.AB.Arm, r.AB.Interpreter); err != nil {
			return "", time.Time{}, mapError(err)
		}
	}
	return snippets.RunRunning, t, nil
}

// keepABLink gives a resent run the A/B link it was created with, and
// refuses a resend that names another.
func keepABLink(ctx context.Context, tx *sql.Tx, r *snippets.Run) error {
	var stored snippets.ABLink
	err := tx.QueryRowContext(ctx, `SELECT ab_id, arm, interpreter FROM ab_runs WHERE run_id = ?`, r.ID).Scan(&stored.ID, &stored.Arm, &stored.Interpreter)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if r.AB != nil {
			return snippets.Errorf(snippets.Conflict, "run %s already exists outside any A/B benchmark", r.ID)
		}
		return nil
	case err != nil:
		return mapError(err)
	}
	if r.AB != nil && *r.AB != stored {
		return snippets.Errorf(snippets.Conflict, "run %s already exists as arm %s of interpreter %d of A/B benchmark %s", r.ID, stored.Arm, stored.Interpreter, stored.ID)
	}
	r.AB = &stored
	return nil
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
		return false, fmt.Errorf("sqlite: append batch: %w", err)
	}
	// Concurrent calls share a transaction (group commit); a Conflict or
	// NotFound undoes this batch only (its savepoint).
	err = s.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		stored, err = appendBatch(ctx, tx, b)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: append batch %s/%d: %w", b.RunID, b.Seq, err)
	}
	return stored, nil
}

func appendBatch(ctx context.Context, tx *sql.Tx, b *snippets.Batch) (bool, error) {
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?)`, b.RunID).Scan(&exists); err != nil {
		return false, mapError(err)
	}
	if !exists {
		return false, snippets.Errorf(snippets.NotFound, "no run with ID %s", b.RunID)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO batches (run_id, seq, received) VALUES (?, ?, ?)
		ON CONFLICT (run_id, seq) DO NOTHING`, b.RunID, b.Seq, toMillis(now()))
	if err != nil {
		return false, mapError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, err
	} else if n == 0 {
		return false, nil // a resend: the batch is already stored
	}
	if len(b.Samples) == 0 {
		return true, nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO samples (run_id, seq, batch_seq, warmup, ns, iterations, hidden)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, seq) DO NOTHING`)
	if err != nil {
		return false, mapError(err)
	}
	defer stmt.Close()
	for _, sm := range b.Samples {
		res, err := stmt.ExecContext(ctx, b.RunID, sm.Seq, b.Seq, sm.Warmup, sm.NsPerIter, sm.Iterations, sm.Hidden)
		if err != nil {
			return false, mapError(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return false, err
		} else if n == 0 {
			// The writer rolls back to the batch's savepoint, so nothing of
			// this batch is kept.
			return false, snippets.Errorf(snippets.Conflict, "sample %d of run %s is already stored by another batch", sm.Seq, b.RunID)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET sample_count = sample_count + ? WHERE id = ?`, len(b.Samples), b.RunID); err != nil {
		return false, mapError(err)
	}
	return true, nil
}

// FinishRun records how a run ended; see snippets.RunStore.
func (s *Store) FinishRun(ctx context.Context, runID, status, errText string) error {
	if err := snippets.ValidateFinish(status, errText); err != nil {
		return fmt.Errorf("sqlite: finish run %s: %w", runID, err)
	}
	err := s.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var stored string
		err := tx.QueryRowContext(ctx, `SELECT status FROM runs WHERE id = ?`, runID).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) {
			return snippets.Errorf(snippets.NotFound, "no run with ID %s", runID)
		}
		if err != nil {
			return mapError(err)
		}
		if stored != snippets.RunRunning {
			return finishedAlready(runID, stored, status)
		}
		_, err = tx.ExecContext(ctx, `UPDATE runs SET status = ?, error = ?, finished = ? WHERE id = ?`,
			status, errText, toMillis(now()), runID)
		return mapError(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: finish run %s: %w", runID, err)
	}
	return nil
}

// finishedAlready answers FinishRun on a finished run: nothing to do for a
// resend, a Conflict for another outcome.
func finishedAlready(runID, stored, status string) error {
	if stored == status {
		return nil
	}
	return snippets.Errorf(snippets.Conflict, "run %s has ended already (%s); its outcome cannot change to %s", runID, stored, status)
}

// runColumns are a run's columns with its A/B link, from runs joined to
// ab_runs as l (runsFrom, or an inner join when only linked runs matter).
const runColumns = `runs.id, runs.snippet_id, runs.runtime, runs.runtime_version, runs.env, runs.config, runs.phases,
	runs.created, runs.finished, runs.status, runs.error, runs.sample_count, l.ab_id, l.arm, l.interpreter`

// runsFrom is the FROM clause for runColumns over every run.
const runsFrom = `runs LEFT JOIN ab_runs l ON l.run_id = runs.id`

func scanRun(row rowscan.Scanner) (*snippets.Run, error) {
	var r snippets.Run
	var env, config, phases string
	var created int64
	var finished sql.NullInt64
	var abID, abArm sql.NullString
	var abInterp sql.NullInt64
	if err := row.Scan(&r.ID, &r.SnippetID, &r.Runtime, &r.RuntimeVersion, &env, &config, &phases,
		&created, &finished, &r.Status, &r.Error, &r.SampleCount, &abID, &abArm, &abInterp); err != nil {
		return nil, err
	}
	if abID.Valid {
		r.AB = &snippets.ABLink{ID: abID.String, Arm: abArm.String, Interpreter: int(abInterp.Int64)}
	}
	r.Env, r.Config, r.Phases = json.RawMessage(env), json.RawMessage(config), json.RawMessage(phases)
	r.Created = fromMillis(created)
	if finished.Valid {
		t := fromMillis(finished.Int64)
		r.Finished = &t
	}
	return &r, nil
}

// ListRuns returns a snippet's runs, newest first; see snippets.RunStore.
func (s *Store) ListRuns(ctx context.Context, snippetID string) ([]*snippets.Run, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+runColumns+` FROM `+runsFrom+` WHERE runs.snippet_id = ? ORDER BY runs.created DESC, runs.seq DESC`, snippetID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list runs of %s: %w", snippetID, mapError(err))
	}
	defer rows.Close()
	runs, err := rowscan.Collect([]*snippets.Run{}, rows, scanRun)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list runs of %s: %w", snippetID, mapError(err))
	}
	return runs, nil
}

// GetRun returns a run with its samples; see snippets.RunStore.
func (s *Store) GetRun(ctx context.Context, runID string) (*snippets.Run, error) {
	// One read transaction, so SampleCount and Samples agree even while
	// batches arrive.
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get run %s: %w", runID, mapError(err))
	}
	defer tx.Rollback()
	r, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runColumns+` FROM `+runsFrom+` WHERE runs.id = ?`, runID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: get run %s: %w", runID, snippets.Errorf(snippets.NotFound, "no run with ID %s", runID))
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get run %s: %w", runID, mapError(err))
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+rowscan.SampleColumns+` FROM samples WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get run %s: %w", runID, mapError(err))
	}
	defer rows.Close()
	if r.Samples, err = rowscan.Collect(make([]snippets.Sample, 0, r.SampleCount), rows, rowscan.Sample); err != nil {
		return nil, fmt.Errorf("sqlite: get run %s: %w", runID, mapError(err))
	}
	return r, nil
}
