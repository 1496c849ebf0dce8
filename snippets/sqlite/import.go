package sqlite

import (
	"context"
	"database/sql"
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
	if err := s.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE snippets SET created = ? WHERE id = ? AND created > ?`,
			toMillis(want), sn.ID, toMillis(want))
		return mapError(err)
	}); err != nil {
		return created, fmt.Errorf("sqlite: import %s: %w", sn.ID, err)
	}
	sn.Created = want
	return created, nil
}
