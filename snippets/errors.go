package snippets

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status in one place.
const (
	Invalid     = "invalid"     // bad input: 400
	TooLarge    = "too_large"   // over a size limit: 413
	NotFound    = "not_found"   // 404
	Conflict    = "conflict"    // contradicts what is stored: 409
	Unavailable = "unavailable" // the database does not answer: 503
	Internal    = "internal"    // a bug or an unexpected failure: 500
)

// ErrStorageFull is the error of a write that failed because the
// database's disk (or its size limit) is full: Unavailable, since it is
// nobody's fault in the request and writes work again once there is room.
// Stores wrap it, so test with errors.Is.
var ErrStorageFull = &Error{Code: Unavailable, Message: "the server's storage is full; try again later"}

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
