// Package response is how pyplay's HTTP handlers answer when the answer is
// not a page: every error as JSON {"error": {"code", "message"}} with the
// status that one table gives its code (or, to a browser's navigation, as
// a small page saying the same), and the headers of downloads and
// of answers that must not be cached, and the one check of a JSON
// request's Content-Type. The app shell (package server) and
// the benchmark lab (package bench) both answer through it.
package response

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pyplay/pyplay/snippets"
)

// codes is the one table between error codes and HTTP statuses: the
// domain's codes (a *snippets.Error), then those only HTTP has, which
// handlers return as an *echo.HTTPError with the status (Errorf).
var codes = []struct {
	code   string
	status int
}{
	{snippets.Invalid, http.StatusBadRequest},
	{snippets.TooLarge, http.StatusRequestEntityTooLarge},
	{snippets.NotFound, http.StatusNotFound},
	{snippets.Conflict, http.StatusConflict},
	{snippets.Unavailable, http.StatusServiceUnavailable},
	{snippets.Internal, http.StatusInternalServerError},
	{"unsupported_media_type", http.StatusUnsupportedMediaType},
	{"rate_limited", http.StatusTooManyRequests},
	{"method_not_allowed", http.StatusMethodNotAllowed},
	{"forbidden", http.StatusForbidden}, // e.g. a WebSocket from a foreign Origin
}

func statusOf(code string) int {
	for _, c := range codes {
		if c.code == code {
			return c.status
		}
	}
	return http.StatusInternalServerError
}

// codeOf names a status: echo's own errors (unknown route, wrong method,
// …) and those of Errorf.
func codeOf(status int) string {
	for _, c := range codes {
		if c.status == status {
			return c.code
		}
	}
	if status >= 400 && status < 500 {
		return snippets.Invalid
	}
	return snippets.Internal
}

// Errorf returns a failure that only HTTP has (a wrong content type, a
// rate limit, a refused origin) with its status and a message for people.
// Failures of the domain are *snippets.Error values instead.
func Errorf(status int, format string, args ...any) error {
	return echo.NewHTTPError(status, fmt.Sprintf(format, args...))
}

// Classify returns what err is answered with: its code for programs, its
// message for people (generic for internal errors, whose details are
// logged, never shown) and its status.
func Classify(err error) (code, message string, status int) {
	code, message = snippets.ErrorCode(err), snippets.ErrorMessage(err)
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code, message = codeOf(he.Code), http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok {
			message = m
		}
	}
	return code, message, statusOf(code)
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// ErrorHandler answers every error as an ErrorBody, or as an error page to
// a browser's navigation (WantsPage), and logs internal ones once, with the
// request ID.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code, msg, status := Classify(err)
		if status >= 500 && code != snippets.Unavailable {
			log.Error("request failed", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"method", Truncate(c.Request().Method, logMethodMax), "path", Truncate(c.Request().URL.Path, logPathMax), "err", err)
		}
		if WantsPage(c.Request()) {
			if err := ErrorPage(c, status, pageTitle(code, status), msg); err != nil {
				log.Error("error page failed", "err", err)
			}
			return
		}
		var body ErrorBody
		body.Error.Code, body.Error.Message = code, msg
		if c.Request().Method == http.MethodHead {
			c.NoContent(status)
			return
		}
		c.JSON(status, body)
	}
}

// retryAfterUnavailable is the Retry-After sent with 503: long enough not
// to hammer a database coming back, short enough not to matter to people.
const retryAfterUnavailable = "5"

// retryAfterStorage is Retry-After while the disk is full or below its
// floor: an operator has to free space, which takes longer than a database
// restart.
const retryAfterStorage = "60"

// Caps on what a client controls in a log line (a method may be any token
// up to the header limit).
const (
	logMethodMax = 16
	logPathMax   = 256
)

// StoreError passes on err, an error from the store, telling clients when
// to retry an outage.
func StoreError(c echo.Context, err error) error {
	switch {
	case errors.Is(err, snippets.ErrStorageFull), errors.Is(err, snippets.ErrDiskLow):
		c.Response().Header().Set(echo.HeaderRetryAfter, retryAfterStorage)
	case snippets.ErrorCode(err) == snippets.Unavailable:
		c.Response().Header().Set(echo.HeaderRetryAfter, retryAfterUnavailable)
	}
	return err
}

// Truncate shortens what a client sent before a message echoes it.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
