package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/internal/rowscan"
)

// Put stores sn unless a snippet with its ID is already stored; see
// snippets.Store.
func (s *Store) Put(ctx context.Context, sn *snippets.Snippet) (created bool, err error) {
	if err := sn.CheckStorable(); err != nil {
		return false, fmt.Errorf("sqlite: put: %w", err)
	}
	var t time.Time
	var n int64
	err = s.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t = now()
		res, err := tx.ExecContext(ctx, `INSERT INTO snippets (id, runtime, title, code, html, interpreter, created)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			sn.ID, string(sn.Runtime), sn.Title, sn.Code, sn.HTML, string(sn.Interpreter), toMillis(t))
		if err != nil {
			return mapError(err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if n == 0 {
			var ms int64
			if err := tx.QueryRowContext(ctx, `SELECT created FROM snippets WHERE id = ?`, sn.ID).Scan(&ms); err != nil {
				return mapError(err)
			}
			t = fromMillis(ms)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: put %s: %w", sn.ID, err)
	}
	sn.Created = t
	return n == 1, nil
}

// Get returns the snippet with the given ID, or NotFound.
func (s *Store) Get(ctx context.Context, id string) (*snippets.Snippet, error) {
	row := s.read.QueryRowContext(ctx, `SELECT id, runtime, title, code, html, interpreter, created FROM snippets WHERE id = ?`, id)
	sn, err := scanSnippet(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: get %s: %w", id, snippets.Errorf(snippets.NotFound, "no snippet with ID %s", id))
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get %s: %w", id, mapError(err))
	}
	return sn, nil
}

func scanSnippet(row rowscan.Scanner) (*snippets.Snippet, error) {
	var sn snippets.Snippet
	var ms int64
	if err := row.Scan(&sn.ID, &sn.Runtime, &sn.Title, &sn.Code, &sn.HTML, &sn.Interpreter, &ms); err != nil {
		return nil, err
	}
	sn.Created = fromMillis(ms)
	return &sn, nil
}

// Delete removes a snippet and, through the schema's ON DELETE CASCADE,
// its runs with their batches and samples.
func (s *Store) Delete(ctx context.Context, id string) error {
	err := s.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM snippets WHERE id = ?`, id)
		if err != nil {
			return mapError(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return snippets.Errorf(snippets.NotFound, "no snippet with ID %s", id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete %s: %w", id, err)
	}
	return nil
}

// eachPage is how many snippets Each reads per query: at most a few MB
// with 64 KiB snippets, and no read transaction is held while fn runs.
const eachPage = 64

// Each calls fn for every snippet in creation order; see snippets.Store.
func (s *Store) Each(ctx context.Context, fn func(*snippets.Snippet) error) error {
	var after int64
	for {
		page, last, err := s.eachPage(ctx, after)
		if err != nil {
			return fmt.Errorf("sqlite: each: %w", mapError(err))
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
	rows, err := s.read.QueryContext(ctx, `SELECT seq, id, runtime, title, code, html, interpreter, created
		FROM snippets WHERE seq > ? ORDER BY seq LIMIT ?`, after, eachPage)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var sn snippets.Snippet
		var ms int64
		if err := rows.Scan(&last, &sn.ID, &sn.Runtime, &sn.Title, &sn.Code, &sn.HTML, &sn.Interpreter, &ms); err != nil {
			return nil, 0, err
		}
		sn.Created = fromMillis(ms)
		page = append(page, &sn)
	}
	return page, last, rows.Err()
}
