package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Connection timing and size defaults, as in the gorilla chat example.
const (
	// WriteWait bounds one write (a burst of queued messages, a ping, a
	// close frame). A peer that stops reading fills the TCP buffers; the
	// write then times out and the connection ends instead of holding a
	// goroutine forever.
	WriteWait = 10 * time.Second
	// PongWait is how long the connection may be silent (no message, no
	// pong) before it is considered dead: a laptop lid closed mid-run, a
	// proxy that dropped the TCP connection without telling anyone.
	PongWait = 60 * time.Second
	// PingPeriod must be shorter than PongWait so that a live peer's pong
	// arrives before the deadline; 90% leaves room for a slow round trip.
	PingPeriod = PongWait * 9 / 10
	// MaxMessageSize is the default read limit: a larger frame closes the
	// connection with status 1009 before it is buffered. Servers speaking
	// benchproto should pass its Limits.MaxMessageBytes instead.
	MaxMessageSize = 64 << 10
	// SendBuffer is the default number of messages queued for one
	// connection before it counts as too slow and is dropped. Each frame
	// of a coalescing connection takes what is queued (up to FrameBytes),
	// so the buffer only has to hold what arrives while one write is under
	// way: a dashboard following one busy snippet
	// gets a few hundred messages a second, in bursts when the store
	// commits many producers' batches together.
	SendBuffer = 256
	// FrameBytes bounds a coalesced frame: once the messages gathered for
	// one frame reach it, the rest wait for the next frame. A viewer that
	// falls behind thus catches up in frames of a few hundred messages,
	// not in one frame of its whole backlog.
	FrameBytes = 256 << 10
)

// Options tunes a Client; a zero field means the default constant of the
// same name. Tests shorten the timings.
type Options struct {
	WriteWait      time.Duration
	PongWait       time.Duration
	PingPeriod     time.Duration
	MaxMessageSize int64
	SendBuffer     int
	FrameBytes     int
}

func (o Options) withDefaults() Options {
	if o.WriteWait <= 0 {
		o.WriteWait = WriteWait
	}
	if o.PongWait <= 0 {
		o.PongWait = PongWait
	}
	if o.PingPeriod <= 0 {
		o.PingPeriod = min(PingPeriod, o.PongWait*9/10)
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = MaxMessageSize
	}
	if o.SendBuffer <= 0 {
		o.SendBuffer = SendBuffer
	}
	if o.FrameBytes <= 0 {
		o.FrameBytes = FrameBytes
	}
	return o
}

// Client is one WebSocket connection attached to a Hub: a read pump that
// hands each incoming text message to a handler, and a write pump that is
// the connection's only writer, sending what the hub queues plus pings.
//
// The write pump writes one frame per turn of its select, each under a
// write deadline of its own. By default each message
// is a WebSocket frame of its own. After Coalesce, the messages queued
// together go out as one frame holding a JSON array of them (a lone message
// still goes out as itself): one frame header, one write system call and,
// in a browser, one message event and one JSON.parse for a burst, instead
// of one per message. A dashboard following busy benchmarks receives
// bursts of hundreds of messages whenever the store commits a group of
// batches; coalesced, one that fell behind catches up in a few frames.
type Client struct {
	hub      *Hub
	conn     *websocket.Conn
	sub      *Subscriber
	opts     Options
	coalesce atomic.Bool

	closeReq chan closeFrame // capacity 1: the first request wins

	causeOnce sync.Once
	cause     error
}

type closeFrame struct {
	code int
	text string
}

// errClosedByServer is the cause when the handler called Close.
var errClosedByServer = errors.New("hub: connection closed by the server")

// NewClient attaches conn to h. Nothing happens until Serve.
func NewClient(h *Hub, conn *websocket.Conn, opts Options) *Client {
	opts = opts.withDefaults()
	return &Client{
		hub:      h,
		conn:     conn,
		sub:      NewSubscriber(opts.SendBuffer),
		opts:     opts,
		closeReq: make(chan closeFrame, 1),
	}
}

// Serve runs the connection until it ends: the peer closes or goes silent
// for PongWait, a read exceeds MaxMessageSize (closed with 1009), a write
// times out, the client is dropped as too slow (closed with 1013, try again
// later), the hub stops or ctx is done (both closed with 1001, going away),
// or the handler calls Close. It calls handle for every text message, one
// at a time, from the read pump: handle should answer promptly (through
// Send) because while it runs nothing else is read, pongs included.
//
// Serve unregisters the client, closes the connection and waits for the
// write pump before it returns, so no goroutine outlives it. It returns
// nil when the peer closed normally, and otherwise why the connection
// ended (ErrSlowConsumer, ErrHubClosed, ctx.Err(), websocket.ErrReadLimit,
// a timeout, …), for logging.
func (c *Client) Serve(ctx context.Context, handle func(msg []byte)) error {
	c.hub.Register(c.sub)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.writePump(ctx)
	}()
	err := c.readPump(handle)
	if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
		err = nil // the peer said goodbye
	} else if err != nil {
		err = fmt.Errorf("hub: read: %w", err)
	}
	c.setCause(err)
	c.hub.Unregister(c.sub)
	<-done
	c.conn.Close()
	return c.cause
}

// setCause keeps the first reason the connection ended: later errors are
// consequences (a read failing because the write pump closed the socket).
func (c *Client) setCause(err error) {
	c.causeOnce.Do(func() { c.cause = err })
}

