package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/internal/rowscan"
)

// CreateAB stores a new A/B benchmark; see snippets.ABStore.
func (s *Store) CreateAB(ctx context.Context, ab *snippets.AB) error {
	if err := ab.Validate(); err != nil {
		return fmt.Errorf("postgres: create ab: %w", err)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	t := now()
	var c *string
	if len(ab.Arms) > 2 {
		c = &ab.Arms[2]
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO abs
		(id, arm_a, arm_b, arm_c, runtimes, threshold, budget_ms, interpreters, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
		ab.ID, ab.Arms[0], ab.Arms[1], c, strings.Join(ab.Runtimes, ","), ab.Threshold, ab.BudgetMs, ab.Interpreters, t)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("postgres: create ab %s: %w", ab.ID, s.missingArm(ctx, ab))
	}
	if err != nil {
		return fmt.Errorf("postgres: create ab %s: %w", ab.ID, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: create ab %s: %w", ab.ID, snippets.Errorf(snippets.Conflict, "an A/B benchmark with ID %s exists", ab.ID))
	}
	ab.Created, ab.Ended, ab.Stored = t, nil, snippets.ABCounts{}
	return nil
}

// missingArm names the arm whose snippet does not exist, for the NotFound
// error of a foreign key violation.
func (s *Store) missingArm(ctx context.Context, ab *snippets.AB) error {
	for i, id := range ab.Arms {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM snippets WHERE id = $1)`, id).Scan(&exists); err != nil {
			return mapError(err)
		}
		if !exists {
			return snippets.Errorf(snippets.NotFound, "no snippet with ID %s (arm %s)", id, strings.ToUpper(snippets.ABArms[i]))
		}
	}
	return snippets.Errorf(snippets.NotFound, "a snippet of the A/B benchmark was deleted while creating it")
}

// abColumns are an A/B benchmark's columns with its counts, for scanAB;
// the counts read the linked runs and their batches through the indexes.
const abColumns = `abs.id, arm_a, arm_b, arm_c, runtimes, threshold, budget_ms, interpreters, abs.created, ended,
	(SELECT count(*) FROM ab_runs l WHERE l.ab_id = abs.id),
	(SELECT count(*) FROM ab_runs l JOIN runs r ON r.id = l.run_id WHERE l.ab_id = abs.id AND r.status = 'running'),
	(SELECT count(*) FROM ab_runs l JOIN runs r ON r.id = l.run_id WHERE l.ab_id = abs.id AND r.status = 'done'),
	(SELECT count(*) FROM ab_runs l JOIN batches b ON b.run_id = l.run_id WHERE l.ab_id = abs.id)`

func scanAB(row rowscan.Scanner) (*snippets.AB, error) {
	var ab snippets.AB
	var a, b, runtimes string
	var c *string
	var ended *time.Time
	var runs, running, done, batches int64
	if err := row.Scan(&ab.ID, &a, &b, &c, &runtimes, &ab.Threshold, &ab.BudgetMs, &ab.Interpreters, &ab.Created, &ended,
		&runs, &running, &done, &batches); err != nil {
		return nil, err
	}
	ab.Arms = []string{a, b}
	if c != nil {
		ab.Arms = append(ab.Arms, *c)
	}
	ab.Runtimes = strings.Split(runtimes, ",")
	ab.Created = ab.Created.UTC()
	if ended != nil {
		t := ended.UTC()
		ab.Ended = &t
	}
	ab.Stored = snippets.ABCounts{Runs: int(runs), Running: int(running), Done: int(done), Batches: int(batches)}
	return &ab, nil
}

// GetAB returns an A/B benchmark; see snippets.ABStore.
func (s *Store) GetAB(ctx context.Context, id string) (*snippets.AB, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	ab, err := scanAB(s.pool.QueryRow(ctx, `SELECT `+abColumns+` FROM abs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: get ab %s: %w", id, snippets.Errorf(snippets.NotFound, "no A/B benchmark with ID %s", id))
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get ab %s: %w", id, mapError(err))
	}
	return ab, nil
}

// ListABs returns a snippet's A/B benchmarks, newest first; see
// snippets.ABStore.
func (s *Store) ListABs(ctx context.Context, snippetID string, limit int) ([]*snippets.AB, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+abColumns+` FROM abs WHERE abs.seq IN (
			SELECT seq FROM abs WHERE arm_a = $1 UNION SELECT seq FROM abs WHERE arm_b = $1 UNION SELECT seq FROM abs WHERE arm_c = $1)
		ORDER BY abs.created DESC, abs.seq DESC LIMIT $2`, snippetID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list abs of %s: %w", snippetID, mapError(err))
	}
	defer rows.Close()
	abs, err := rowscan.Collect([]*snippets.AB{}, rows, scanAB)
	if err != nil {
		return nil, fmt.Errorf("postgres: list abs of %s: %w", snippetID, mapError(err))
	}
	return abs, nil
}

// ABRuns returns an A/B benchmark's runs with their samples; see
// snippets.ABStore.
func (s *Store) ABRuns(ctx context.Context, id string) ([]*snippets.Run, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	// One snapshot: the runs and their samples agree.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("postgres: runs of ab %s: %w", id, mapError(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	rows, err := tx.Query(ctx, `SELECT `+runColumns+` FROM runs JOIN ab_runs l ON l.run_id = runs.id
		WHERE l.ab_id = $1 ORDER BY runs.created, runs.seq`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: runs of ab %s: %w", id, mapError(err))
	}
	runs, err := rowscan.Collect([]*snippets.Run{}, rows, scanRun)
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("postgres: runs of ab %s: %w", id, mapError(err))
	}
	rows, err = tx.Query(ctx, `SELECT sm.run_id, `+rowscan.SampleColumns+` FROM samples sm
		JOIN ab_runs l ON l.run_id = sm.run_id WHERE l.ab_id = $1 ORDER BY sm.run_id, sm.seq`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: runs of ab %s: %w", id, mapError(err))
	}
	defer rows.Close()
	if err := rowscan.AttachSamples(runs, rows); err != nil {
		return nil, fmt.Errorf("postgres: runs of ab %s: %w", id, mapError(err))
	}
	return runs, nil
}

// EndAB records that an A/B benchmark is done; see snippets.ABStore.
func (s *Store) EndAB(ctx context.Context, id string) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `UPDATE abs SET ended = coalesce(ended, $2) WHERE id = $1`, id, now())
	if err != nil {
		return fmt.Errorf("postgres: end ab %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: end ab %s: %w", id, snippets.Errorf(snippets.NotFound, "no A/B benchmark with ID %s", id))
	}
	return nil
}
