package bench

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/server/bench/hub"
	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
)

// WSConfig configures the benchmark WebSocket endpoint, GET /ws (protocol:
// docs/protocol.md). The zero value is the production setting.
type WSConfig struct {
	// Origins are the browser origins, besides the server's own, whose
	// pages may connect (e.g. "https://pyplay.example.com" behind a proxy
	// that rewrites Host). Connections without an Origin header come from
	// programs, not pages (pyplay bench-native), and are accepted.
	Origins []string
	// Limits are announced in welcome and enforced; zero fields are the
	// benchproto defaults.
	Limits benchproto.Limits
	// Client tunes each connection's timings and send buffer; zero fields
	// are the hub defaults. Tests shorten them.
	Client hub.Options
	// MaxBadMessages is how many rejected messages a connection may send
	// in a burst before it is closed with 1008 (policy violation); the
	// allowance refills by one every badMessageRefill. 0 means 10.
	MaxBadMessages int
	// HelloTimeout is how long a new connection has to say hello before
	// it is closed with 1008; 0 means DefaultHelloTimeout.
	HelloTimeout time.Duration
}

// DefaultHelloTimeout is WSConfig.HelloTimeout's default. Clients send
// hello as soon as the socket opens; a connection that stays silent, or
// only answers pings, holds a socket and a goroutine for nothing.
const DefaultHelloTimeout = 10 * time.Second

const (
	// storeTimeout bounds the store call made for one message, so a wedged
	// database answers "unavailable" instead of freezing the connection.
	storeTimeout = 10 * time.Second
	// badMessageRefill is how fast a connection earns back one rejected
	// message: a client with a rare mistake is never closed, a client
	// sending garbage in a loop is, after MaxBadMessages.
	badMessageRefill = 10 * time.Second
	defaultMaxBad    = 10
)

// serverName is "pyplay/VERSION" for welcome, from the build information.
var serverName = func() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "pyplay/" + v
}()

// upgrader upgrades /ws requests. Origins are checked before Upgrade, so
// that a refusal is the usual JSON error.
var upgrader = websocket.Upgrader{
	HandshakeTimeout: 10 * time.Second,
	CheckOrigin:      func(*http.Request) bool { return true },
}

// serveWS is GET /ws: one hub.Client and one benchproto.Session per
// connection, until either side closes.
func (l *Lab) serveWS(c echo.Context) error {
	r := c.Request()
	if !websocket.IsWebSocketUpgrade(r) {
		return snippets.Errorf(snippets.Invalid, "/ws is the benchmark WebSocket endpoint; connect with a WebSocket client (see docs/protocol.md)")
	}
	if !l.originAllowed(r) {
		return response.Errorf(http.StatusForbidden, "pages from %s may not connect to this server's WebSocket; add the origin to -ws-origins (PYPLAY_WS_ORIGINS) if it should", r.Header.Get("Origin"))
	}
	if l.cfg.Store == nil {
		return snippets.Errorf(snippets.Unavailable, "this server has no database, so it cannot store benchmarks")
	}
	if !l.enter() {
		return snippets.Errorf(snippets.Unavailable, "the server is shutting down; reconnect shortly")
	}
	defer l.leave()
	conn, err := upgrader.Upgrade(c.Response(), r, nil)
	if err != nil {
		return nil // Upgrade has answered the request
	}
	c.Response().Status = http.StatusSwitchingProtocols // for the access log
	w := l.newWSConn(conn, c.Response().Header().Get(echo.HeaderXRequestID), c.RealIP())
	err = w.client.Serve(l.ctx, w.handle)
	w.helloTimer.Stop()
	w.setRole("gone")
	w.log.Debug("websocket closed", "session", w.session.String(), "cause", err)
	return nil
}

