package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsServer serves Clients of h over a real WebSocket. handle is called
// with the client and each message; Serve's results arrive on served.
type wsServer struct {
	url    string
	served chan error
}

func startWS(t *testing.T, h *Hub, opts Options, handle func(c *Client, msg []byte)) *wsServer {
	t.Helper()
	s := &wsServer{served: make(chan error, 16)}
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		c := NewClient(h, conn, opts)
		s.served <- c.Serve(context.Background(), func(msg []byte) { handle(c, msg) })
	}))
	t.Cleanup(srv.Close)
	s.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return s
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func (s *wsServer) result(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-s.served:
		return err
	case <-time.After(within):
		t.Fatalf("Serve still running after %v", within)
		return nil
	}
}

// echo answers every message, and subscribes on "sub <topic>".
func echo(c *Client, msg []byte) {
	if topic, ok := strings.CutPrefix(string(msg), "sub "); ok {
		c.Subscribe(topic)
	}
	c.Send(msg)
}

func read(t *testing.T, conn *websocket.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	typ, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("frame type %d, want text", typ)
	}
	return string(msg)
}

// closeCode reads until the connection ends and returns the close code the
// server sent (0 if none).
func closeCode(t *testing.T, conn *websocket.Conn) int {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}

func TestClientEchoAndFanOut(t *testing.T) {
	noLeaks(t)
	h, _ := startHub(t)
	s := startWS(t, h, Options{}, echo)
	a, b := dial(t, s.url), dial(t, s.url)
	for _, c := range []*websocket.Conn{a, b} {
		c.WriteMessage(websocket.TextMessage, []byte("sub snippet:x"))
		if got := read(t, c); got != "sub snippet:x" {
			t.Fatalf("echo: %q", got)
		}
	}
	// One frame per message, in order, even when they queue up.
	for i := range 50 {
		h.Publish("snippet:x", []byte{'m', byte('0' + i%10)})
	}
	for _, c := range []*websocket.Conn{a, b} {
		for i := range 50 {
			if got, want := read(t, c), string([]byte{'m', byte('0' + i%10)}); got != want {
				t.Fatalf("message %d: %q, want %q", i, got, want)
			}
		}
	}
	a.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	if err := s.result(t, 5*time.Second); err != nil {
		t.Errorf("normal close: Serve = %v, want nil", err)
	}
	if st := h.Stats(); st.Subscribers != 1 {
		t.Errorf("closed client still registered: %+v", st)
	}
	b.Close() // abrupt: no close frame
	if err := s.result(t, 5*time.Second); err == nil {
		t.Error("abrupt close: Serve = nil, want the read error")
	}
}

func TestClientPingPongKeepalive(t *testing.T) {
	noLeaks(t)
	h, _ := startHub(t)
	opts := Options{PongWait: 300 * time.Millisecond, PingPeriod: 100 * time.Millisecond}
	s := startWS(t, h, opts, echo)
	conn := dial(t, s.url)
	var pings atomic.Int32
	conn.SetPingHandler(func(data string) error {
		pings.Add(1)
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	// The client only reads (which is when gorilla handles pings); it
	// sends nothing for four times PongWait, so only the pongs keep the
	// connection alive.
	readErr := make(chan error, 1)
	got := make(chan string, 1)
	go func() {
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				readErr <- err
				return
			}
			got <- string(msg)
		}
	}()
	time.Sleep(4 * opts.PongWait)
	if n := pings.Load(); n < 3 {
		t.Errorf("%d pings in %v at a period of %v", n, 4*opts.PongWait, opts.PingPeriod)
	}
	conn.WriteMessage(websocket.TextMessage, []byte("still there?"))
	select {
	case m := <-got:
		if m != "still there?" {
			t.Errorf("got %q", m)
		}
	case err := <-readErr:
		t.Fatalf("connection died despite pongs: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no echo")
	}
	conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""))
	if err := s.result(t, 5*time.Second); err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func TestClientNoPongTimesOut(t *testing.T) {
	noLeaks(t)
	h, _ := startHub(t)
	opts := Options{PongWait: 200 * time.Millisecond, PingPeriod: 50 * time.Millisecond}
	s := startWS(t, h, opts, echo)
	// Before the dial: the server's read deadline starts when it accepts
	// the connection, which a clock started after the dial could miss.
	start := time.Now()
	conn := dial(t, s.url)
	conn.SetPingHandler(func(string) error { return nil }) // a peer that never answers
	go func() {
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	err := s.result(t, 10*time.Second)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Serve = %v, want a read timeout", err)
	}
	if d := time.Since(start); d < opts.PongWait {
		t.Errorf("gave up after %v, before PongWait %v", d, opts.PongWait)
	}
}

func TestClientReadLimit(t *testing.T) {
	noLeaks(t)
	h, _ := startHub(t)
	s := startWS(t, h, Options{MaxMessageSize: 512}, echo)
	conn := dial(t, s.url)
	conn.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("a"), 512)) // at the limit: fine
	if got := read(t, conn); len(got) != 512 {
		t.Fatalf("echo of %d bytes", len(got))
	}
	conn.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("a"), 513))
	if code := closeCode(t, conn); code != websocket.CloseMessageTooBig {
		t.Errorf("close code %d, want 1009", code)
	}
	if err := s.result(t, 5*time.Second); !errors.Is(err, websocket.ErrReadLimit) {
		t.Errorf("Serve = %v, want ErrReadLimit", err)
	}
}

