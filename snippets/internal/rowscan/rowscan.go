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

// AttachSamples reads rows of (run_id, SampleColumns…) ordered by run and
// seq into the Samples of the run with that ID (rows of other runs are
// skipped), making room for each run's SampleCount first.
func AttachSamples(runs []*snippets.Run, r Rows) error {
	byID := make(map[string]*snippets.Run, len(runs))
	for _, run := range runs {
		run.Samples = make([]snippets.Sample, 0, run.SampleCount)
		byID[run.ID] = run
	}
	for r.Next() {
		var runID string
		var sm snippets.Sample
		if err := r.Scan(&runID, &sm.Seq, &sm.Warmup, &sm.NsPerIter, &sm.Iterations, &sm.Hidden); err != nil {
			return err
		}
		if run := byID[runID]; run != nil {
			run.Samples = append(run.Samples, sm)
		}
	}
	return r.Err()
}
