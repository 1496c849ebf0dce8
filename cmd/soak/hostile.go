package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// hostile runs the attackers, each kind from its own loopback address (so
// that they meet the limits per address as one attacker would), and
// counts what the server answered them.
type hostile struct {
	srv      *server
	acked    *ledger
	outcomes syncMap // "kind: outcome" → count
	asset    string  // a large file to read slowly
	// flood is the snippet the hostile producers fill, for the compare
	// hammer.
	flood chan string
}

func newHostile(srv *server, acked *ledger) *hostile {
	return &hostile{srv: srv, acked: acked, asset: "/", flood: make(chan string, 1)}
}

func (h *hostile) note(kind, outcome string) { h.outcomes.inc(kind + ": " + outcome) }

// from returns a dialer from the hostile address of one kind of attack.
func from(n byte) *net.Dialer {
	return &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, n)}}
}

func (h *hostile) start(ctx context.Context, wg *sync.WaitGroup) {
	h.findAsset()
	each := func(n int, fn func(context.Context, int)) {
		for i := range n {
			wg.Go(func() {
				for ctx.Err() == nil {
					fn(ctx, i)
				}
			})
		}
	}
	each(4, h.oddMethods)
	each(10, h.slowReader)
	each(10, h.slowWriter)
	each(10, h.endlessHeader)
	each(10, h.silentWebSocket)
	each(3, h.abusiveProducer)
	wg.Go(func() { h.floodProducer(ctx) })
	each(10, h.viewerThatNeverReads)
	each(1, h.snippetSpam)
	each(4, h.compareHammer)
}

// findAsset picks the largest runtime file the editor page names.
func (h *hostile) findAsset() {
	res, err := http.Get(h.srv.url + "/")
	if err != nil {
		return
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(res.Body)
	if m := regexp.MustCompile(`/runtime/pyodide/[^"'/]+/`).Find(page); m != nil {
		h.asset = string(m) + "pyodide.asm.wasm"
	}
}

func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// statusOf reads the status line of an answer, "cut" when the server
// closed without one.
func statusOf(conn net.Conn, wait time.Duration) string {
	conn.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return "no answer"
		}
		return "cut"
	}
	if f := strings.Fields(line); len(f) >= 2 {
		return f[1]
	}
	return "garbled"
}

// oddMethods sends requests with long random method names and paths.
func (h *hostile) oddMethods(ctx context.Context, _ int) {
	conn, err := from(1).DialContext(ctx, "tcp", h.srv.addr)
	if err != nil {
		h.note("odd methods", "dial failed")
		pause(ctx, 100*time.Millisecond)
		return
	}
	defer conn.Close()
	method := strings.ToUpper(randomLetters(1000 + rand.IntN(3000)))
	fmt.Fprintf(conn, "%s /%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", method, randomLetters(rand.IntN(200)))
	h.note("odd methods", statusOf(conn, 10*time.Second))
	pause(ctx, 20*time.Millisecond)
}

