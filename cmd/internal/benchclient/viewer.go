package benchclient

import (
	"context"
	"fmt"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pyplay/pyplay/server/bench/benchproto"
)

// Viewer follows snippets' runs as a dashboard does. It does not
// reconnect: a viewer that loses its connection reloads the stored runs
// (GET /api/bench/runs) and dials again. Not safe for concurrent use.
type Viewer struct {
	conn    *websocket.Conn
	seq     int64
	pending [][]byte // messages of the last frame not returned yet
	frames  int
	Welcome *benchproto.Welcome
}

// DialViewer connects, says hello as a viewer and subscribes to the
// snippets; when it returns, the subscriptions are in effect.
func DialViewer(ctx context.Context, cfg Config, snippetIDs ...string) (*Viewer, error) {
	cfg = cfg.withDefaults()
	u, err := wsURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	conn, err := dial(ctx, u, cfg)
	if err != nil {
		if f, ok := err.(errFatal); ok {
			return nil, f.err
		}
		return nil, err
	}
	v := &Viewer{conn: conn}
	hello := &benchproto.Hello{Role: benchproto.Viewer, Client: cfg.Client, Coalesce: cfg.Coalesce}
	if len(snippetIDs) > 0 {
		hello.Snippet = snippetIDs[0]
	}
	m, err := v.call(ctx, benchproto.TypeHello, hello)
	if err != nil {
		conn.Close()
		return nil, err
	}
	v.Welcome = m.Payload.(*benchproto.Welcome)
	for _, id := range snippetIDs[min(1, len(snippetIDs)):] {
		if _, err := v.call(ctx, benchproto.TypeSubscribe, &benchproto.Subscription{Snippet: id}); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return v, nil
}

// call sends a message and waits for its answer (welcome or ack), failing
// on an error frame. Fan-out messages cannot arrive before the first
// subscription is acknowledged, and are not expected while subscribing.
func (v *Viewer) call(ctx context.Context, typ string, payload any) (*benchproto.Message, error) {
	v.seq++
	if err := writeMessage(v.conn, &benchproto.Message{V: benchproto.Version, Type: typ, Seq: v.seq, Payload: payload}); err != nil {
		return nil, err
	}
	for {
		m, err := v.Next(ctx)
		if err != nil {
			return nil, err
		}
		switch pl := m.Payload.(type) {
		case *benchproto.ErrorInfo:
			return nil, fmt.Errorf("benchclient: %s refused: %s: %s", typ, pl.Code, pl.Message)
		case *benchproto.Welcome, *benchproto.Ack:
			return m, nil
		}
	}
}

// Next returns the next message from the server: run.started, samples
// (*benchproto.RunSamples) or run.ended for a subscribed snippet. It fails
// when ctx is done or the connection ends (a *websocket.CloseError says
// why: 1013 when the server dropped this viewer for being too slow).
func (v *Viewer) Next(ctx context.Context) (*benchproto.Message, error) {
	return nextKnown(func() ([]byte, error) { return v.NextRaw(ctx) })
}

// NextRaw is Next without decoding: the next message's JSON, one message
// even when the server coalesced several into a frame. It is for load
// generators that read a field or two of each message, for which decoding
// every sample would cost more than the server's work.
func (v *Viewer) NextRaw(ctx context.Context) ([]byte, error) {
	for len(v.pending) == 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		frame, err := v.readFrame(ctx)
		if err != nil {
			return nil, err
		}
		v.frames++
		if v.pending, err = benchproto.SplitFrame(frame); err != nil {
			return nil, err
		}
	}
	data := v.pending[0]
	v.pending[0] = nil
	v.pending = v.pending[1:]
	return data, nil
}

func (v *Viewer) readFrame(ctx context.Context) ([]byte, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(readWait)
	}
	v.conn.SetReadDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { v.conn.SetReadDeadline(time.Now()) })
	defer stop()
	_, data, err := v.conn.ReadMessage()
	return data, err
}

// Frames is how many WebSocket frames the viewer has read, welcome and
// acks included: with Config.Coalesce, fewer than the messages.
func (v *Viewer) Frames() int { return v.frames }

// Conn is the underlying connection, for tests that misbehave on purpose.
func (v *Viewer) Conn() *websocket.Conn { return v.conn }

// Close closes the connection.
func (v *Viewer) Close() error {
	v.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return v.conn.Close()
}