// originAllowed accepts requests without Origin (programs), from the
// server's own origin (same host and port as the request), and from the
// configured origins.
func (l *Lab) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range l.cfg.WS.Origins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// wsConn is the server's side of one connection. Its handle method runs on
// the connection's read pump, one message at a time, so nothing in it needs
// a lock.
type wsConn struct {
	lab     *Lab
	client  *hub.Client
	session *benchproto.Session
	limits  benchproto.Limits
	batches *hub.Limiter // samples messages, the announced maxBatchesPerSecond
	control *hub.Limiter // run.start and run.end: the same budget, apart
	bad     *hub.Limiter // rejected messages
	// runs holds the runs the store accepted on this connection, which
	// this producer owns (ownership.go): samples and run.end are taken
	// only for those, so a refused run.start (another snippet's run ID,
	// another producer's run) cannot route samples anywhere.
	runs map[string]*ownedRun
	role string
	// remote is the client's address, for the application's per-client
	// limits (Guard).
	remote string
	// helloTimer closes the connection unless hello arrives in time;
	// helloed is set (on the read pump) when it did.
	helloTimer *time.Timer
	helloed    atomic.Bool
	log        *slog.Logger
}

func (l *Lab) newWSConn(conn *websocket.Conn, requestID, remote string) *wsConn {
	cfg := l.cfg.WS
	limits := cfg.Limits.WithDefaults()
	opts := cfg.Client
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = int64(limits.MaxMessageBytes)
	}
	maxBad := cfg.MaxBadMessages
	if maxBad <= 0 {
		maxBad = defaultMaxBad
	}
	rate := float64(limits.MaxBatchesPerSecond)
	w := &wsConn{
		lab:     l,
		client:  hub.NewClient(l.hub, conn, opts),
		session: benchproto.NewSession(limits),
		limits:  limits,
		batches: hub.NewLimiter(rate, 2*limits.MaxBatchesPerSecond),
		control: hub.NewLimiter(rate, 2*limits.MaxBatchesPerSecond),
		bad:     hub.NewLimiter(1/badMessageRefill.Seconds(), maxBad),
		runs:    map[string]*ownedRun{},
		role:    "gone", // not counted yet
		remote:  remote,
		log:     l.log.With("request_id", requestID, "remote", remote),
	}
	w.setRole("pending")
	wait := cmp.Or(cfg.HelloTimeout, DefaultHelloTimeout)
	w.helloTimer = time.AfterFunc(wait, func() {
		if !w.helloed.Load() {
			l.refused.WithLabelValues(refusedNoHello).Inc()
			w.client.Close(websocket.ClosePolicyViolation, fmt.Sprintf("no hello within %s", wait))
		}
	})
	return w
}

// setRole moves the connection between the gauge's roles.
func (w *wsConn) setRole(role string) {
	if w.role != "gone" {
		w.lab.m.conns.WithLabelValues(w.role).Dec()
	}
	if role != "gone" {
		w.lab.m.conns.WithLabelValues(role).Inc()
	}
	w.role = role
}

// handle answers one client message: decode, check against the session,
// act, then ack or error. Fan-out is published before the ack is queued:
// the hub keeps the order of operations, so whatever a producer does after
// an ack (reconnect, resend, end the run) reaches viewers after the
// message it acknowledges.
func (w *wsConn) handle(frame []byte) {
	m, err := benchproto.Decode(frame, w.limits)
	if err == nil {
		err = w.session.Accept(m)
	}
	if err == nil {
		w.lab.m.messages.WithLabelValues(m.Type).Inc()
		err = w.dispatch(m)
	}
	if err != nil {
		w.fail(err)
	}
}

