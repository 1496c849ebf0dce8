package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
	// connection before it counts as too slow and is dropped. A dashboard
	// receives a few messages per running benchmark per second, so 256 is
	// a minute of stalls, not a normal backlog.
	SendBuffer = 256
)

// Options tunes a Client; a zero field means the default constant of the
// same name. Tests shorten the timings.
type Options struct {
	WriteWait      time.Duration
	PongWait       time.Duration
	PingPeriod     time.Duration
	MaxMessageSize int64
	SendBuffer     int
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
	return o
}

// Client is one WebSocket connection attached to a Hub: a read pump that
// hands each incoming text message to a handler, and a write pump that is
// the connection's only writer, sending what the hub queues plus pings.
//
// Each queued message goes out as its own WebSocket frame, never merged
// into a JSON array: clients then need one JSON.parse per message event
// and nothing else. What the write pump does coalesce is the work: when it
// wakes up it writes everything already queued under one write deadline
// before going back to select, so a burst costs one wake-up, not one per
// message.
type Client struct {
	hub  *Hub
	conn *websocket.Conn
	sub  *Subscriber
	opts Options

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
	for {
		select {
		case msg, ok := <-msgs:
			c.conn.SetWriteDeadline(time.Now().Add(c.opts.WriteWait))
			for ok {
				if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
					c.setCause(fmt.Errorf("hub: write: %w", err))
					return
				}
				if len(msgs) == 0 {
					break
				}
				msg, ok = <-msgs
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

// writeClose sends a close frame, ignoring errors: the connection is
// ending either way, and the frame may already have been sent (after a
// read limit violation gorilla sends 1009 itself).
func (c *Client) writeClose(code int, text string) {
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(c.opts.WriteWait))
}
