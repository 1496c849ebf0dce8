package bench

// Servers sharing one PostgreSQL database share live streams: every fan-out
// message a server publishes to its own hub is also sent with NOTIFY on one
// channel, and every server LISTENs on that channel and publishes what the
// others sent to its hub. A dashboard on server A thus sees samples that a
// browser streamed to server B, typically a millisecond or two later.
//
// PostgreSQL limits a NOTIFY payload to 8000 bytes, while a samples message
// may be 64 KiB. Of the two ways around it — notify a small pointer
// {run, batch} and have every receiver load the batch back from the
// database, or cut the message into chunks — pyplay chunks:
//
//   - receivers run no query per message: with pointers, every server
//     would read every batch back, N servers making N reads per write;
//   - the bytes viewers get are those the storing server encoded, so every
//     server sends exactly the same messages;
//   - PostgreSQL delivers the notifications of one transaction together,
//     in the order they were sent, never interleaved with another
//     transaction's (commits of notifying transactions are serialised), so
//     the chunks of a message, sent in one transaction, reassemble without
//     timeouts or reordering.
//
// Most messages fit in one notification anyway: the browser harness sends
// a batch every ~100 ms, a few dozen samples.
//
// Each server tags its notifications with a random origin and ignores its
// own when they come back, so nothing is delivered twice. Notifications
// sent while a server's LISTEN connection is down are lost for that
// server's viewers (they are live views; the data is in the database, and a
// dashboard reloads it); the relay reconnects by itself and logs the gap.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pyplay/pyplay/server/bench/hub"
)

const (
	// liveChannel is the NOTIFY channel every server listens on.
	liveChannel = "pyplay_live"
	// notifyMax bounds one notification's payload, below PostgreSQL's
	// 8000-byte limit.
	notifyMax = 7900
	// maxChunks bounds a reassembled message: 64 KiB (the largest frame
	// a producer may send, re-encoded a little larger) needs 9.
	maxChunks = 32
	// relayQueue is how many messages may wait for NOTIFY; beyond it they
	// are dropped for other servers (local viewers have them already).
	relayQueue = 4096
	// relayBatch bounds the notifications sent in one statement.
	relayBatch = 256
	// relayTimeout bounds one NOTIFY statement and one LISTEN attempt.
	relayTimeout = 5 * time.Second
)

// pgRelay carries fan-out messages between servers through NOTIFY.
type pgRelay struct {
	pool   *pgxpool.Pool
	hub    *hub.Hub
	log    *slog.Logger
	m      *liveMetrics
	origin string // this server's tag, random per process
	nextID atomic.Uint64
	out    chan []string // the notifications of one message each
	first  *pgx.Conn     // LISTENing since newPGRelay, handed to run
}

// newPGRelay starts LISTENing before it returns, so that a server that
// accepts connections also receives what the other servers publish. If the
// database does not answer, run keeps trying.
func newPGRelay(ctx context.Context, pool *pgxpool.Pool, h *hub.Hub, log *slog.Logger, m *liveMetrics) (*pgRelay, error) {
	var tag [8]byte
	if _, err := rand.Read(tag[:]); err != nil {
		return nil, fmt.Errorf("live relay: origin: %w", err)
	}
	r := &pgRelay{pool: pool, hub: h, log: log, m: m, origin: hex.EncodeToString(tag[:]), out: make(chan []string, relayQueue)}
	conn, err := r.listen(ctx)
	if err != nil {
		log.Warn("live relay: cannot LISTEN yet; retrying in the background", "err", err)
	}
	r.first = conn
	return r, nil
}

// run sends and receives until ctx is done.
func (r *pgRelay) run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.send(ctx)
	}()
	r.receiveLoop(ctx)
	<-done
}

// publish queues msg for the other servers without waiting.
func (r *pgRelay) publish(topic string, msg []byte) {
	select {
	case r.out <- r.encode(topic, msg):
	default:
		r.m.relay.WithLabelValues("dropped").Inc()
	}
}

// encode cuts msg into notifications "origin id index count topic\nchunk".
func (r *pgRelay) encode(topic string, msg []byte) []string {
	id := r.nextID.Add(1)
	chunks := chunk(msg, notifyMax-len(topic)-64)
	notes := make([]string, len(chunks))
	for i, c := range chunks {
		notes[i] = fmt.Sprintf("%s %d %d %d %s\n%s", r.origin, id, i, len(chunks), topic, c)
	}
	return notes
}

