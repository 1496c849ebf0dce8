package response

import (
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// RequireJSON checks a request's Content-Type header: application/json,
// with charset=utf-8 at most, since bodies are decoded as UTF-8 and nothing
// else. what names the body in the message ("the snippet").
func RequireJSON(header, what string) error {
	if header == "" {
		return Errorf(http.StatusUnsupportedMediaType, "Content-Type is missing; send %s as application/json", what)
	}
	mt, params, err := mime.ParseMediaType(header)
	if err != nil || mt != echo.MIMEApplicationJSON {
		return Errorf(http.StatusUnsupportedMediaType, "Content-Type is %q; send %s as application/json", Truncate(header, 100), what)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return Errorf(http.StatusUnsupportedMediaType, "charset %q is not supported; send UTF-8", Truncate(cs, 40))
	}
	return nil
}
