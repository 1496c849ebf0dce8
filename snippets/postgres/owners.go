package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pyplay/pyplay/snippets"
)

// ClaimRun sets a run's owner unless it has one; see snippets.RunStore.
func (s *Store) ClaimRun(ctx context.Context, runID, owner string) (string, error) {
	if err := snippets.ValidateOwner(owner); err != nil {
		return "", fmt.Errorf("postgres: claim run %s: %w", runID, err)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	// One statement that always updates the row: a concurrent claim waits
	// for the row lock and then sees the winner's owner, which RETURNING
	// gives back.
	var stored string
	err := s.pool.QueryRow(ctx, `UPDATE runs SET owner = CASE WHEN owner = '' THEN $2 ELSE owner END
		WHERE id = $1 RETURNING owner`, runID, owner).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("postgres: claim run %s: %w", runID, snippets.Errorf(snippets.NotFound, "no run with ID %s", runID))
	}
	if err != nil {
		return "", fmt.Errorf("postgres: claim run %s: %w", runID, mapError(err))
	}
	return stored, nil
}
