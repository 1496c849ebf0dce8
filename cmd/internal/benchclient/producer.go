// Package benchclient is a Go client of the benchmark WebSocket protocol
// (docs/protocol.md): a Producer that streams runs and samples and loses
// nothing across reconnects, and a Viewer that follows snippets' runs.
// `pyplay bench-native`, the WebSocket load generator and the tests use it;
// the browser has its own in web/bench/stream.ts.
//
// A Producer keeps every message until the server acknowledges it. When
// the connection breaks it reconnects with capped exponential backoff,
// says hello, sends run.start again for each unfinished run (with the
// run's token from the first run.start's ack: a run belongs to the
// producer that started it), then the
// unacknowledged batches with their original numbers (the server stores
// each batch once and acknowledges a resent one as a duplicate), then
// run.end. It paces samples messages to the server's announced
// maxBatchesPerSecond and sizes batches to maxSamplesPerBatch.
package benchclient

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/snippets"
)

// Defaults of Config.
const (
	DefaultFlushInterval = 100 * time.Millisecond
	DefaultMinBackoff    = 100 * time.Millisecond
	DefaultMaxBackoff    = 5 * time.Second
	// retryDelay is how long a message the server could not take (its
	// database was down, or it was rate limited) waits before it is sent
	// again on the same connection.
	retryDelay = 500 * time.Millisecond
	writeWait  = 10 * time.Second
	// readWait is how long the connection may be silent: the server pings
	// every 54 s.
	readWait         = 70 * time.Second
	handshakeTimeout = 10 * time.Second
)