// slowReader asks for a large file and never reads it.
func (h *hostile) slowReader(ctx context.Context, _ int) {
	conn, err := from(2).DialContext(ctx, "tcp", h.srv.addr)
	if err != nil {
		h.note("slow readers", "dial failed")
		pause(ctx, time.Second)
		return
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetReadBuffer(4 << 10)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n", h.asset)
	h.note("slow readers", "held")
	pause(ctx, 45*time.Second) // past the server's 30 s per 32 KiB
}

// slowWriter sends a snippet one byte every two seconds.
func (h *hostile) slowWriter(ctx context.Context, _ int) {
	conn, err := from(3).DialContext(ctx, "tcp", h.srv.addr)
	if err != nil {
		h.note("slow writers", "dial failed")
		pause(ctx, time.Second)
		return
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/snippets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000\r\n\r\n{")
	for ctx.Err() == nil {
		conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte("x")); err != nil {
			h.note("slow writers", "cut")
			return
		}
		pause(ctx, 2*time.Second)
	}
}

// endlessHeader sends most of a header and never finishes it.
func (h *hostile) endlessHeader(ctx context.Context, _ int) {
	conn, err := from(4).DialContext(ctx, "tcp", h.srv.addr)
	if err != nil {
		h.note("endless headers", "dial failed")
		pause(ctx, time.Second)
		return
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: %s", strings.Repeat("a", 24<<10))
	h.note("endless headers", statusOf(conn, 60*time.Second))
}

// silentWebSocket opens /ws and never says hello.
func (h *hostile) silentWebSocket(ctx context.Context, _ int) {
	conn, err := h.dialWS(ctx, 5)
	if err != nil {
		h.note("WebSockets without hello", "refused")
		pause(ctx, time.Second)
		return
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	_, _, err = conn.ReadMessage()
	h.note("WebSockets without hello", closeOutcome(err))
}

func (h *hostile) dialWS(ctx context.Context, n byte) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, NetDialContext: from(n).DialContext}
	conn, _, err := d.DialContext(ctx, "ws://"+h.srv.addr+"/ws", nil)
	return conn, err
}

func closeOutcome(err error) string {
	if ce, ok := err.(*websocket.CloseError); ok {
		return fmt.Sprintf("closed %d", ce.Code)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "still open"
	}
	return "cut"
}

// wsAttacker is a raw producer connection whose answers are counted.
type wsAttacker struct {
	conn *websocket.Conn
	seq  int64
}

func (a *wsAttacker) send(typ string, payload any) error {
	a.seq++
	b, _ := json.Marshal(map[string]any{"v": 1, "type": typ, "seq": a.seq, "payload": payload})
	a.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return a.conn.WriteMessage(websocket.TextMessage, b)
}

// drain counts the answers (error codes and acks) until the connection
// ends, and returns why it ended.
func (h *hostile) drain(kind string, conn *websocket.Conn) string {
	for {
		conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
		_, data, err := conn.ReadMessage()
		if err != nil {
			return closeOutcome(err)
		}
		var m struct {
			Type    string
			Payload struct{ Code string }
		}
		json.Unmarshal(data, &m)
		switch m.Type {
		case "error":
			h.note(kind, m.Payload.Code)
		case "ack":
			h.note(kind, "ack")
		}
	}
}

func (h *hostile) openProducer(ctx context.Context, n byte) (*wsAttacker, <-chan string, error) {
	conn, err := h.dialWS(ctx, n)
	if err != nil {
		return nil, nil, err
	}
	a := &wsAttacker{conn: conn}
	a.send("hello", map[string]any{"role": "producer", "client": "soak-hostile/1"})
	done := make(chan string, 1)
	go func() { done <- h.drain("abusive producers", conn) }()
	return a, done, nil
}

// abusiveProducer breaks every rule in turn: bursts of new runs, floods
// of batches, takeovers of the normal clients' runs, a finished run's
// outcome changed, garbage, an oversized frame.
func (h *hostile) abusiveProducer(ctx context.Context, _ int) {
	a, done, err := h.openProducer(ctx, 6)
	if err != nil {
		h.note("abusive producers", "refused")
		pause(ctx, time.Second)
		return
	}
	defer a.conn.Close()
	snippets, runs := h.acked.targets()
	if len(snippets) == 0 {
		pause(ctx, time.Second)
		return
	}
	target := snippets[rand.IntN(len(snippets))]
	switch rand.IntN(5) {
	case 0: // a burst of new runs
		for range 40 {
			a.send("run.start", map[string]any{"run": map[string]any{"id": randomID(), "snippet": target, "runtime": "pyodide"}})
		}
	case 1: // a flood of batches on one run
		run := randomID()
		a.send("run.start", map[string]any{"run": map[string]any{"id": run, "snippet": target, "runtime": "micropython"}})
		pause(ctx, 100*time.Millisecond)
		for b := range 60 {
			a.send("samples", batch(run, b, 500))
		}
	case 2: // take over a normal client's run, with or without a made-up token
		run := runs[rand.IntN(len(runs))]
		start := map[string]any{"run": map[string]any{"id": run, "snippet": target, "runtime": "pyodide"}}
		if rand.IntN(2) == 0 {
			start["token"] = randomID() + randomID()
		}
		a.send("run.start", start)
		a.send("samples", batch(run, 99, 10))
		a.send("run.end", map[string]any{"run": run, "status": "failed", "error": "taken over"})
	case 3: // garbage until the server closes the connection
		for range 15 {
			a.conn.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"hello"`))
		}
	case 4: // a frame over the limit
		a.conn.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"samples","seq":2,"payload":"`+strings.Repeat("x", 100<<10)+`"}`))
	}
	select {
	case why := <-done:
		h.note("abusive producers", why)
	case <-time.After(3 * time.Second):
	case <-ctx.Done():
	}
}

func batch(run string, b, n int) map[string]any {
	ss := make([]map[string]any, n)
	for i := range ss {
		ss[i] = map[string]any{"seq": b*1000 + i, "warmup": false, "ns": 1000 + rand.Float64(), "iters": 1}
	}
	return map[string]any{"run": run, "batch": b, "samples": ss}
}

// floodProducer fills runs of a snippet of its own at the rate the server
// announces, past MaxSamplesPerRun and, in a long soak, past the daily
// quota of its address.
func (h *hostile) floodProducer(ctx context.Context) {
	snippet := ""
	for snippet == "" && ctx.Err() == nil {
		snippet = h.createSnippet(ctx, 7, "# flood\n"+randomLetters(100))
		if snippet == "" {
			pause(ctx, time.Second)
		}
	}
	h.flood <- snippet
	for ctx.Err() == nil {
		a, done, err := h.openProducer(ctx, 7)
		if err != nil {
			pause(ctx, time.Second)
			continue
		}
		run := randomID()
		a.send("run.start", map[string]any{"run": map[string]any{"id": run, "snippet": snippet, "runtime": "pyodide"}})
		t := time.NewTicker(100 * time.Millisecond) // the announced 10 batches a second
	stream:
		for b := 0; ctx.Err() == nil && b < 60; b++ {
			if a.send("samples", batch(run, b, 500)) != nil {
				break
			}
			select {
			case <-t.C:
			case why := <-done:
				h.note("flood producer", why)
				break stream
			case <-ctx.Done():
			}
		}
		t.Stop()
		a.conn.Close()
	}
}

func (h *hostile) createSnippet(ctx context.Context, n byte, code string) string {
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: from(n).DialContext, DisableKeepAlives: true}}
	body, _ := json.Marshal(map[string]string{"code": code, "runtime": "pyodide"})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.srv.url+"/api/snippets", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	h.note("snippet spam", fmt.Sprint(res.StatusCode))
	var out struct{ ID string }
	json.NewDecoder(res.Body).Decode(&out)
	return out.ID
}

