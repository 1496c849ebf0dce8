package hub_test

import (
	"context"
	"log/slog"
	"net/http"

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
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
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
			c.Subscribe("snippet:abcDEF12345")
			c.Send([]byte(`{"ok":true}`))
		})
		if err != nil {
			slog.Info("websocket closed", "remote", r.RemoteAddr, "err", err)
		}
	})
	// Elsewhere, after storing a batch:
	h.Publish("snippet:abcDEF12345", []byte(`{"v":1,"type":"samples","payload":{}}`))
}