func (w *wsConn) dispatch(m *benchproto.Message) error {
	switch p := m.Payload.(type) {
	case *benchproto.Hello:
		w.helloed.Store(true)
		w.helloTimer.Stop()
		w.setRole(string(p.Role))
		if p.Coalesce {
			// Before welcome is queued: welcome and everything after it
			// may share frames.
			w.client.Coalesce()
		}
		if p.Snippet != "" {
			w.client.Subscribe(benchproto.Topic(p.Snippet))
		}
		// The hub handles operations in order: the subscription is in
		// effect before the client reads welcome.
		w.send(benchproto.WelcomeMessage(serverName, w.limits))
		return nil
	case *benchproto.Subscription:
		// Not rate limited: it touches no database, a dashboard may follow
		// many snippets at once, and MaxSubscriptions bounds what it holds.
		if m.Type == benchproto.TypeSubscribe {
			w.client.Subscribe(benchproto.Topic(p.Snippet))
		} else {
			w.client.Unsubscribe(benchproto.Topic(p.Snippet))
		}
		w.send(benchproto.AckMessage(m.Seq, "", -1, false))
		return nil
	case *benchproto.RunStart:
		if !w.control.Allow() {
			return w.rateLimited(m, w.control)
		}
		return w.runStart(m.Seq, p)
	case *benchproto.SampleBatch:
		if w.runs[p.Run] == nil {
			return unannouncedRun(m.Seq, p.Run)
		}
		if !w.batches.Allow() {
			return w.rateLimited(m, w.batches)
		}
		return w.samples(m.Seq, p)
	case *benchproto.RunEnd:
		if w.runs[p.Run] == nil {
			return unannouncedRun(m.Seq, p.Run)
		}
		if !w.control.Allow() {
			return w.rateLimited(m, w.control)
		}
		return w.runEnd(m.Seq, p)
	}
	return &benchproto.ProtoError{Code: benchproto.CodeInternal, Message: "unexpected message", Ref: m.Seq}
}

func (w *wsConn) rateLimited(m *benchproto.Message, l *hub.Limiter) error {
	wait := max(l.RetryAfter(), time.Millisecond)
	return &benchproto.ProtoError{Code: benchproto.CodeRateLimited, Ref: m.Seq, RetryAfter: wait,
		Message: fmt.Sprintf("more than %d %s messages per second; this one was dropped, resend it in %d ms", w.limits.MaxBatchesPerSecond, m.Type, wait.Milliseconds())}
}

// runStart stores the run, or finds it when the producer resumes it,
// makes sure this producer owns it (ownership.go), and tells the snippet's
// viewers. A run that names an A/B benchmark is checked against it first
// (checkABLink). A resent run.start (after a reconnect) is acknowledged as
// a duplicate; viewers hear of the run again if it is still running, so
// that a dashboard that missed the first announcement (this server
// restarted in between) learns it. Viewers key runs by ID, so hearing
// twice is harmless.
func (w *wsConn) runStart(seq int64, p *benchproto.RunStart) error {
	ctx, cancel := liveContext()
	defer cancel()
	if p.Run.AB != nil {
		if err := w.lab.checkABLink(ctx, &p.Run); err != nil {
			return w.storeError(err, seq)
		}
	}
	token := p.Token
	if own := w.runs[p.Run.ID]; own != nil && token == "" {
		token = own.token // again on the connection that holds the run
	}
	token = cmp.Or(token, newToken())
	run, created, err := w.claimRun(ctx, seq, p, token)
	if err != nil {
		return err
	}
	w.runs[run.ID] = &ownedRun{id: run.ID, snippet: run.SnippetID, runtime: run.Runtime, token: token, samples: run.SampleCount}
	if created || run.Status == snippets.RunRunning {
		// Viewers learn the stored A/B link, which a resend may leave out.
		info := p.Run
		info.AB = run.AB
		w.publish(run.SnippetID, benchproto.RunStartedMessage(info, run.Created))
	}
	w.send(benchproto.RunStartAck(seq, p.Run.ID, token, !created))
	return nil
}

