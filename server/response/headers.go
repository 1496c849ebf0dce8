package response

import (
	"strconv"

	"github.com/labstack/echo/v4"
)

// NoStore keeps an answer out of every cache: it says what is stored now.
func NoStore(c echo.Context) { c.Response().Header().Set(echo.HeaderCacheControl, "no-store") }

// Attachment is the Content-Disposition that offers name as a download.
// Names are plain ASCII (downloadName, export names), so no RFC 8187
// encoding is needed.
func Attachment(name string) string {
	return "attachment; filename=" + strconv.Quote(name)
}
