package benchclient

import (
	"context"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pyplay/pyplay/server"
	"github.com/pyplay/pyplay/server/bench"
	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/sqlite"
)

// realServer serves the benchmark lab on a SQLite store holding one
// snippet, and returns its URL, the store and the snippet's ID.
func realServer(t *testing.T, ws bench.WSConfig) (string, snippets.Store, string) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pyplay.db"))
	if err != nil {
		t.Fatal(err)
	}
	built := fstest.MapFS{
		"dist/manifest.json":    {Data: []byte(`{"build":"test","entries":{"main":"/assets/main.js","worker":"/assets/worker.js"},"runtimes":{}}`)},
		"templates/editor.html": {Data: []byte("editor")},
	}
	srv, err := server.New(server.Config{Static: built, Store: store, WS: ws})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close(ctx)
		store.Close()
	})
	sn := &snippets.Snippet{Code: "sum(range(1000))\n", Runtime: snippets.Pyodide}
	sn.Seal()
	if _, err := store.Put(context.Background(), sn); err != nil {
		t.Fatal(err)
	}
	return hs.URL, store, sn.ID
}

// A producer that loses its connection mid-run resends what was not
// acknowledged; the server stores everything once.
func TestProducerResendsAfterReconnect(t *testing.T) {
	url, store, snippet := realServer(t, bench.WSConfig{Limits: benchproto.Limits{MaxBatchesPerSecond: 1000}})
	// A proxy in front of the server that the test can cut.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cut := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
			if err != nil {
				c.Close()
				continue
			}
			go pipe(c, up)
			go pipe(up, c)
			go func() { <-cut; c.Close(); up.Close() }()
		}
	}()

	p, err := NewProducer(Config{URL: "http://" + ln.Addr().String(), MaxBatch: 10, FlushInterval: 5 * time.Millisecond, MinBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	run := p.Start(benchproto.RunInfo{ID: "resend-1", Snippet: snippet, Runtime: "micropython"})
	for i := 0; i < 300; i++ {
		run.Add(snippets.Sample{NsPerIter: float64(1000 + i), Iterations: 1})
		if i%50 == 25 {
			cut <- struct{}{}
		}
		if i%10 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	run.End("done", "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Reconnects == 0 {
		t.Fatal("the connection was never cut")
	}
	r, err := store.GetRun(context.Background(), "resend-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Samples) != 300 || r.Status != "done" {
		t.Fatalf("stored %d samples, status %s; stats %+v", len(r.Samples), r.Status, st)
	}
	for i, s := range r.Samples {
		if s.Seq != i || s.NsPerIter != float64(1000+i) {
			t.Fatalf("sample %d: %+v", i, s)
		}
	}
	t.Logf("stats %+v", st)
}

func pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}