// chunk cuts msg into pieces of at most room bytes, never inside a UTF-8
// sequence: a payload is text and must stay valid in the database's
// encoding.
func chunk(msg []byte, room int) [][]byte {
	var out [][]byte
	for len(msg) > room {
		cut := room
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		if cut == 0 { // room is smaller than one character: take it whole
			for cut = room; cut < len(msg) && !utf8.RuneStart(msg[cut]); cut++ {
			}
		}
		out = append(out, msg[:cut])
		msg = msg[cut:]
	}
	return append(out, msg)
}

// send issues the queued notifications, everything queued at the time in
// one statement (one transaction), so the chunks of a message stay
// together and a burst costs one round trip.
func (r *pgRelay) send(ctx context.Context) {
	failing := false
	for {
		var batch []string
		select {
		case <-ctx.Done():
			return
		case notes := <-r.out:
			batch = notes
		}
		msgs := 1
	drain:
		for len(batch) < relayBatch {
			select {
			case notes := <-r.out:
				batch = append(batch, notes...)
				msgs++
			default:
				break drain
			}
		}
		sctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
		_, err := r.pool.Exec(sctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, liveChannel, batch)
		cancel()
		if err != nil {
			r.m.relay.WithLabelValues("dropped").Add(float64(msgs))
			if !failing {
				r.log.Warn("live relay: NOTIFY failed; other servers' viewers miss messages until the database answers", "err", err)
			}
			failing = true
			continue
		}
		if failing {
			r.log.Info("live relay: NOTIFY works again")
		}
		failing = false
		r.m.relay.WithLabelValues("sent").Add(float64(msgs))
	}
}

// listen takes a connection out of the pool for good and LISTENs on it.
func (r *pgRelay) listen(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, relayTimeout)
	defer cancel()
	pc, err := r.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	conn := pc.Hijack()
	if _, err := conn.Exec(ctx, "LISTEN "+liveChannel); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// receiveLoop keeps a LISTEN connection and publishes what arrives on it,
// reconnecting with a capped backoff when it breaks.
func (r *pgRelay) receiveLoop(ctx context.Context) {
	conn := r.first
	r.first = nil
	backoff := 100 * time.Millisecond
	down := conn == nil
	for {
		if conn == nil {
			var err error
			if conn, err = r.listen(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			if down {
				r.log.Info("live relay: listening")
			}
			down, backoff = false, 100*time.Millisecond
		}
		err := r.receive(ctx, conn)
		conn.Close(context.Background())
		conn = nil
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("live relay: lost the LISTEN connection; this server's viewers miss other servers' messages until it is back", "err", err)
		down = true
	}
}

// partial is a message whose chunks are arriving.
type partial struct {
	id     string
	count  int
	topic  string
	chunks [][]byte
}

func (r *pgRelay) receive(ctx context.Context, conn *pgx.Conn) error {
	parts := map[string]*partial{} // by origin
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		r.handle(n.Payload, parts)
	}
}

// handle publishes one notification's message, or keeps its chunk until
// the message is complete.
func (r *pgRelay) handle(payload string, parts map[string]*partial) {
	header, body, ok := strings.Cut(payload, "\n")
	f := strings.SplitN(header, " ", 5)
	if !ok || len(f) != 5 {
		r.log.Warn("live relay: malformed notification", "header", header)
		return
	}
	origin, id, topic := f[0], f[1], f[4]
	if origin == r.origin {
		return // our own, delivered locally already
	}
	i, err1 := strconv.Atoi(f[2])
	count, err2 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil || count < 1 || count > maxChunks || i < 0 || i >= count {
		r.log.Warn("live relay: malformed notification", "header", header)
		return
	}
	if count == 1 {
		r.deliver(topic, []byte(body))
		return
	}
	p := parts[origin]
	if i == 0 {
		p = &partial{id: id, count: count, topic: topic}
		parts[origin] = p
	}
	if p == nil || p.id != id || p.count != count || len(p.chunks) != i {
		// Cannot happen while PostgreSQL keeps a transaction's
		// notifications together; if it does, drop rather than garble.
		delete(parts, origin)
		r.m.relay.WithLabelValues("dropped").Inc()
		return
	}
	p.chunks = append(p.chunks, []byte(body))
	if len(p.chunks) == count {
		delete(parts, origin)
		r.deliver(topic, bytes.Join(p.chunks, nil))
	}
}

func (r *pgRelay) deliver(topic string, msg []byte) {
	r.m.relay.WithLabelValues("received").Inc()
	r.hub.Publish(topic, msg)
}
