package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/internal/rowscan"
)

// CreateAB stores a new A/B benchmark; see snippets.ABStore.
func (s *Store) CreateAB(ctx context.Context, ab *snippets.AB) error {
	if err := ab.Validate(); err != nil {
		return fmt.Errorf("sqlite: create ab: %w", err)
	}
	t := now()
	err := s.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for i, id := range ab.Arms {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM snippets WHERE id = ?)`, id).Scan(&exists); err != nil {
				return mapError(err)
			}
			if !exists {
				return snippets.Errorf(snippets.NotFound, "no snippet with ID %s (arm %s)", id, strings.ToUpper(snippets.ABArms[i]))
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO abs
			(id, arm_a, arm_b, arm_c, runtimes, threshold, budget_ms, interpreters, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			ab.ID, ab.Arms[0], ab.Arms[1], armC(ab), strings.Join(ab.Runtimes, ","),
			ab.Threshold, ab.BudgetMs, ab.Interpreters, toMillis(t))
		if err != nil {
			return mapError(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return snippets.Errorf(snippets.Conflict, "an A/B benchmark with ID %s exists", ab.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: create ab %s: %w", ab.ID, err)
	}
	ab.Created, ab.Ended, ab.Stored = t, nil, snippets.ABCounts{}
	return nil
}

// armC is the third arm as the arm_c column holds it: NULL when absent.
func armC(ab *snippets.AB) any {
	if len(ab.Arms) > 2 {
		return ab.Arms[2]
	}
	return nil
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
	var c sql.NullString
	var created int64
	var ended sql.NullInt64
	if err := row.Scan(&ab.ID, &a, &b, &c, &runtimes, &ab.Threshold, &ab.BudgetMs, &ab.Interpreters, &created, &ended,
		&ab.Stored.Runs, &ab.Stored.Running, &ab.Stored.Done, &ab.Stored.Batches); err != nil {
		return nil, err
	}
	ab.Arms = []string{a, b}
	if c.Valid {
		ab.Arms = append(ab.Arms, c.String)
	}
	ab.Runtimes = strings.Split(runtimes, ",")
	ab.Created = fromMillis(created)
	if ended.Valid {
		t := fromMillis(ended.Int64)
		ab.Ended = &t
	}
	return &ab, nil
}

// GetAB returns an A/B benchmark; see snippets.ABStore.
func (s *Store) GetAB(ctx context.Context, id string) (*snippets.AB, error) {
	ab, err := scanAB(s.read.QueryRowContext(ctx, `SELECT `+abColumns+` FROM abs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: get ab %s: %w", id, snippets.Errorf(snippets.NotFound, "no A/B benchmark with ID %s", id))
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get ab %s: %w", id, mapError(err))
	}
	return ab, nil
}

// ListABs returns a snippet's A/B benchmarks, newest first; see
// snippets.ABStore.
func (s *Store) ListABs(ctx context.Context, snippetID string, limit int) ([]*snippets.AB, error) {
	// One query per arm column, so that each uses its index.
	rows, err := s.read.QueryContext(ctx, `SELECT `+abColumns+` FROM abs WHERE abs.seq IN (
			SELECT seq FROM abs WHERE arm_a = ?1 UNION SELECT seq FROM abs WHERE arm_b = ?1 UNION SELECT seq FROM abs WHERE arm_c = ?1)
		ORDER BY abs.created DESC, abs.seq DESC LIMIT ?2`, snippetID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list abs of %s: %w", snippetID, mapError(err))
	}
	defer rows.Close()
	abs, err := rowscan.Collect([]*snippets.AB{}, rows, scanAB)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list abs of %s: %w", snippetID, mapError(err))
	}
	return abs, nil
}

// ABRuns returns an A/B benchmark's runs with their samples; see
// snippets.ABStore.
func (s *Store) ABRuns(ctx context.Context, id string) ([]*snippets.Run, error) {
	// One read transaction: the runs and their samples agree.
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: runs of ab %s: %w", id, mapError(err))
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+runColumns+` FROM runs JOIN ab_runs l ON l.run_id = runs.id
		WHERE l.ab_id = ? ORDER BY runs.created, runs.seq`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: runs of ab %s: %w", id, mapError(err))
	}
	runs, err := rowscan.Collect([]*snippets.Run{}, rows, scanRun)
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("sqlite: runs of ab %s: %w", id, mapError(err))
	}
	rows, err = tx.QueryContext(ctx, `SELECT sm.run_id, `+rowscan.SampleColumns+` FROM samples sm
		JOIN ab_runs l ON l.run_id = sm.run_id WHERE l.ab_id = ? ORDER BY sm.run_id, sm.seq`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: runs of ab %s: %w", id, mapError(err))
	}
	defer rows.Close()
	if err := rowscan.AttachSamples(runs, rows); err != nil {
		return nil, fmt.Errorf("sqlite: runs of ab %s: %w", id, mapError(err))
	}
	return runs, nil
}

// EndAB records that an A/B benchmark is done; see snippets.ABStore.
func (s *Store) EndAB(ctx context.Context, id string) error {
	err := s.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE abs SET ended = coalesce(ended, ?) WHERE id = ?`, toMillis(now()), id)
		if err != nil {
			return mapError(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return snippets.Errorf(snippets.NotFound, "no A/B benchmark with ID %s", id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: end ab %s: %w", id, err)
	}
	return nil
}
