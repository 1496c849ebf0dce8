package hub_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gorilla/websocket"
	"github.com/pyplay/pyplay/server/bench/hub"
)

// Wiring a WebSocket endpoint: one hub for the process, one Client per
// connection. The handler runs on the connection's read pump and answers
// through Send; fan-out goes through Publish from wherever data is stored.
func ExampleClient() {
	h := hub.New()
	ctx, stop := context.WithCancel(context.Background())
	defer stop() // closes every connection with 1001 going away
	go h.Run(ctx)

	upgrader := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered the request already
		}
		c := hub.NewClient(h, conn, hub.Options{MaxMessageSize: 64 << 10})
		limit := hub.NewLimiter(10, 20)
		err = c.Serve(ctx, func(msg []byte) {
			if !limit.Allow() {
				c.Send([]byte(`{"error":"slow down"}`))
				return
			}
			// The hub keeps the order of operations: the subscription is
			// in effect before the client reads the answer.
			c.Subscribe("snippet:abcDEF12345")
			c.Send([]byte(`{"ok":true}`))
		})
		slog.Debug("websocket closed", "remote", r.RemoteAddr, "err", err)
	}))
	defer srv.Close()

	// A dashboard connects and asks to follow the snippet.
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	conn.WriteMessage(websocket.TextMessage, []byte(`{"follow":"abcDEF12345"}`))
	_, answer, _ := conn.ReadMessage()
	fmt.Printf("%s\n", answer)

	// Elsewhere, after storing a batch: every subscriber gets it.
	h.Publish("snippet:abcDEF12345", []byte(`{"v":1,"type":"samples","payload":{}}`))
	_, msg, _ := conn.ReadMessage()
	fmt.Printf("%s\n", msg)
	// Output:
	// {"ok":true}
	// {"v":1,"type":"samples","payload":{}}
}
