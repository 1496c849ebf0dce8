package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// A client that sends its request or reads its response very slowly, or
// not at all, holds a connection, a goroutine and the response's memory
// for as long as the server lets it. http.Server's ReadTimeout and
// WriteTimeout would bound that, but with one fixed total for every
// request: too short for a large runtime file on a poor link, far too long
// for an attacker, and fatal to WebSockets, which must stay open. Instead
// every request body and every response (WebSockets aside) must make
// progress: progressChunk bytes in every SlowClientTimeout. A live client
// on a slow link does; one that stalls is cut.

// DefaultSlowClientTimeout is Config.SlowClientTimeout's default: a client
// must send or receive 32 KiB every 30 seconds (about 1 KiB/s, slower than
// any link a browser can load the playground over).
const DefaultSlowClientTimeout = 30 * time.Second

// progressChunk is how much a slow client must move per SlowClientTimeout.
const progressChunk = 32 << 10

// guard applies the slow-client deadlines (and the request body limit) to
// every request h serves.
func (s *Server) guard(h http.Handler) http.Handler {
	timeout := s.cfg.SlowClientTimeout
	if timeout <= 0 {
		timeout = DefaultSlowClientTimeout
	}
	maxBody := s.cfg.Snippets.Limits.WithDefaults().MaxBody() // the largest body any route reads
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		dw := &deadlineWriter{ResponseWriter: w, rc: rc, timeout: timeout}
		dw.extend()
		if r.Body != nil && r.Body != http.NoBody {
			// Only with a body: without one, the server is already reading
			// ahead for the next request, and a deadline would end that.
			_ = rc.SetReadDeadline(time.Now().Add(timeout))
			// The handler gets a copy of the request: the server looks at
			// its own request's body after the handler, to decide whether
			// what is left of it is worth reading.
			body := &deadlineBody{ReadCloser: http.MaxBytesReader(w, r.Body, maxBody), rc: rc, timeout: timeout}
			r = r.WithContext(r.Context())
			r.Body = body
		}
		h.ServeHTTP(dw, r)
		// What is still buffered goes out after the handler returns, by
		// the same rule.
		dw.extend()
	})
}

// deadlineWriter gives each progressChunk of a response SlowClientTimeout
// to reach the client's socket. It hides io.ReaderFrom on purpose, so that
// copies come through Write, chunk by chunk.
type deadlineWriter struct {
	http.ResponseWriter
	rc       *http.ResponseController
	timeout  time.Duration
	hijacked bool
}

func (w *deadlineWriter) extend() {
	if !w.hijacked {
		// Best effort: a recorder in tests cannot set deadlines.
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	}
}

func (w *deadlineWriter) WriteHeader(status int) {
	w.extend()
	w.ResponseWriter.WriteHeader(status)
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), progressChunk)]
		w.extend()
		n, err := w.ResponseWriter.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// FlushError is what http.ResponseController.Flush calls.
func (w *deadlineWriter) FlushError() error {
	w.extend()
	return w.rc.Flush()
}

// Flush implements http.Flusher.
func (w *deadlineWriter) Flush() { _ = w.FlushError() }

// Hijack hands the connection over (a WebSocket) without the response's
// deadlines: its new owner sets its own.
func (w *deadlineWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := w.rc.Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.hijacked = true
	if err := conn.SetDeadline(time.Time{}); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, brw, nil
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// deadlineBody gives each progressChunk of a request body SlowClientTimeout
// to arrive. Once the body is read, the connection is the server's again:
// it reads ahead for the next request without a deadline of ours.
type deadlineBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	moved   int // bytes since the deadline was last extended
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.moved += n; b.moved >= progressChunk {
		b.moved = 0
		_ = b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	}
	if err == io.EOF {
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// clearWriteDeadline is http.Server.ConnState: a connection waiting for its
// next request keeps no write deadline of the last response, which the
// server's own answers (431, 400) would otherwise run into.
func clearWriteDeadline(c net.Conn, state http.ConnState) {
	if state == http.StateIdle {
		_ = c.SetWriteDeadline(time.Time{})
	}
}

// shutdown drains srv until ctx is done, then cuts the connections still
// open: requests that did not finish within the grace period, which after
// the deadlines above means clients that stalled. Cutting them is how a
// graceful shutdown ends, not a failure, so that returns nil.
func (s *Server) shutdown(ctx context.Context, srv *http.Server, what string) error {
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
		return err
	}
	s.log.Warn("shutdown: cutting connections still open after the grace period", "listener", what)
	srv.Close() // its error is the listener's, closed already by Shutdown
	return nil
}
