package server

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pyplay/pyplay/server/frontend"
	"github.com/pyplay/pyplay/server/packages"
)

// openPackages sets up -packages once the runtime's files are known: a
// directory is checked (every file its lock lists that is there must match
// its sha256) and served from this origin with its lock merged into the
// runtime's; a mirror's URL goes to the worker as its package base (and
// into the CSP). The default directory may be missing: then there are no
// packages, as without the flag.
func (s *Server) openPackages() error {
	src := s.cfg.Packages
	info := s.manifest.Load().Runtimes["pyodide"]
	if info == nil || (src.Dir == "" && src.URL == nil) {
		return nil
	}
	if src.URL != nil {
		// The runtime's own lock lists every package of its version; the
		// mirror has their files.
		s.pkgInfo.Store(&frontend.Packages{Lock: info.Base + packages.LockFile, Base: src.URL.String()})
		s.log.Info("packages: from a mirror", "url", src.URL.String())
		s.manifest.Store(s.withPackages(s.manifest.Load()))
		return nil
	}
	if _, err := os.Stat(src.Dir); !src.Explicit && errors.Is(err, fs.ErrNotExist) {
		s.log.Debug("packages: none (the default directory does not exist)", "dir", src.Dir)
		return nil
	}
	rtLock, err := fs.ReadFile(s.static, "dist"+info.Base+packages.LockFile)
	if err != nil {
		return fmt.Errorf("packages: the runtime's lock file: %w", err)
	}
	start := time.Now()
	d, err := packages.Open(src.Dir, rtLock, info.Version)
	if err != nil {
		return err
	}
	s.dist = d
	s.pkgInfo.Store(&frontend.Packages{Lock: d.LockURL(), Base: d.Base()})
	s.manifest.Store(s.withPackages(s.manifest.Load()))
	s.log.Info("packages: serving a Pyodide distribution", "dir", src.Dir, "present", d.Present, "listed", d.Listed,
		"url", d.Base(), "verified_in", time.Since(start).Round(time.Millisecond))
	return nil
}

// withPackages is m with the Pyodide runtime's Packages set (a copy: the
// build's manifest is shared).
func (s *Server) withPackages(m *frontend.Manifest) *frontend.Manifest {
	p := s.pkgInfo.Load()
	if p == nil || m.Runtimes["pyodide"] == nil {
		return m
	}
	out := *m
	out.Runtimes = maps.Clone(m.Runtimes)
	py := *m.Runtimes["pyodide"]
	py.Packages = p
	out.Runtimes["pyodide"] = &py
	return &out
}

// packagesConnectSrc is what the CSP's connect-src adds for -packages: a
// mirror's origin, exactly.
func (s *Server) packagesConnectSrc() string {
	if o := s.cfg.Packages.Origin(); o != "" {
		return " " + o
	}
	return ""
}

// servePackage serves the distribution's files and merged lock, immutable
// (their URL holds the hash of the lock).
func (s *Server) servePackage(c echo.Context) error {
	if s.dist == nil {
		return notFound("this server has no Pyodide packages (see pyplay's -packages flag)")
	}
	req := c.Request()
	f, err := s.dist.Lookup(c.Param("*"), acceptedEncodings(req.Header.Get("Accept-Encoding"))["gzip"])
	switch {
	case errors.Is(err, packages.ErrAbsent):
		return notFound(strings.ReplaceAll(err.Error(), "server's -packages directory", "server's -packages directory (pyplay packages import adds it)"))
	case err != nil:
		return notFound("no such file")
	}
	defer f.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, f.ContentType)
	h.Add("Vary", "Accept-Encoding")
	if f.Gzip {
		h.Set(echo.HeaderContentEncoding, "gzip")
	}
	h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
	http.ServeContent(c.Response(), req, "", time.Time{}, f.Body)
	return nil
}
