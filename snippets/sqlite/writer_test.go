package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pyplay/pyplay/snippets"
)

// blockWriter makes the writer busy until the returned function is called,
// so that the ops queued meanwhile form the next groups.
func blockWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.do(t.Context(), func(context.Context, *sql.Tx) error {
			close(started)
			<-unblock
			return nil
		})
	}()
	<-started
	return func() {
		close(unblock)
		if err := <-done; err != nil {
			t.Errorf("blocking op: %v", err)
		}
	}
}

// waitQueued waits until n ops are queued.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.w.mu.Lock()
		q := len(s.w.queue)
		s.w.mu.Unlock()
		if q >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d ops queued after 10 s, want %d", q, n)
		}
	}
}

// TestGroupCommit queues more ops than a group holds while the writer is
// busy: they run in as few transactions as the bound allows, in order, and
// a failing op undoes its own changes only.
func TestGroupCommit(t *testing.T) {
	s := openTemp(t)
	if _, err := s.write.ExecContext(t.Context(), `CREATE TABLE t (n INTEGER PRIMARY KEY) STRICT`); err != nil {
		t.Fatal(err)
	}
	release := blockWriter(t, s)
	const ops = maxGroup + 44
	txs := make([]*sql.Tx, ops)
	errs := make([]error, ops)
	failed := errors.New("op failed on purpose")
	var wg sync.WaitGroup
	for i := range ops {
		wg.Go(func() {
			errs[i] = s.do(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
				txs[i] = tx
				if _, err := tx.ExecContext(ctx, `INSERT INTO t (n) VALUES (?)`, i); err != nil {
					return err
				}
				if i%10 == 3 {
					return failed // after a write, which must be undone
				}
				return nil
			})
		})
		waitQueued(t, s, i+1) // queue in order of i
	}
	release()
	wg.Wait()

	for i, err := range errs {
		if wantErr := i%10 == 3; wantErr != errors.Is(err, failed) || !wantErr && err != nil {
			t.Errorf("op %d: %v", i, err)
		}
	}
	groups := map[*sql.Tx][]int{}
	for i, tx := range txs {
		groups[tx] = append(groups[tx], i)
	}
	if len(groups) != 2 || len(groups[txs[0]]) != maxGroup || len(groups[txs[ops-1]]) != ops-maxGroup {
		sizes := []int{}
		for _, g := range groups {
			sizes = append(sizes, len(g))
		}
		t.Errorf("%d ops ran in groups of %v, want %d and %d", ops, sizes, maxGroup, ops-maxGroup)
	}
	var n, sum int
	if err := s.read.QueryRowContext(t.Context(), `SELECT count(*), coalesce(sum(n % 10 = 3), 0) FROM t`).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if want := ops - (ops+6)/10; n != want || sum != 0 {
		t.Errorf("%d rows stored (%d of failed ops), want %d (none)", n, sum, want)
	}
}

// TestGroupCommitAbandoned checks that a caller whose context ends while
// its op is queued returns at once with the context's error, and that the
// op never runs.
func TestGroupCommitAbandoned(t *testing.T) {
	s := openTemp(t)
	release := blockWriter(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	ran := false
	start := time.Now()
	err := s.do(ctx, func(context.Context, *sql.Tx) error { ran = true; return nil })
	if snippets.ErrorCode(err) != snippets.Unavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued op past its deadline: %v, want Unavailable (deadline exceeded)", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the abandoned op returned after %v", d)
	}
	release()
	// The writer has skipped the op by the time a later one commits.
	if err := s.do(t.Context(), func(context.Context, *sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("the abandoned op ran")
	}
}

// TestCloseCommitsQueuedWrites closes the store while writes are queued:
// they are committed, and later writes fail as Unavailable.
func TestCloseCommitsQueuedWrites(t *testing.T) {
	path := t.TempDir() + "/close.db"
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	release := blockWriter(t, s)
	const puts = 20
	var wg sync.WaitGroup
	for i := range puts {
		wg.Go(func() {
			sn := &snippets.Snippet{Runtime: snippets.Pyodide, Code: fmt.Sprint("queued at close ", i)}
			sn.Seal()
			if created, err := s.Put(t.Context(), sn); err != nil || !created {
				t.Errorf("Put queued at Close = %v, %v", created, err)
			}
		})
	}
	waitQueued(t, s, puts)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	time.Sleep(10 * time.Millisecond) // let Close start waiting for the writer
	release()
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	sn := &snippets.Snippet{Runtime: snippets.Pyodide, Code: "after close"}
	sn.Seal()
	if _, err := s.Put(t.Context(), sn); snippets.ErrorCode(err) != snippets.Unavailable {
		t.Errorf("Put after Close: %v, want Unavailable", err)
	}

	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	if err := s.Each(t.Context(), func(*snippets.Snippet) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != puts {
		t.Errorf("%d snippets stored, want the %d queued at Close", n, puts)
	}
}