func TestClientWriteDeadline(t *testing.T) {
	noLeaks(t)
	h, _ := startHub(t)
	big := bytes.Repeat([]byte("x"), 1<<20)
	opts := Options{WriteWait: 200 * time.Millisecond, SendBuffer: 200}
	// On request, queue far more than the loopback socket buffers hold.
	s := startWS(t, h, opts, func(c *Client, msg []byte) {
		for range 150 {
			c.Send(big)
		}
	})
	conn := dial(t, s.url)
	conn.WriteMessage(websocket.TextMessage, []byte("flood me"))
	// The client never reads again: the server's writes block on full
	// buffers until WriteWait expires.
	err := s.result(t, 15*time.Second)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !strings.Contains(err.Error(), "write") {
		t.Fatalf("Serve = %v, want a write timeout", err)
	}
	if st := h.Stats(); st.Subscribers != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v: the client must be unregistered, and ended by the deadline, not dropped", st)
	}
}

func TestClientHubStopClosesConnections(t *testing.T) {
	noLeaks(t)
	h, stop := startHub(t)
	s := startWS(t, h, Options{}, echo)
	conns := []*websocket.Conn{dial(t, s.url), dial(t, s.url)}
	for _, c := range conns {
		c.WriteMessage(websocket.TextMessage, []byte("sub t"))
		read(t, c)
	}
	stop()
	for i, c := range conns {
		if code := closeCode(t, c); code != websocket.CloseGoingAway {
			t.Errorf("conn %d: close code %d, want 1001", i, code)
		}
		if err := s.result(t, 5*time.Second); !errors.Is(err, ErrHubClosed) {
			t.Errorf("Serve = %v, want ErrHubClosed", err)
		}
	}
}

func TestClientContextCancel(t *testing.T) {
	noLeaks(t)
	h, _ := startHub(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		served <- NewClient(h, conn, Options{}).Serve(ctx, func([]byte) {})
	}))
	defer srv.Close()
	conn := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http"))
	cancel()
	if code := closeCode(t, conn); code != websocket.CloseGoingAway {
		t.Errorf("close code %d, want 1001", code)
	}
	if err := <-served; !errors.Is(err, context.Canceled) {
		t.Errorf("Serve = %v", err)
	}
}

func TestClientCloseAndBinary(t *testing.T) {
	noLeaks(t)
	h, _ := startHub(t)
	s := startWS(t, h, Options{}, func(c *Client, msg []byte) {
		if string(msg) == "bye" {
			c.Close(websocket.ClosePolicyViolation, "too many errors")
			c.Close(websocket.CloseInternalServerErr, "second call ignored")
		}
	})
	conn := dial(t, s.url)
	conn.WriteMessage(websocket.TextMessage, []byte("bye"))
	if code := closeCode(t, conn); code != websocket.ClosePolicyViolation {
		t.Errorf("close code %d, want 1008", code)
	}
	s.result(t, 5*time.Second)

	conn = dial(t, s.url)
	conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	if code := closeCode(t, conn); code != websocket.CloseUnsupportedData {
		t.Errorf("binary frame: close code %d, want 1003", code)
	}
	s.result(t, 5*time.Second)
}

// TestClientCoalesce queues messages before the write pump starts, so
// that they are all waiting when it first wakes up, and checks how they go
// out: one frame each by default; after Coalesce, JSON arrays of at most
// FrameBytes (plus the message that crosses it), a lone message as itself.
func TestClientCoalesce(t *testing.T) {
	msgs := make([]string, 10)
	for i := range msgs {
		msgs[i] = fmt.Sprintf(`{"n":%d}`, i) // 7 bytes each
	}
	tests := []struct {
		name       string
		coalesce   bool
		frameBytes int
		want       []string
	}{
		{"single frames", false, 0, msgs},
		{"one array", true, 0, []string{"[" + strings.Join(msgs, ",") + "]"}},
		{"bounded arrays", true, 20, []string{ // 7, +8, +8 = 23 ≥ 20: three per frame
			"[" + strings.Join(msgs[0:3], ",") + "]",
			"[" + strings.Join(msgs[3:6], ",") + "]",
			"[" + strings.Join(msgs[6:9], ",") + "]",
			msgs[9],
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			h, _ := startHub(t)
			up := websocket.Upgrader{}
			served := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, err := up.Upgrade(w, r, nil)
				if err != nil {
					t.Errorf("upgrade: %v", err)
					return
				}
				c := NewClient(h, conn, Options{FrameBytes: tt.frameBytes})
				if tt.coalesce {
					c.Coalesce()
				}
				c.Subscribe("t") // registers the subscriber: it can queue before Serve
				for _, m := range msgs {
					h.Publish("t", []byte(m))
				}
				h.Stats() // barrier: every message is queued
				served <- c.Serve(context.Background(), func([]byte) {})
			}))
			defer srv.Close()
			conn := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http"))
			for i, want := range tt.want {
				if got := read(t, conn); got != want {
					t.Fatalf("frame %d: %s, want %s", i, got, want)
				}
			}
			conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			if err := <-served; err != nil {
				t.Errorf("Serve = %v", err)
			}
		})
	}
}
