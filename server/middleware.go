package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pyplay/pyplay/server/response"
)

// contentSecurityPolicy allows only same-origin scripts, plus compiling
// WebAssembly (Pyodide, MicroPython). Styles may be inline because
// CodeMirror injects its theme at run time. The first %s adds to
// connect-src (a -packages mirror's origin, with a leading space, or
// nothing), the second is frame-src (the preview origin), the third
// frame-ancestors (who may frame the page: nobody, except for /embed/{id}).
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
	"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'%s; " +
	"worker-src 'self' blob:; frame-src %s; frame-ancestors %s; base-uri 'none'; form-action 'self'; object-src 'none'"

// originHeaders are the header values in which the playground's origin and
// the preview origin differ on purpose.
type originHeaders struct {
	// ResourcePolicy (Cross-Origin-Resource-Policy): who may embed the
	// origin's responses. The playground: itself only; the preview: the same
	// site, so that the playground can frame it.
	ResourcePolicy string
	// ReferrerPolicy: the playground names itself to itself; previews,
	// which run user pages, name nobody.
	ReferrerPolicy string
	// CSP returns the Content-Security-Policy of a response.
	CSP func(echo.Context) string
}

// securityHeaders sets the cross-origin isolation headers (without them
// there is no SharedArrayBuffer: no Stop, no blocking input(), coarse
// timers) and the usual hardening on every response of an origin.
func securityHeaders(o originHeaders) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Cross-Origin-Embedder-Policy", "require-corp")
			h.Set("Cross-Origin-Resource-Policy", o.ResourcePolicy)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", o.ReferrerPolicy)
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", o.CSP(c))
			return next(c)
		}
	}
}

// allowFraming lets the pages that csp's frame-ancestors names show a
// response in a frame, the one exception to securityHeaders' DENY:
// X-Frame-Options goes (it can only say DENY or SAMEORIGIN), and CORP
// becomes cross-origin, because a parent under COEP require-corp may load
// a frame from another origin only then (Chromium refuses same-site even
// for the same host on another port). COOP and COEP stay: the frame is
// cross-origin isolated when its parent is and grants it
// (allow="cross-origin-isolated").
func allowFraming(h http.Header, csp string) {
	h.Del("X-Frame-Options")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Content-Security-Policy", csp)
}

// requestID gives every request an ID (or keeps a sane incoming one), sent
// back in X-Request-Id and attached to log lines.
func requestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := c.Request().Header.Get(echo.HeaderXRequestID)
			if len(id) == 0 || len(id) > 64 {
				var b [8]byte
				rand.Read(b[:])
				id = hex.EncodeToString(b[:])
			}
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			return next(c)
		}
	}
}

// Caps on what a log line repeats of a request. The method, path and
// headers are the client's to choose (Go accepts a method or path as long
// as the header limit), and a log line must not be.
const (
	logMethodMax    = 16
	logPathMax      = 256
	logUserAgentMax = 160
)

// accessLog logs each request once, at debug level for assets.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			req, res := c.Request(), c.Response()
			level := slog.LevelInfo
			if p := c.Path(); p == "/assets/*" || p == "/runtime/*" || p == "/wasm/*" || p == "/healthz" || p == "/metrics" {
				level = slog.LevelDebug
			}
			log.Log(req.Context(), level, "http",
				"request_id", res.Header().Get(echo.HeaderXRequestID),
				"method", response.Truncate(req.Method, logMethodMax), "path", response.Truncate(req.URL.Path, logPathMax), "status", res.Status,
				"bytes", res.Size, "duration", time.Since(start), "remote", c.RealIP(),
				"user_agent", response.Truncate(req.UserAgent(), logUserAgentMax))
			return nil
		}
	}
}
