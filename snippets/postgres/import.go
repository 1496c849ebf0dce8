package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/pyplay/pyplay/snippets"
)

var _ snippets.Importer = (*Store)(nil)

// Import stores sn as Put does, then dates it sn.Created when that is set
// and earlier than the stored time; see snippets.Importer. The two steps
// are not one transaction: if the second fails, importing again repairs
// the date.
func (s *Store) Import(ctx context.Context, sn *snippets.Snippet) (created bool, err error) {
	want := sn.Created.UTC().Truncate(time.Millisecond)
	created, err = s.Put(ctx, sn)
	if err != nil || !want.Before(sn.Created) || want.Unix() <= 0 {
		return created, err
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `UPDATE snippets SET created = $1 WHERE id = $2 AND created > $1`, want, sn.ID); err != nil {
		return created, fmt.Errorf("postgres: import %s: %w", sn.ID, mapError(err))
	}
	sn.Created = want
	return created, nil
}
