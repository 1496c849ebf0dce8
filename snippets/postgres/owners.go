package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pyplay/pyplay/snippets"
)

// ClaimRun sets a run's owner unless it has one; see snippets.RunOwners.
func (s *Store) ClaimRun(ctx context.Context, runID, owner string) (*snippets.RunClaim, error) {
	if err := snippets.ValidateOwner(owner); err != nil {
		return nil, fmt.Errorf("postgres: claim run %s: %w", runID, err)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	// One statement that always updates the row: a concurrent claim waits
	// for the row lock and then sees the winner's owner, which RETURNING
	// gives back.
	var c snippets.RunClaim
	err := s.pool.QueryRow(ctx, `UPDATE runs SET owner = CASE WHEN owner = '' THEN $2 ELSE owner END
		WHERE id = $1 RETURNING owner, snippet_id, runtime, status, sample_count, created`, runID, owner).
		Scan(&c.Owner, &c.SnippetID, &c.Runtime, &c.Status, &c.SampleCount, &c.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: claim run %s: %w", runID, snippets.Errorf(snippets.NotFound, "no run with ID %s", runID))
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: claim run %s: %w", runID, mapError(err))
	}
	c.Created = c.Created.UTC()
	return &c, nil
}

// CountRuns counts a snippet's runs; see snippets.RunOwners.
func (s *Store) CountRuns(ctx context.Context, snippetID string) (int, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM runs WHERE snippet_id = $1`, snippetID).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count runs of %s: %w", snippetID, mapError(err))
	}
	return n, nil
}
