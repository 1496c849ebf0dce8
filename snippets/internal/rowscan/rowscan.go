// Package rowscan reads query results for both snippet stores. Their drivers
// (database/sql for SQLite, pgx for PostgreSQL) have different row types
// but iterate the same way; the loop, and scanning what both stores store
// alike, live here once.
package rowscan

import "github.com/pyplay/pyplay/snippets"

// Scanner is one row (or the current row of a result): *sql.Row,
// *sql.Rows, pgx.Row and pgx.Rows all are.
type Scanner = interface{ Scan(dest ...any) error }

// Rows is a result being read row by row.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Collect appends what scan makes of each row to dst and returns it,
// stopping at the first error (scan's, or the result's own).
func Collect[T any](dst []T, r Rows, scan func(Scanner) (T, error)) ([]T, error) {
	for r.Next() {
		v, err := scan(r)
		if err != nil {
			return dst, err
		}
		dst = append(dst, v)
	}
	return dst, r.Err()
}

// Sample scans a row of the columns SampleColumns names.
func Sample(r Scanner) (snippets.Sample, error) {
	var sm snippets.Sample
	err := r.Scan(&sm.Seq, &sm.Warmup, &sm.NsPerIter, &sm.Iterations, &sm.Hidden)
	return sm, err
}

// SampleColumns are the samples table's columns in the order Sample scans them.
const SampleColumns = "seq, warmup, ns, iterations, hidden"