// samples stores a batch exactly once: a batch the store already holds is
// acknowledged as a duplicate and not published again. A batch that would
// take its run past MaxSamplesPerRun, or its client past its daily quota,
// is refused whole, and so is any while the disk is low.
func (w *wsConn) samples(seq int64, p *benchproto.SampleBatch) error {
	own := w.runs[p.Run]
	if err := w.checkRunSamples(seq, own, len(p.Samples)); err != nil {
		return err
	}
	if err := w.writable(seq); err != nil {
		return err
	}
	refund, err := w.reserve(seq, int64(len(p.Samples))*sampleCost)
	if err != nil {
		return err
	}
	ctx, cancel := liveContext()
	defer cancel()
	stored, err := w.lab.cfg.Store.AppendBatch(ctx, p.StoreBatch())
	w.noteWrite(err)
	if err != nil || !stored {
		refund()
	}
	if err != nil {
		return w.storeError(err, seq)
	}
	if stored {
		own.samples += len(p.Samples)
		w.lab.m.samples.Add(float64(len(p.Samples)))
		w.publish(own.snippet, benchproto.RunSamplesMessage(own.snippet, p))
	}
	w.send(benchproto.AckMessage(seq, p.Run, p.Batch, !stored))
	return nil
}

// runEnd records the run's final status. A resend is acknowledged and
// announced again; another status for a finished run is a conflict (the
// store keeps the first outcome).
func (w *wsConn) runEnd(seq int64, p *benchproto.RunEnd) error {
	snippet := w.runs[p.Run].snippet
	ctx, cancel := liveContext()
	defer cancel()
	err := w.lab.cfg.Store.FinishRun(ctx, p.Run, p.Status, p.Error)
	w.noteWrite(err)
	if err != nil {
		return w.storeError(err, seq)
	}
	w.publish(snippet, benchproto.RunEndedMessage(snippet, p, time.Now()))
	w.send(benchproto.AckMessage(seq, p.Run, -1, false))
	return nil
}

// storeError turns a store failure into the error frame, logging internal
// errors once (the client sees a generic message).
func (w *wsConn) storeError(err error, seq int64) error {
	if isDiskError(err) {
		w.lab.refused.WithLabelValues(refusedDisk).Inc()
		w.log.Warn("websocket: store out of disk space", "err", err)
		return diskError(err, seq)
	}
	pe := benchproto.FromStoreError(err, seq)
	switch pe.Code {
	case benchproto.CodeInternal:
		w.log.Error("websocket: store failed", "session", w.session.String(), "err", err)
	case benchproto.CodeUnavailable:
		w.log.Warn("websocket: store unavailable", "err", err)
	}
	return pe
}

// fail sends the error frame; a connection that keeps sending bad
// messages is closed with 1008. Failures that are the server's (the
// database is down, a bug) and rate limiting, which has its own answer, do
// not count against the client.
func (w *wsConn) fail(err error) {
	var pe *benchproto.ProtoError
	if !errors.As(err, &pe) {
		w.log.Error("websocket: unexpected error", "err", err)
		pe = &benchproto.ProtoError{Code: benchproto.CodeInternal, Message: "internal error"}
	}
	w.lab.m.errors.WithLabelValues(pe.Code).Inc()
	w.send(benchproto.ErrorMessage(pe))
	switch pe.Code {
	case benchproto.CodeUnavailable, benchproto.CodeInternal, benchproto.CodeRateLimited, benchproto.CodeOverQuota:
		return
	}
	if !w.bad.Allow() {
		w.log.Info("websocket: closing after repeated bad messages", "session", w.session.String(), "last", pe.Error())
		w.client.Close(websocket.ClosePolicyViolation, "too many bad messages: "+pe.Code)
	}
}

func (w *wsConn) send(m *benchproto.Message) {
	b, err := benchproto.Encode(m)
	if err != nil {
		w.log.Error("websocket: encode", "err", err)
		return
	}
	w.client.Send(b)
}

func (w *wsConn) publish(snippet string, m *benchproto.Message) {
	b, err := benchproto.Encode(m)
	if err != nil {
		w.log.Error("websocket: encode", "err", err)
		return
	}
	w.lab.publish(benchproto.Topic(snippet), b)
}

// unannouncedRun refuses samples or run.end for a run whose run.start this
// connection has not had acknowledged (the store may have refused it).
func unannouncedRun(ref int64, run string) error {
	return &benchproto.ProtoError{Code: benchproto.CodeNotAllowed, Ref: ref,
		Message: fmt.Sprintf("run.start for run %q was not acknowledged on this connection; send it again and wait for its ack", run)}
}
