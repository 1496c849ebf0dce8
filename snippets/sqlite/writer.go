package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/pyplay/pyplay/snippets"
)

// Group commit.
//
// Every write (Put, Delete, Import's re-dating, CreateRun, AppendBatch,
// FinishRun) is an op handed to one writer goroutine, which owns the write
// connection. When the writer becomes free it takes every op queued by then
// (at most maxGroup) and runs them in one transaction, each inside its own
// savepoint, then commits once: one fsync (synchronous=FULL) for the whole
// group. An op that fails is rolled back to its savepoint and fails alone;
// the others in its group are committed. Callers return only after the
// commit of the transaction holding their op, so durability is unchanged.
// There is no timer: a lone op is committed at once, and ops gather only
// while the writer is busy with the previous group.

// maxGroup bounds the ops committed in one transaction, so that one group
// (and the wait of the ops queued behind it) stays short.
const maxGroup = 256

// errClosed is the error of writes after Close.
var errClosed = snippets.Errorf(snippets.Unavailable, "the store is closed")

// An op is one write waiting for, or in, a group.
type op struct {
	ctx context.Context
	// fn does the write in tx. It must not keep tx, must not call the
	// store's writing methods (the writer would wait for itself), must not
	// change what its caller sees (results go into variables the caller
	// reads after do returns), and gets a context that is never cancelled:
	// cancelling a statement inside a transaction may roll back the whole
	// transaction, and with it the other ops of the group.
	fn    func(ctx context.Context, tx *sql.Tx) error
	err   error
	done  chan struct{} // closed when err is final
	state opState       // guarded by writer.mu
}

type opState int

const (
	queued    opState = iota
	taken             // in a group: the caller waits for its result
	abandoned         // the caller's context ended first: skip it
)

// writer is the queue of ops and the goroutine that commits them.
type writer struct {
	mu     sync.Mutex
	queue  []*op
	closed bool
	wake   chan struct{} // capacity 1: "the queue may be non-empty"
	exited chan struct{} // closed when the goroutine has returned

	// serial makes do run each op in its own transaction on the caller's
	// goroutine, as before group commit; for the comparison in
	// BenchmarkAppendBatchConcurrent only.
	serial bool
}

func (s *Store) startWriter() {
	s.w = &writer{wake: make(chan struct{}, 1), exited: make(chan struct{})}
	go s.writeLoop()
}

// stopWriter commits what is queued, then stops the writer. Later writes
// fail.
func (s *Store) stopWriter() {
	if s.w == nil {
		return
	}
	s.w.mu.Lock()
	s.w.closed = true
	s.w.mu.Unlock()
	s.signal()
	<-s.w.exited
}

func (s *Store) signal() {
	select {
	case s.w.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// do runs fn in the writer's next transaction and returns once that
// transaction has committed (fn's error, or the commit's, or nil) or, if
// ctx ends before fn starts, with ctx's error. Errors are mapped
// (mapError) but not prefixed.
func (s *Store) do(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if s.w.serial {
		return s.doAlone(ctx, fn)
	}
	if err := ctx.Err(); err != nil {
		return mapError(err)
	}
	o := &op{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.w.mu.Lock()
	if s.w.closed {
		s.w.mu.Unlock()
		return errClosed
	}
	s.w.queue = append(s.w.queue, o)
	s.w.mu.Unlock()
	s.signal()

	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
	}
	s.w.mu.Lock()
	if o.state == queued {
		o.state = abandoned // the writer skips it
		s.w.mu.Unlock()
		return mapError(ctx.Err())
	}
	s.w.mu.Unlock()
	<-o.done // running or committing: the outcome is known soon
	return o.err
}

// doAlone is the write path without group commit: one transaction per op.
func (s *Store) doAlone(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapError(err)
	}
	defer tx.Rollback()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	return mapError(tx.Commit())
}

func (s *Store) writeLoop() {
	defer close(s.w.exited)
	for range s.w.wake {
		for {
			s.w.mu.Lock()
			n, closed := len(s.w.queue), s.w.closed
			s.w.mu.Unlock()
			if n == 0 {
				if closed {
					return
				}
				break
			}
			s.commitGroup()
		}
	}
}

// commitGroup runs the ops at the head of the queue in one transaction.
func (s *Store) commitGroup() {
	// The context of the group's statements is never cancelled; see op.fn.
	// BEGIN IMMEDIATE waits at most busyTimeout for another process.
	ctx := context.Background()
	tx, err := s.write.BeginTx(ctx, nil)
	// Take the group only now: ops queued while BEGIN waited join it, and
	// callers whose context ended meanwhile have left.
	group := s.takeGroup()
	if err != nil {
		finish(group, mapError(err))
		return
	}
	defer tx.Rollback() // after a successful Commit, a no-op
	for _, o := range group {
		if err := o.ctx.Err(); err != nil {
			o.err = mapError(err) // its caller is leaving: do not start it
			continue
		}
		if err := runInSavepoint(ctx, tx, o); err != nil {
			// The transaction is in an unknown state: nothing of the group
			// is committed.
			finish(group, err)
			return
		}
	}
	finish(group, mapError(tx.Commit()))
}

// takeGroup removes up to maxGroup ops from the head of the queue and
// returns those whose callers still wait.
func (s *Store) takeGroup() []*op {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	n := min(len(s.w.queue), maxGroup)
	group := make([]*op, 0, n)
	for _, o := range s.w.queue[:n] {
		if o.state == queued {
			o.state = taken
			group = append(group, o)
		}
	}
	rest := copy(s.w.queue, s.w.queue[n:])
	clear(s.w.queue[rest:])
	s.w.queue = s.w.queue[:rest]
	return group
}

// runInSavepoint runs o.fn inside a savepoint, so that its failure undoes
// its own changes only. o.err is o's own error; the error returned means
// the transaction itself failed (a savepoint statement did).
func runInSavepoint(ctx context.Context, tx *sql.Tx, o *op) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT op`); err != nil {
		return fmt.Errorf("savepoint: %w", mapError(err))
	}
	if o.err = o.fn(ctx, tx); o.err != nil {
		// A failed statement may have ended the transaction (SQLite rolls
		// back on some I/O and full-disk errors); then ROLLBACK TO fails.
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO op`); err != nil {
			return fmt.Errorf("%w (and rolling back to the savepoint: %w)", o.err, mapError(err))
		}
	}
	if _, err := tx.ExecContext(ctx, `RELEASE op`); err != nil {
		return fmt.Errorf("release savepoint: %w", mapError(err))
	}
	return nil
}

// finish gives every op of a group still without an error of its own
// the group's outcome (nil: committed), and wakes their callers.
func finish(group []*op, err error) {
	for _, o := range group {
		if o.err == nil {
			o.err = err
		}
		close(o.done)
	}
}
