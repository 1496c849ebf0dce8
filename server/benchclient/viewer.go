package benchclient

import (
	"context"
	"fmt"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pyplay/pyplay/server/benchproto"
)

// Viewer follows snippets' runs as a dashboard does. It does not
// reconnect: a viewer that loses its connection reloads the stored runs
// (GET /api/bench/runs) and dials again. Not safe for concurrent use.
type Viewer struct {
	conn    *websocket.Conn
	seq     int64
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
	conn, err := dial(ctx, u, cfg.Origin)
	if err != nil {
		if f, ok := err.(errFatal); ok {
			return nil, f.err
		}
		return nil, err
	}
	v := &Viewer{conn: conn}
	hello := &benchproto.Hello{Role: benchproto.Viewer, Client: cfg.Client}
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
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(readWait)
	}
	v.conn.SetReadDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { v.conn.SetReadDeadline(time.Now()) })
	defer stop()
	return readMessage(v.conn)
}

// Conn is the underlying connection, for tests that misbehave on purpose.
func (v *Viewer) Conn() *websocket.Conn { return v.conn }

// Close closes the connection.
func (v *Viewer) Close() error {
	v.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return v.conn.Close()
}
