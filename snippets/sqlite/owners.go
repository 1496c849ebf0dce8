package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pyplay/pyplay/snippets"
)

// ClaimRun sets a run's owner unless it has one; see snippets.RunStore.
func (s *Store) ClaimRun(ctx context.Context, runID, owner string) (string, error) {
	if err := snippets.ValidateOwner(owner); err != nil {
		return "", fmt.Errorf("sqlite: claim run %s: %w", runID, err)
	}
	var stored string
	err := s.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET owner = ? WHERE id = ? AND owner = ''`, owner, runID); err != nil {
			return mapError(err)
		}
		err := tx.QueryRowContext(ctx, `SELECT owner FROM runs WHERE id = ?`, runID).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) {
			return snippets.Errorf(snippets.NotFound, "no run with ID %s", runID)
		}
		return mapError(err)
	})
	if err != nil {
		return "", fmt.Errorf("sqlite: claim run %s: %w", runID, err)
	}
	return stored, nil
}
