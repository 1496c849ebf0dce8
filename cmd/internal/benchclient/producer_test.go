package benchclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/snippets"
)

func TestWSURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://localhost:8080":       "ws://localhost:8080/ws",
		"http://localhost:8080/":      "ws://localhost:8080/ws",
		"https://pyplay.example.com":  "wss://pyplay.example.com/ws",
		"ws://127.0.0.1:9/ws":         "ws://127.0.0.1:9/ws",
		"wss://example.com/custom/ws": "wss://example.com/custom/ws",
		"https://example.com/pyplay/": "wss://example.com/pyplay/ws",
	} {
		if got, err := wsURL(in); err != nil || got != want {
			t.Errorf("wsURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := wsURL("localhost:8080"); err == nil {
		t.Error("a URL without a scheme was accepted")
	}
}

// fakeServer speaks just enough of the protocol to script answers: reply
// is called for every message after hello and returns the answer's
// payload type and payload.
func fakeServer(t *testing.T, limits benchproto.Limits, reply func(m map[string]any) (string, any)) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			json.Unmarshal(data, &m)
			typ, payload := benchproto.TypeWelcome, any(&benchproto.Welcome{Server: "fake", Protocol: 1, Limits: limits.WithDefaults()})
			if m["type"] != benchproto.TypeHello {
				typ, payload = reply(m)
			}
			b, _ := benchproto.Encode(&benchproto.Message{V: 1, Type: typ, Payload: payload})
			if conn.WriteMessage(websocket.TextMessage, b) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func ackOf(m map[string]any, duplicate bool) *benchproto.Ack {
	p := m["payload"].(map[string]any)
	a := &benchproto.Ack{Ack: int64(m["seq"].(float64)), Duplicate: duplicate}
	if run, ok := p["run"].(string); ok {
		a.Run = run
	}
	if b, ok := p["batch"].(float64); ok {
		n := int(b)
		a.Batch = &n
	}
	return a
}

// A batch refused as rate limited or unavailable is sent again; the run
// completes.
func TestProducerRetries(t *testing.T) {
	var mu sync.Mutex
	refused := map[string]bool{}
	var got []int
	url := fakeServer(t, benchproto.Limits{MaxSamplesPerBatch: 2}, func(m map[string]any) (string, any) {
		mu.Lock()
		defer mu.Unlock()
		if m["type"] == benchproto.TypeSamples {
			batch := int(m["payload"].(map[string]any)["batch"].(float64))
			for _, code := range []string{benchproto.CodeRateLimited, benchproto.CodeUnavailable} {
				key := code + string(rune('0'+batch))
				if batch < 2 && !refused[key] {
					refused[key] = true
					return benchproto.TypeError, &benchproto.ErrorInfo{Code: code, Message: "later", Ref: int64(m["seq"].(float64))}
				}
			}
			got = append(got, batch)
		}
		return benchproto.TypeAck, ackOf(m, false)
	})
	p, err := NewProducer(Config{URL: url, MaxBatch: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := p.Start(benchproto.RunInfo{ID: "r", Snippet: "abcDEF12345", Runtime: "pyodide"})
	for i := 0; i < 5; i++ { // batches of 2, 2, 1
		r.Add(snippets.Sample{NsPerIter: 1, Iterations: 1})
	}
	r.End("done", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("batches acknowledged: %v", got)
	}
	if st := p.Stats(); st.Batches != 3 || st.Samples != 5 || st.Resent < 2 {
		t.Fatalf("stats %+v", st)
	}
}

// A refusal that retrying cannot fix fails the run, and Wait says why.
func TestProducerReportsRefusal(t *testing.T) {
	url := fakeServer(t, benchproto.Limits{}, func(m map[string]any) (string, any) {
		if m["type"] == benchproto.TypeRunStart {
			return benchproto.TypeError, &benchproto.ErrorInfo{Code: benchproto.CodeNotFound, Message: "no snippet with ID abcDEF12345", Ref: int64(m["seq"].(float64))}
		}
		return benchproto.TypeAck, ackOf(m, false)
	})
	p, err := NewProducer(Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := p.Start(benchproto.RunInfo{ID: "r", Snippet: "abcDEF12345", Runtime: "pyodide"})
	r.Add(snippets.Sample{NsPerIter: 1, Iterations: 1})
	r.End("done", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Wait(ctx); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Fatalf("Wait: %v", err)
	}
}

// A server that refuses the connection outright (a foreign origin) is
// not retried forever.
func TestProducerForbidden(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"code":"forbidden"}}`, http.StatusForbidden)
	}))
	defer srv.Close()
	p, err := NewProducer(Config{URL: srv.URL, Origin: "https://evil.example"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Start(benchproto.RunInfo{ID: "r", Snippet: "abcDEF12345", Runtime: "pyodide"}).End("done", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Wait(ctx); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("Wait: %v", err)
	}
}
