package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pyplay/pyplay/snippets"
)

// Extra error codes of the HTTP layer, beside the domain's.
const (
	codeUnsupportedMedia = "unsupported_media_type"
	codeRateLimited      = "rate_limited"
	codeMethod           = "method_not_allowed"
	codeForbidden        = "forbidden" // e.g. a WebSocket from a foreign Origin
)

// statusOf maps an error code to its HTTP status: the one place that does.
func statusOf(code string) int {
	switch code {
	case snippets.Invalid:
		return http.StatusBadRequest
	case snippets.TooLarge:
		return http.StatusRequestEntityTooLarge
	case snippets.NotFound:
		return http.StatusNotFound
	case snippets.Conflict:
		return http.StatusConflict
	case snippets.Unavailable:
		return http.StatusServiceUnavailable
	case codeUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case codeRateLimited:
		return http.StatusTooManyRequests
	case codeMethod:
		return http.StatusMethodNotAllowed
	case codeForbidden:
		return http.StatusForbidden
	default:
		return http.StatusInternalServerError
	}
}

func notFound(msg string) error { return snippets.Errorf(snippets.NotFound, "%s", msg) }

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// errorHandler answers every error as JSON {"error":{"code","message"}} and
// logs internal ones once, with the request ID.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code, msg := snippets.ErrorCode(err), snippets.ErrorMessage(err)
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code, msg = httpCode(he.Code), http.StatusText(he.Code)
			if m, ok := he.Message.(string); ok {
				msg = m
			}
		}
		status := statusOf(code)
		if status >= 500 && code != snippets.Unavailable {
			log.Error("request failed", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"method", truncateForMessage(c.Request().Method, logMethodMax), "path", truncateForMessage(c.Request().URL.Path, logPathMax), "err", err)
		}
		var body errorBody
		body.Error.Code, body.Error.Message = code, msg
		if c.Request().Method == http.MethodHead {
			c.NoContent(status)
			return
		}
		c.JSON(status, body)
	}
}

// httpCode names echo's own errors (unknown route, wrong method, …).
func httpCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return snippets.NotFound
	case http.StatusMethodNotAllowed:
		return codeMethod
	case http.StatusRequestEntityTooLarge:
		return snippets.TooLarge
	case http.StatusUnsupportedMediaType:
		return codeUnsupportedMedia
	case http.StatusTooManyRequests:
		return codeRateLimited
	case http.StatusServiceUnavailable:
		return snippets.Unavailable
	}
	if status >= 400 && status < 500 {
		return snippets.Invalid
	}
	return snippets.Internal
}