// viewerThatNeverReads follows busy snippets and reads nothing.
func (h *hostile) viewerThatNeverReads(ctx context.Context, _ int) {
	snippets, _ := h.acked.targets()
	if len(snippets) == 0 {
		pause(ctx, time.Second)
		return
	}
	conn, err := h.dialWS(ctx, 8)
	if err != nil {
		h.note("viewers that never read", "refused")
		pause(ctx, time.Second)
		return
	}
	defer conn.Close()
	a := &wsAttacker{conn: conn}
	a.send("hello", map[string]any{"role": "viewer", "client": "soak-hostile/1", "snippet": snippets[0]})
	for _, s := range snippets[1:min(len(snippets), 32)] {
		a.send("subscribe", map[string]any{"snippet": s})
	}
	h.note("viewers that never read", "held")
	pause(ctx, 40*time.Second)
}

// snippetSpam creates large snippets as fast as the server answers.
func (h *hostile) snippetSpam(ctx context.Context, _ int) {
	h.createSnippet(ctx, 9, "# spam\n"+randomLetters(60<<10))
}

// compareHammer asks for statistics of the flooded snippet and leaves
// before the answer, or waits for it.
func (h *hostile) compareHammer(ctx context.Context, i int) {
	var snippet string
	select {
	case snippet = <-h.flood:
		h.flood <- snippet
	case <-ctx.Done():
		return
	}
	wait := 200 * time.Millisecond
	if i%2 == 1 {
		wait = 30 * time.Second
	}
	c := &http.Client{Timeout: wait, Transport: &http.Transport{DialContext: from(10).DialContext, DisableKeepAlives: true}}
	path := []string{"/api/bench/compare?snippet=", "/api/bench/runs?snippet=", "/api/bench/runs?format=csv&snippet="}[rand.IntN(3)]
	res, err := c.Get(h.srv.url + path + snippet)
	if err != nil {
		h.note("statistics hammer", "gave up")
		return
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	h.note("statistics hammer", fmt.Sprint(res.StatusCode))
}

func randomLetters(n int) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}

// report prints what the attackers got.
func (h *hostile) report(w io.Writer) {
	all := h.outcomes.snapshot()
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "\nhostile clients (what the server answered):")
	kind := ""
	for _, k := range keys {
		kd, outcome, _ := strings.Cut(k, ": ")
		if kd != kind {
			if kind != "" {
				fmt.Fprintln(w)
			}
			kind = kd
			fmt.Fprintf(w, "  %-26s", kd)
		}
		fmt.Fprintf(w, " %s ×%d;", outcome, all[k])
	}
	fmt.Fprintln(w)
	if n := h.srv.warnings.n.Load(); n > 0 {
		fmt.Fprintf(w, "server warnings and errors logged: %d; most:\n  %s\n", n, strings.Join(h.srv.warnings.top(4), "\n  "))
	}
}
