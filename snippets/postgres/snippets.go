package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pyplay/pyplay/snippets"
)

// Put stores sn unless a snippet with its ID is already stored; see
// snippets.Store.
func (s *Store) Put(ctx context.Context, sn *snippets.Snippet) (created bool, err error) {
	if err := sn.CheckStorable(); err != nil {
		return false, fmt.Errorf("postgres: put: %w", err)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	t := now()
	// Two statements, not one: an INSERT that yields to a concurrent
	// insert of the same ID cannot see that row in its own snapshot, but
	// the next statement can. The loop covers a Delete in between.
	for range 3 {
		var stored time.Time
		err := s.pool.QueryRow(ctx, `INSERT INTO snippets (id, runtime, title, code, html, interpreter, created)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING created`,
			sn.ID, string(sn.Runtime), sn.Title, sn.Code, sn.HTML, string(sn.Interpreter), t).Scan(&stored)
		if err == nil {
			sn.Created = stored.UTC()
			return true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return false, fmt.Errorf("postgres: put %s: %w", sn.ID, mapError(err))
		}
		err = s.pool.QueryRow(ctx, `SELECT created FROM snippets WHERE id = $1`, sn.ID).Scan(&stored)
		if err == nil {
			sn.Created = stored.UTC()
			return false, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return false, fmt.Errorf("postgres: put %s: %w", sn.ID, mapError(err))
		}
	}
	return false, fmt.Errorf("postgres: put %s: the snippet was deleted and stored repeatedly while storing it", sn.ID)
}

// Get returns the snippet with the given ID, or NotFound.
func (s *Store) Get(ctx context.Context, id string) (*snippets.Snippet, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var sn snippets.Snippet
	err := s.pool.QueryRow(ctx, `SELECT id, runtime, title, code, html, interpreter, created FROM snippets WHERE id = $1`, id).
		Scan(&sn.ID, &sn.Runtime, &sn.Title, &sn.Code, &sn.HTML, &sn.Interpreter, &sn.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: get %s: %w", id, snippets.Errorf(snippets.NotFound, "no snippet with ID %s", id))
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get %s: %w", id, mapError(err))
	}
	sn.Created = sn.Created.UTC()
	return &sn, nil
}

// Delete removes a snippet and, through the schema's ON DELETE CASCADE,
// its runs with their batches and samples.
func (s *Store) Delete(ctx context.Context, id string) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM snippets WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: delete %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete %s: %w", id, snippets.Errorf(snippets.NotFound, "no snippet with ID %s", id))
	}
	return nil
}

// eachPage is how many snippets Each reads per query: at most a few MB
// with 64 KiB snippets, and no connection is held while fn runs.
const eachPage = 64

// Each calls fn for every snippet in creation order; see snippets.Store.
func (s *Store) Each(ctx context.Context, fn func(*snippets.Snippet) error) error {
	var after int64
	for {
		page, last, err := s.eachPage(ctx, after)
		if err != nil {
			return fmt.Errorf("postgres: each: %w", mapError(err))
		}
		for _, sn := range page {
			if err := fn(sn); err != nil {
				return err
			}
		}
		if len(page) < eachPage {
			return nil
		}
		after = last
	}
}

func (s *Store) eachPage(ctx context.Context, after int64) (page []*snippets.Snippet, last int64, err error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT seq, id, runtime, title, code, html, interpreter, created
		FROM snippets WHERE seq > $1 ORDER BY seq LIMIT $2`, after, eachPage)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var sn snippets.Snippet
		if err := rows.Scan(&last, &sn.ID, &sn.Runtime, &sn.Title, &sn.Code, &sn.HTML, &sn.Interpreter, &sn.Created); err != nil {
			return nil, 0, err
		}
		sn.Created = sn.Created.UTC()
		page = append(page, &sn)
	}
	return page, last, rows.Err()
}