// Send queues msg for this connection (see Hub.Send). Messages are
// delivered in the order they are queued.
func (c *Client) Send(msg []byte) { c.hub.Send(c.sub, msg) }

// Coalesce makes the write pump send the messages queued together as one
// frame holding a JSON array of them, from the next frame on. Call it only
// when the peer has said it reads such frames, and only on a connection
// whose every message is one JSON value. Safe from any goroutine; every
// frame written after Coalesce returns is gathered the new way, including
// from messages queued before.
func (c *Client) Coalesce() { c.coalesce.Store(true) }

// Subscribe makes this connection receive what is published to topic.
func (c *Client) Subscribe(topic string) { c.hub.Subscribe(topic, c.sub) }

// Unsubscribe stops messages from topic.
func (c *Client) Unsubscribe(topic string) { c.hub.Unsubscribe(topic, c.sub) }

// Close asks the write pump to send a close frame with code and text
// (e.g. websocket.ClosePolicyViolation after too many bad messages) and end
// the connection. Messages queued before are not sent. Safe from any
// goroutine; only the first call counts.
func (c *Client) Close(code int, text string) {
	select {
	case c.closeReq <- closeFrame{code, text}:
	default:
	}
}

func (c *Client) readPump(handle func([]byte)) error {
	c.conn.SetReadLimit(c.opts.MaxMessageSize)
	alive := func() error { return c.conn.SetReadDeadline(time.Now().Add(c.opts.PongWait)) }
	if err := alive(); err != nil {
		return err
	}
	c.conn.SetPongHandler(func(string) error { return alive() })
	for {
		typ, msg, err := c.conn.ReadMessage()
		if err != nil {
			return err
		}
		if err := alive(); err != nil { // any message proves the peer is there
			return err
		}
		if typ != websocket.TextMessage {
			// Keep reading: the peer answers the close frame, and that
			// answer (or the write pump closing the socket) ends the loop.
			c.Close(websocket.CloseUnsupportedData, "text frames only")
			continue
		}
		handle(msg)
	}
}

func (c *Client) writePump(ctx context.Context) {
	ticker := time.NewTicker(c.opts.PingPeriod)
	defer ticker.Stop()
	// Closing the socket is what stops the read pump when the write side
	// ends first (timeout, drop, shutdown).
	defer c.conn.Close()
	msgs := c.sub.Messages()
	var frame [][]byte // reused: the messages of one frame
	for {
		select {
		case msg, ok := <-msgs:
			if ok {
				frame, ok = c.gather(append(frame[:0], msg), msgs)
				// A deadline per frame, not per wake-up: a viewer that keeps
				// up with a queue that never empties is not slow. Back in the
				// select after each frame, pings get their turn too.
				c.conn.SetWriteDeadline(time.Now().Add(c.opts.WriteWait))
				err := c.writeFrame(frame)
				clear(frame) // do not keep sent messages alive
				if err != nil {
					c.setCause(fmt.Errorf("hub: write: %w", err))
					return
				}
			}
			if !ok {
				err := c.sub.Err()
				c.setCause(err)
				switch err {
				case ErrSlowConsumer:
					c.writeClose(websocket.CloseTryAgainLater, "too slow: reconnect and reload")
				case ErrHubClosed:
					c.writeClose(websocket.CloseGoingAway, "server shutting down")
				default: // unregistered: the read side has ended already
					c.writeClose(websocket.CloseNormalClosure, "")
				}
				return
			}
		case <-ticker.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.opts.WriteWait)); err != nil {
				c.setCause(fmt.Errorf("hub: ping: %w", err))
				return
			}
		case f := <-c.closeReq:
			c.setCause(errClosedByServer)
			c.writeClose(f.code, f.text)
			return
		case <-ctx.Done():
			c.setCause(ctx.Err())
			c.writeClose(websocket.CloseGoingAway, "server shutting down")
			return
		}
	}
}

// gather adds to frame, which holds the first message, the messages queued
// behind it, up to FrameBytes, when the connection coalesces. It reports
// false when the channel was closed (the frame is still to be sent).
func (c *Client) gather(frame [][]byte, msgs <-chan []byte) ([][]byte, bool) {
	if !c.coalesce.Load() {
		return frame, true
	}
	size := len(frame[0])
	for size < c.opts.FrameBytes && len(msgs) > 0 {
		msg, ok := <-msgs
		if !ok {
			return frame, false
		}
		frame = append(frame, msg)
		size += len(msg) + 1
	}
	return frame, true
}

// writeFrame writes one message as itself, several as a JSON array.
func (c *Client) writeFrame(msgs [][]byte) error {
	if len(msgs) == 1 {
		return c.conn.WriteMessage(websocket.TextMessage, msgs[0])
	}
	w, err := c.conn.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	sep := []byte{'['}
	for _, m := range msgs {
		w.Write(sep) // errors come back from Close
		w.Write(m)
		sep[0] = ','
	}
	w.Write([]byte{']'})
	return w.Close()
}

// writeClose sends a close frame, ignoring errors: the connection is
// ending either way, and the frame may already have been sent (after a
// read limit violation gorilla sends 1009 itself).
func (c *Client) writeClose(code int, text string) {
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(c.opts.WriteWait))
}
