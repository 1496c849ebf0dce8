package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pyplay/pyplay/snippets"
)

// ClaimRun sets a run's owner unless it has one; see snippets.RunOwners.
func (s *Store) ClaimRun(ctx context.Context, runID, owner string) (*snippets.RunClaim, error) {
	if err := snippets.ValidateOwner(owner); err != nil {
		return nil, fmt.Errorf("sqlite: claim run %s: %w", runID, err)
	}
	// A run with an owner is only read: most claims are of such runs (a
	// producer resuming its run), and reads need no commit.
	c, err := readClaim(ctx, s.read, runID)
	if err == nil && c.Owner == "" {
		// One writer runs at a time, so the update and the read see the
		// same row.
		err = s.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET owner = ? WHERE id = ? AND owner = ''`, owner, runID); err != nil {
				return mapError(err)
			}
			var err error
			c, err = readClaim(ctx, tx, runID)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim run %s: %w", runID, err)
	}
	return c, nil
}

func readClaim(ctx context.Context, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, runID string) (*snippets.RunClaim, error) {
	var c snippets.RunClaim
	var created int64
	err := db.QueryRowContext(ctx, `SELECT owner, snippet_id, runtime, status, sample_count, created FROM runs WHERE id = ?`, runID).
		Scan(&c.Owner, &c.SnippetID, &c.Runtime, &c.Status, &c.SampleCount, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, snippets.Errorf(snippets.NotFound, "no run with ID %s", runID)
	}
	if err != nil {
		return nil, mapError(err)
	}
	c.Created = fromMillis(created)
	return &c, nil
}

// CountRuns counts a snippet's runs; see snippets.RunOwners.
func (s *Store) CountRuns(ctx context.Context, snippetID string) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE snippet_id = ?`, snippetID).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count runs of %s: %w", snippetID, mapError(err))
	}
	return n, nil
}
