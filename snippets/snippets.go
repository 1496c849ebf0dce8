// Package snippets is the snippet domain: the Snippet, benchmark-run and A/B
// benchmark types, content-addressed IDs, validation, the error type shared
// by every layer, and the Store interface with its SQLite and PostgreSQL
// implementations in sub-packages (one shared test suite in storetest must
// pass against both).
//
// Snippets are immutable: a change is a new snippet with a new ID. Code is only
// ever data here; nothing in this package (or anywhere in the server) runs it.
package snippets

import (
	"context"
	"time"
)

// Runtime names a Python runtime that runs a snippet in the visitor's browser.
type Runtime string

// The runtimes a snippet can be written for.
const (
	Pyodide     Runtime = "pyodide"
	MicroPython Runtime = "micropython"
	PyScript    Runtime = "pyscript"
)

// Interpreter names the interpreter a PyScript snippet's page runs on.
type Interpreter string

// The interpreters a PyScript page can run on.
//
// Pyodide is the default, and the default is stored as the empty
// Interpreter: the snippets shared before the field existed keep their
// IDs, and a snippet that names Pyodide is the same snippet, with the same
// ID, as one that names nothing. Normalize turns the one into the other
// (Decode calls it), stores refuse the explicit form (CheckStorable),
// ContentID hashes no interpreter for the default, and EffectiveInterpreter
// names it for readers. This is the one statement of the rule; the rest
// of pyplay refers to it.
const (
	InterpreterPyodide     Interpreter = "pyodide"
	InterpreterMicroPython Interpreter = "micropython"
)

// Snippet is one shared program. Every field except Created takes part in
// the content address, so the same content always gets the same ID.
type Snippet struct {
	ID      string  `json:"id"`
	Code    string  `json:"code"`
	Runtime Runtime `json:"runtime"`
	Title   string  `json:"title"`
	HTML    string  `json:"html,omitempty"` // optional page body for PyScript snippets
	// Interpreter is what a PyScript snippet's page runs on, in its
	// stored form (see InterpreterPyodide); always "" for other runtimes.
	Interpreter Interpreter `json:"interpreter,omitempty"`
	Created     time.Time   `json:"created"`
}

// EffectiveInterpreter is the interpreter a PyScript snippet runs on, the
// default named (see InterpreterPyodide), or "" for other runtimes.
func (s *Snippet) EffectiveInterpreter() Interpreter {
	switch {
	case s.Runtime != PyScript:
		return ""
	case s.Interpreter == "":
		return InterpreterPyodide
	default:
		return s.Interpreter
	}
}

// Normalize puts the interpreter in its stored form (see
// InterpreterPyodide). Call it before Seal on snippets from outside
// (Decode does).
func (s *Snippet) Normalize() {
	if s.Interpreter == InterpreterPyodide {
		s.Interpreter = ""
	}
}

// Store keeps snippets, the benchmark runs measured on them and the A/B
// benchmarks that compare them. Every
// implementation must pass storetest.Run.
type Store interface {
	// Put stores s (whose ID must already be set by Snippet.Seal) and reports
	// whether it was new. Putting the same content twice is not an error.
	// Put sets s.Created to the stored creation time (UTC, millisecond
	// precision): now for a new snippet, the original time otherwise. An ID
	// that does not match the content is Invalid. When Put returns, the
	// snippet is durable.
	Put(ctx context.Context, s *Snippet) (created bool, err error)
	// Get returns the snippet with the given ID, or an Error with code NotFound.
	Get(ctx context.Context, id string) (*Snippet, error)
	// Delete removes a snippet (an operator action, e.g. a leaked secret) and
	// its benchmark runs. Deleting an unknown ID is a NotFound error.
	Delete(ctx context.Context, id string) error
	// Each calls fn for every snippet in creation order, for export, and
	// stops at fn's first error, which it returns. It reads in pages and
	// holds no transaction while fn runs, so fn may use the store.
	Each(ctx context.Context, fn func(*Snippet) error) error

	RunStore
	ABStore

	// Ping reports whether the database answers (an Unavailable error if
	// not).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
