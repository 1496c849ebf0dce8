package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/pyplay/pyplay/server/response"
)

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = response.ErrorHandler(s.log)
	e.IPExtractor = clientIPExtractor(s.cfg.TrustedProxies)
	e.Use(
		requestID(),
		accessLog(s.log),
		s.metrics.middleware,
		middleware.Recover(),
		securityHeaders(originHeaders{ResourcePolicy: "same-origin", ReferrerPolicy: "same-origin", CSP: s.playgroundCSP}),
	)

	get := func(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		e.Match([]string{http.MethodGet, http.MethodHead}, path, h, m...)
	}
	get("/", func(c echo.Context) error { return s.renderEditor(c, nil) })
	get("/embed/:id", s.snippets.embed, s.embedHeaders)
	get("/healthz", s.healthz)
	get("/baseline/pyodide", s.baselinePage)
	get("/metrics", s.metrics.handler())
	get("/favicon.svg", func(c echo.Context) error { return s.assets.serve(c, "favicon.svg", false) })
	get("/assets/*", func(c echo.Context) error {
		return s.assets.serve(c, "dist/assets/"+c.Param("*"), true)
	})
	get("/runtime/*", func(c echo.Context) error {
		return s.assets.serve(c, "dist/runtime/"+c.Param("*"), true)
	})
	s.snippets.routes(e)
	s.lab.Routes(e)
	return e
}

// healthz answers 200 when the server and its store work, 503 otherwise.
func (s *Server) healthz(c echo.Context) error {
	out := map[string]string{"status": "ok", "build": s.manifest.Load().Build}
	status := http.StatusOK
	if s.cfg.Store != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Store.Ping(ctx); err != nil {
			out["status"], out["store"] = "unavailable", strings.TrimSpace(err.Error())
			status = http.StatusServiceUnavailable
		} else {
			out["store"] = "ok"
		}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(status, out)
}