// Config says where and how to connect.
type Config struct {
	// URL is the server (http://host:port, https://…) or its WebSocket
	// endpoint (ws://host:port/ws).
	URL string
	// Client names the software in hello, e.g. "pyplay-bench-native/1".
	Client string
	// Origin, if set, is sent as the Origin header (the server refuses
	// foreign origins; programs normally send none).
	Origin string
	// FlushInterval is how long samples wait to be batched; 0 means
	// DefaultFlushInterval.
	FlushInterval time.Duration
	// MaxBatch caps samples per batch below the server's limit; 0 means
	// the server's maxSamplesPerBatch.
	MaxBatch int
	// MinBackoff and MaxBackoff bound the reconnect delay, which doubles
	// on each failed attempt (with jitter).
	MinBackoff, MaxBackoff time.Duration
	// OnSend, if set, is called (on the producer's goroutine) just before
	// a batch is written, first time or resent; the load generator
	// measures fan-out latency from it.
	OnSend func(run string, batch int)
	// OnAck, if set, is called (on the producer's goroutine) when a batch
	// is acknowledged.
	OnAck func(run string, batch int, duplicate bool)
	// Coalesce makes a Viewer ask for coalesced frames (hello's
	// "coalesce"): the server then sends the messages queued for it
	// together, as one frame holding a JSON array. Servers older than the
	// field refuse it (they decode hello strictly), so it is off unless
	// set. Producers ignore it.
	Coalesce bool
	// NetDialContext, if set, opens the TCP connections (e.g. from a
	// chosen local address, as the soak test plays many clients).
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	Logger         *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.FlushInterval <= 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Client == "" {
		c.Client = "pyplay-benchclient/1"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// wsURL turns a server URL (http://host/prefix) into its WebSocket
// endpoint (ws://host/prefix/ws); a ws:// or wss:// URL is taken as the
// endpoint itself.
func wsURL(u string) (string, error) {
	switch {
	case strings.HasPrefix(u, "ws://"), strings.HasPrefix(u, "wss://"):
		return u, nil
	case strings.HasPrefix(u, "http://"):
		u = "ws://" + strings.TrimPrefix(u, "http://")
	case strings.HasPrefix(u, "https://"):
		u = "wss://" + strings.TrimPrefix(u, "https://")
	default:
		return "", fmt.Errorf("benchclient: %q is not an http(s):// or ws(s):// URL", u)
	}
	return strings.TrimSuffix(u, "/") + "/ws", nil
}

// Stats counts what a Producer did.
type Stats struct {
	Batches    int // batches acknowledged
	Duplicates int // of which the server already had (resent after a lost ack)
	Samples    int // samples acknowledged
	Reconnects int // connections after the first
	Resent     int // batches sent more than once
}

// Producer streams runs to a server. Its methods are safe for concurrent
// use.
type Producer struct {
	cfg Config
	url string
	log *slog.Logger

	mu       sync.Mutex
	runs     []*Run // unfinished, in start order
	failures []error
	stats    Stats
	changed  chan struct{} // closed and replaced on every change, for Wait
	maxBatch int           // from welcome

	wake chan struct{} // capacity 1
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Run is one benchmark run being streamed.
type Run struct {
	p    *Producer
	info benchproto.RunInfo

	// Owned by p.mu.
	token     string // sent with every run.start: proves the run is ours after a reconnect
	nextSeq   int
	pending   []snippets.Sample // not yet cut into a batch
	nextBatch int
	batches   []*batch // cut and not yet acknowledged, in order
	end       *benchproto.RunEnd
	endAcked  bool
	failed    error
}

type batch struct {
	num     int
	samples []snippets.Sample
	sends   int
}

// NewProducer starts connecting to the server in the background.
func NewProducer(cfg Config) (*Producer, error) {
	cfg = cfg.withDefaults()
	u, err := wsURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	p := &Producer{
		cfg: cfg, url: u, log: cfg.Logger,
		changed: make(chan struct{}), maxBatch: benchproto.DefaultLimits.MaxSamplesPerBatch,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	if cfg.MaxBatch > 0 {
		p.maxBatch = min(p.maxBatch, cfg.MaxBatch)
	}
	go p.loop()
	return p, nil
}

// Start begins streaming a run. info.ID must be unique (a random token);
// it is what makes resending safe.
func (p *Producer) Start(info benchproto.RunInfo) *Run {
	// The token is made up here rather than taken from the first ack, so
	// that a run whose first ack is lost can still be resumed.
	r := &Run{p: p, info: info, token: newToken()}
	p.mu.Lock()
	p.runs = append(p.runs, r)
	p.mu.Unlock()
	p.poke()
	return r
}

// newToken returns a run token: 256 random bits, base64url.
func newToken() string {
	b := make([]byte, 32)
	crand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// ID returns the run's ID.
func (r *Run) ID() string { return r.info.ID }

// Add queues samples; their Seq is assigned in order from 0. They are sent
// in batches every FlushInterval, or at once when a batch is full.
func (r *Run) Add(samples ...snippets.Sample) {
	p := r.p
	p.mu.Lock()
	full := false
	for _, s := range samples {
		s.Seq = r.nextSeq
		r.nextSeq++
		r.pending = append(r.pending, s)
		if len(r.pending) >= p.maxBatch {
			r.cut(p.maxBatch)
			full = true
		}
	}
	p.mu.Unlock()
	if full {
		p.poke()
	}
}

// End finishes the run with status done, failed or stopped once every
// sample is sent.
func (r *Run) End(status, errText string) {
	p := r.p
	p.mu.Lock()
	r.cut(p.maxBatch)
	r.end = &benchproto.RunEnd{Run: r.info.ID, Status: status, Error: errText}
	p.mu.Unlock()
	p.poke()
}

// cut moves pending samples into batches of at most size. p.mu is held.
func (r *Run) cut(size int) {
	for len(r.pending) > 0 {
		n := min(len(r.pending), size)
		r.batches = append(r.batches, &batch{num: r.nextBatch, samples: r.pending[:n:n]})
		r.nextBatch++
		r.pending = r.pending[n:]
	}
	r.pending = nil
}

func (p *Producer) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// notify wakes Wait. p.mu is held.
func (p *Producer) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Wait blocks until every started run has ended and everything is
// acknowledged, or ctx is done. It returns the runs' failures (a message
// the server refused for good), joined.
func (p *Producer) Wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		n, ch, err := len(p.runs), p.changed, errors.Join(p.failures...)
		p.mu.Unlock()
		if n == 0 {
			return err
		}
		select {
		case <-ch:
		case <-p.done:
			return errors.Join(err, errors.New("benchclient: producer closed with runs unfinished"))
		case <-ctx.Done():
			return errors.Join(err, fmt.Errorf("benchclient: %d runs not acknowledged: %w", n, ctx.Err()))
		}
	}
}

// Stats returns what the producer did so far.
func (p *Producer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close stops the producer, dropping whatever is not acknowledged; call
// Wait first to finish.
func (p *Producer) Close() error {
	p.once.Do(func() { close(p.stop) })
	<-p.done
	return nil
}

// errFatal marks connection errors not worth retrying (an origin refused,
// a protocol version mismatch).
type errFatal struct{ err error }

func (e errFatal) Error() string { return e.err.Error() }

func (p *Producer) loop() {
	defer close(p.done)
	backoff := p.cfg.MinBackoff
	for attempt := 0; ; attempt++ {
		conn, welcome, err := p.connect()
		if err == nil {
			if attempt > 0 {
				p.mu.Lock()
				p.stats.Reconnects++
				p.mu.Unlock()
			}
			backoff = p.cfg.MinBackoff
			err = p.serve(conn, welcome)
			conn.Close()
			if err == nil {
				return // stopped
			}
			p.log.Info("benchclient: connection lost; reconnecting", "err", err)
		} else {
			var fatal errFatal
			if errors.As(err, &fatal) {
				p.mu.Lock()
				p.failures = append(p.failures, fatal.err)
				for _, r := range p.runs {
					r.failed = fatal.err
				}
				p.runs = nil
				p.notify()
				p.mu.Unlock()
				<-p.stop
				return
			}
			p.log.Debug("benchclient: connect failed", "err", err, "retry_in", backoff)
		}
		// Full jitter in [backoff/2, backoff], so that many producers
		// dropped together do not come back together.
		d := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
		select {
		case <-p.stop:
			return
		case <-time.After(d):
		}
		backoff = min(2*backoff, p.cfg.MaxBackoff)
	}
}

// connect dials and says hello; it returns the welcome.
func (p *Producer) connect() (*websocket.Conn, *benchproto.Welcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	conn, err := dial(ctx, p.url, p.cfg)
	if err != nil {
		return nil, nil, err
	}
	hello := &benchproto.Message{V: benchproto.Version, Type: benchproto.TypeHello, Seq: 1,
		Payload: &benchproto.Hello{Role: benchproto.Producer, Client: p.cfg.Client}}
	if err := writeMessage(conn, hello); err != nil {
		conn.Close()
		return nil, nil, err
	}
	conn.SetReadDeadline(time.Now().Add(handshakeTimeout))
	m, err := readMessage(conn)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	switch pl := m.Payload.(type) {
	case *benchproto.Welcome:
		return conn, pl, nil
	case *benchproto.ErrorInfo:
		conn.Close()
		return nil, nil, errFatal{fmt.Errorf("benchclient: the server refused hello: %s: %s", pl.Code, pl.Message)}
	}
	conn.Close()
	return nil, nil, fmt.Errorf("benchclient: expected welcome, got %s", m.Type)
}

// dial opens a WebSocket; a refusal with a 4xx status (other than 429) is
// fatal, since retrying cannot help.
func dial(ctx context.Context, url string, cfg Config) (*websocket.Conn, error) {
	h := http.Header{}
	if cfg.Origin != "" {
		h.Set("Origin", cfg.Origin)
	}
	d := websocket.Dialer{HandshakeTimeout: handshakeTimeout, Proxy: http.ProxyFromEnvironment, NetDialContext: cfg.NetDialContext}
	conn, resp, err := d.DialContext(ctx, url, h)
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return nil, errFatal{fmt.Errorf("benchclient: %s refused the connection: %s", url, resp.Status)}
		}
		return nil, fmt.Errorf("benchclient: dial %s: %w", url, err)
	}
	return conn, nil
}

func writeMessage(conn *websocket.Conn, m *benchproto.Message) error {
	b, err := benchproto.Encode(m)
	if err != nil {
		return err
	}
	conn.SetWriteDeadline(time.Now().Add(writeWait))
	return conn.WriteMessage(websocket.TextMessage, b)
}

// readMessage reads the next server message, skipping types this client
// does not know.
func readMessage(conn *websocket.Conn) (*benchproto.Message, error) {
	return nextKnown(func() ([]byte, error) {
		_, data, err := conn.ReadMessage()
		return data, err
	})
}

// nextKnown decodes the messages next returns until one is of a type this
// client knows (the protocol lets servers add types) or an error comes.
func nextKnown(next func() ([]byte, error)) (*benchproto.Message, error) {
	for {
		data, err := next()
		if err != nil {
			return nil, err
		}
		m, err := benchproto.DecodeServer(data)
		var pe *benchproto.ProtoError
		if errors.As(err, &pe) && pe.Code == benchproto.CodeUnknownType {
			continue
		}
		return m, err
	}
}

// item is a message in flight on one connection, by its seq.
type item struct {
	kind string // run.start, samples, run.end
	run  *Run
	b    *batch
}

// connState is what one connection knows; a new connection starts afresh
// and sends everything unacknowledged again.
type connState struct {
	conn     *websocket.Conn
	seq      int64
	inflight map[int64]item
	started  map[*Run]bool // run.start acknowledged on this connection
	sent     map[any]bool  // *Run (its run.start), *batch, *benchproto.RunEnd sent on this connection
	limiter  *rate.Limiter
	retryAt  time.Time
}

// serve runs one connection until it breaks (the error) or the producer
// stops (nil).
func (p *Producer) serve(conn *websocket.Conn, w *benchproto.Welcome) error {
	cs := &connState{conn: conn, seq: 1, inflight: map[int64]item{}, started: map[*Run]bool{}, sent: map[any]bool{}}
	lim := w.Limits.WithDefaults()
	cs.limiter = rate.NewLimiter(rate.Limit(lim.MaxBatchesPerSecond), lim.MaxBatchesPerSecond)
	p.mu.Lock()
	p.maxBatch = lim.MaxSamplesPerBatch
	if p.cfg.MaxBatch > 0 {
		p.maxBatch = min(p.maxBatch, p.cfg.MaxBatch)
	}
	p.mu.Unlock()

	in := make(chan *benchproto.Message, 64)
	readErr := make(chan error, 1)
	quit := make(chan struct{})
	defer close(quit) // the reader ends too: the caller closes conn
	conn.SetPingHandler(func(data string) error {
		conn.SetReadDeadline(time.Now().Add(readWait))
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
	})
	go func() {
		for {
			conn.SetReadDeadline(time.Now().Add(readWait))
			m, err := readMessage(conn)
			if err != nil {
				readErr <- err
				return
			}
			select {
			case in <- m:
			case <-quit:
				return
			}
		}
	}()

	flush := time.NewTicker(p.cfg.FlushInterval)
	defer flush.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next, err := p.pump(cs)
		if err != nil {
			return err
		}
		if next > 0 {
			timer.Reset(next)
		}
		select {
		case <-p.stop:
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			return nil
		case err := <-readErr:
			return err
		case m := <-in:
			p.handle(cs, m)
		case <-flush.C:
			p.mu.Lock()
			for _, r := range p.runs {
				r.cut(p.maxBatch)
			}
			p.mu.Unlock()
		case <-p.wake:
		case <-timer.C:
		}
	}
}

// pump sends what may be sent now: run.start for runs not yet started on
// this connection, then each started run's unsent batches in order (paced
// by the rate limit), then run.end once everything before it is sent. It
// returns how long until it should look again (0: when something happens).
func (p *Producer) pump(cs *connState) (time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var next time.Duration
	later := func(d time.Duration) {
		if next == 0 || d < next {
			next = max(d, time.Millisecond)
		}
	}
	if wait := time.Until(cs.retryAt); wait > 0 {
		return wait, nil
	}
	for _, r := range p.runs {
		if !cs.sent[r] {
			start := &benchproto.RunStart{Run: r.info, Token: r.token}
			if err := p.send(cs, benchproto.TypeRunStart, start, item{kind: benchproto.TypeRunStart, run: r}); err != nil {
				return 0, err
			}
			cs.sent[r] = true
			continue
		}
		if !cs.started[r] {
			continue
		}
		all := true
		for _, b := range r.batches {
			if cs.sent[b] {
				continue
			}
			res := cs.limiter.Reserve()
			if d := res.Delay(); d > 0 {
				res.Cancel()
				later(d)
				all = false
				break
			}
			pl := &benchproto.SampleBatch{Run: r.info.ID, Batch: b.num, Samples: b.samples}
			if p.cfg.OnSend != nil {
				p.cfg.OnSend(r.info.ID, b.num)
			}
			if err := p.send(cs, benchproto.TypeSamples, pl, item{kind: benchproto.TypeSamples, run: r, b: b}); err != nil {
				return 0, err
			}
			cs.sent[b] = true
			b.sends++
			if b.sends == 2 {
				p.stats.Resent++
			}
		}
		if all && r.end != nil && !r.endAcked && len(r.pending) == 0 && !cs.sent[r.end] {
			if err := p.send(cs, benchproto.TypeRunEnd, r.end, item{kind: benchproto.TypeRunEnd, run: r}); err != nil {
				return 0, err
			}
			cs.sent[r.end] = true
		}
	}
	return next, nil
}

// send writes one message. p.mu is held: writes are short (bounded by
// writeWait) and only this goroutine writes.
func (p *Producer) send(cs *connState, typ string, payload any, it item) error {
	cs.seq++
	cs.inflight[cs.seq] = it
	return writeMessage(cs.conn, &benchproto.Message{V: benchproto.Version, Type: typ, Seq: cs.seq, Payload: payload})
}

// handle applies an ack or error from the server.
func (p *Producer) handle(cs *connState, m *benchproto.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch pl := m.Payload.(type) {
	case *benchproto.Ack:
		it, ok := cs.inflight[pl.Ack]
		if !ok {
			return
		}
		delete(cs.inflight, pl.Ack)
		r := it.run
		switch it.kind {
		case benchproto.TypeRunStart:
			cs.started[r] = true
		case benchproto.TypeSamples:
			p.stats.Batches++
			p.stats.Samples += len(it.b.samples)
			if pl.Duplicate {
				p.stats.Duplicates++
			}
			if p.cfg.OnAck != nil {
				p.cfg.OnAck(r.info.ID, it.b.num, pl.Duplicate)
			}
			for i, b := range r.batches {
				if b == it.b {
					r.batches = append(r.batches[:i], r.batches[i+1:]...)
					break
				}
			}
		case benchproto.TypeRunEnd:
			r.endAcked = true
		}
		p.finishIfDone(r)
	case *benchproto.ErrorInfo:
		it, ok := cs.inflight[pl.Ref]
		if !ok {
			p.log.Warn("benchclient: server error", "code", pl.Code, "message", pl.Message)
			return
		}
		delete(cs.inflight, pl.Ref)
		switch pl.Code {
		case benchproto.CodeRateLimited, benchproto.CodeUnavailable, benchproto.CodeInternal:
			// Send it again after a pause (the server's, when it says), on
			// this connection.
			p.unsend(cs, it)
			cs.retryAt = time.Now().Add(max(retryDelay, time.Duration(pl.RetryAfterMs)*time.Millisecond))
		default:
			err := fmt.Errorf("benchclient: run %s: the server refused %s: %s: %s", it.run.info.ID, it.kind, pl.Code, pl.Message)
			p.log.Warn(err.Error())
			it.run.failed = err
			p.failures = append(p.failures, err)
			p.finishIfDone(it.run)
		}
	}
}

// unsend marks a message to be sent again on this connection.
func (p *Producer) unsend(cs *connState, it item) {
	switch it.kind {
	case benchproto.TypeRunStart:
		delete(cs.sent, it.run)
	case benchproto.TypeSamples:
		delete(cs.sent, it.b)
	case benchproto.TypeRunEnd:
		delete(cs.sent, it.run.end)
	}
}

// finishIfDone forgets a run that has failed, or ended with everything
// acknowledged. p.mu is held.
func (p *Producer) finishIfDone(r *Run) {
	if r.failed == nil && !(r.endAcked && len(r.batches) == 0 && len(r.pending) == 0) {
		return
	}
	for i, x := range p.runs {
		if x == r {
			p.runs = append(p.runs[:i], p.runs[i+1:]...)
			break
		}
	}
	p.notify()
}
