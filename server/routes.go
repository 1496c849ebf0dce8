package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/pyplay/pyplay/server/packages"
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
	get("/favicon.svg", func(c echo.Context) error { return s.assets.serve(c, "favicon.svg", false) })
	get("/assets/*", func(c echo.Context) error {
		return s.assets.serve(c, "dist/assets/"+c.Param("*"), true)
	})
	get(packages.PathPrefix+"*", s.servePackage) // -packages (packages.go)
	get("/runtime/*", func(c echo.Context) error {
		return s.assets.serve(c, "dist/runtime/"+c.Param("*"), true)
	})
	// The reference suite's kernels compiled to WebAssembly (issue 15).
	get("/wasm/*", func(c echo.Context) error { return s.assets.serve(c, "dist/wasm/"+c.Param("*"), false) })
	s.snippets.routes(e)
	s.lab.Routes(e)
	return e
}

// healthz answers 200 when the server and its store work, 503 otherwise:
// when the store does not answer, or cannot take writes (disk full, or
// below the free-disk floor). The answer is public, so it says what is
// wrong in a word or two; the detail (a PostgreSQL error names the host,
// user and database) goes to the log, once per change.
func (s *Server) healthz(c echo.Context) error {
	out := map[string]string{"status": "ok", "build": s.manifest.Load().Build}
	status := http.StatusOK
	if s.cfg.Store != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		err := s.cfg.Store.Ping(ctx)
		if s.storeDown.Swap(err != nil) != (err != nil) {
			if err != nil {
				s.log.Warn("health: the store does not answer", "err", err)
			} else {
				s.log.Info("health: the store answers again")
			}
		}
		switch why := s.storage.state(time.Now()); {
		case err != nil:
			out["status"], out["store"] = "unavailable", "unavailable"
			status = http.StatusServiceUnavailable
		case why != "":
			// Reads still work; writes do not.
			out["status"], out["store"] = "unavailable", why
			status = http.StatusServiceUnavailable
		default:
			out["store"] = "ok"
		}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(status, out)
}
