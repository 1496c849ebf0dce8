package response

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/pyplay/pyplay/snippets"
)

// Every code has one status and every status in the table one code, so
// that an echo error (a status) and a domain error (a code) are answered
// alike.
func TestCodesAreOneTable(t *testing.T) {
	seen := map[int]string{}
	for _, c := range codes {
		if other, dup := seen[c.status]; dup {
			t.Errorf("status %d has two codes, %s and %s", c.status, other, c.code)
		}
		seen[c.status] = c.code
		if got := statusOf(c.code); got != c.status {
			t.Errorf("statusOf(%s) = %d, want %d", c.code, got, c.status)
		}
		if got := codeOf(c.status); got != c.code {
			t.Errorf("codeOf(%d) = %s, want %s", c.status, got, c.code)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err       error
		code, msg string
		status    int
	}{
		{fmt.Errorf("get: %w", snippets.Errorf(snippets.NotFound, "no snippet with ID x")), "not_found", "no snippet with ID x", 404},
		{snippets.Errorf(snippets.Unavailable, "down"), "unavailable", "down", 503},
		{errors.New("disk on fire"), "internal", "internal error", 500},
		{Errorf(http.StatusForbidden, "pages from %s may not connect", "x"), "forbidden", "pages from x may not connect", 403},
		{Errorf(http.StatusTooManyRequests, "slow down"), "rate_limited", "slow down", 429},
		{echo.ErrMethodNotAllowed, "method_not_allowed", "Method Not Allowed", 405},
		// A 4xx the table does not name is a bad request.
		{echo.NewHTTPError(http.StatusTeapot), "invalid", "I'm a teapot", 400},
	} {
		code, msg, status := Classify(tc.err)
		if code != tc.code || msg != tc.msg || status != tc.status {
			t.Errorf("Classify(%v) = %s, %q, %d; want %s, %q, %d", tc.err, code, msg, status, tc.code, tc.msg, tc.status)
		}
	}
}
