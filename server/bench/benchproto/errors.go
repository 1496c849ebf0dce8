package benchproto

import (
	"errors"
	"fmt"
	"time"

	"github.com/pyplay/pyplay/snippets"
)

// Error codes sent in error messages. They are part of the protocol: clients
// switch on them, so they never change meaning.
const (
	CodeBadJSON     = "bad_json"     // not a JSON object, or not UTF-8
	CodeBadVersion  = "bad_version"  // "v" missing or not Version
	CodeUnknownType = "unknown_type" // "type" is not a client message type
	CodeBadField    = "bad_field"    // a field is missing, unknown, mistyped or out of range
	CodeTooLarge    = "too_large"    // over a Limits bound
	CodeRateLimited = "rate_limited" // too many messages; retry later
	CodeNotAllowed  = "not_allowed"  // valid message, wrong moment or role
	CodeBadSeq      = "bad_seq"      // envelope seq not increasing
	CodeNotFound    = "not_found"    // unknown snippet or run
	CodeConflict    = "conflict"     // contradicts what is stored
	CodeUnavailable = "unavailable"  // the store does not answer, or its disk is nearly full; retry later
	CodeOverQuota   = "over_quota"   // the client's address stored its daily allowance of benchmark data
	CodeInternal    = "internal"     // a server bug; details are in the server log
)

// ProtoError is a rejected client message. It travels to the client as an
// error message (see Fail), so Message is written for the developer of the
// client and never holds server internals.
type ProtoError struct {
	Code    string
	Message string
	// Ref is the envelope seq of the offending message, or 0 when the
	// message was too broken to read one.
	Ref int64
	// RetryAfter, for rate_limited, unavailable and over_quota, is how
	// long the client should wait before sending the message again (sent
	// as retryAfterMs); 0 when the server cannot say.
	RetryAfter time.Duration
}

// Error formats the code, the offending seq and the message, for logs.
func (e *ProtoError) Error() string {
	if e.Ref != 0 {
		return fmt.Sprintf("benchproto: %s (seq %d): %s", e.Code, e.Ref, e.Message)
	}
	return fmt.Sprintf("benchproto: %s: %s", e.Code, e.Message)
}

func errorf(code, format string, args ...any) *ProtoError {
	return &ProtoError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FromStoreError turns an error from a snippets store into the ProtoError to
// send for the message with seq ref. Domain errors keep their message, since
// the domain writes them for people; anything else becomes internal with a
// generic message, and the caller logs the original once.
func FromStoreError(err error, ref int64) *ProtoError {
	var pe *ProtoError
	if errors.As(err, &pe) {
		c := *pe
		c.Ref = ref
		return &c
	}
	code := CodeInternal
	switch snippets.ErrorCode(err) {
	case snippets.Invalid:
		code = CodeBadField
	case snippets.TooLarge:
		code = CodeTooLarge
	case snippets.NotFound:
		code = CodeNotFound
	case snippets.Conflict:
		code = CodeConflict
	case snippets.Unavailable:
		code = CodeUnavailable
	}
	msg := snippets.ErrorMessage(err)
	if code == CodeUnavailable {
		msg = "the server cannot reach its database; resend after a short delay"
	}
	return &ProtoError{Code: code, Message: msg, Ref: ref}
}
