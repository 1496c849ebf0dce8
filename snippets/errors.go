package snippets

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer gives each one status, in one table
// (server/response).
const (
	Invalid     = "invalid"     // bad input
	TooLarge    = "too_large"   // over a size limit
	NotFound    = "not_found"   // no such snippet or run
	Conflict    = "conflict"    // contradicts what is stored
	Unavailable = "unavailable" // the database does not answer
	Internal    = "internal"    // a bug or an unexpected failure
)

// ErrStorageFull is the error of a write that failed because the
// database's disk (or its size limit) is full: Unavailable, since it is
// nobody's fault in the request and writes work again once there is room.
// Stores wrap it, so test with errors.Is.
var ErrStorageFull = &Error{Code: Unavailable, Message: "the server's storage is full; try again later"}

// ErrDiskLow is the error of a write refused because the server's free
// disk space is below its floor (serve -min-free-disk): like
// ErrStorageFull, it passes once space is freed.
var ErrDiskLow = &Error{Code: Unavailable, Message: "the server is low on disk space and takes no new data for now; try again later"}

// Error is the one error type of the domain: a code for programs and a
// message for people. Wrap it with fmt.Errorf("...: %w", err) freely;
// ErrorCode and ErrorMessage find it through the chain.
type Error struct {
	Code    string
	Message string
}

// Error returns "code: message", for logs; people see ErrorMessage.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, Internal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return Internal
	}
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic message for any other error (internal details are logged, never
// shown).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
