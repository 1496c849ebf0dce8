package main

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pyplay/pyplay/cmd/internal/benchclient"
	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/snippets"
)

// samplesPerRun is what a normal client's benchmark measures: about what
// the browser harness sends for a quick benchmark.
const samplesPerRun = 120

// normal is a person using the playground from their own machine: share,
// open, benchmark with the dashboard open, look at the statistics.
type normal struct {
	id    int
	srv   *server
	rec   *recorder
	acked *ledger
	http  *http.Client
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newNormal(srv *server, i int, rec *recorder, acked *ledger) *normal {
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(10+i))}}
	return &normal{id: i, srv: srv, rec: rec, acked: acked, dial: d.DialContext,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}}
}

func (n *normal) loop(ctx context.Context) {
	for iter := 0; ctx.Err() == nil; iter++ {
		n.iteration(ctx, iter)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(2000+rand.IntN(2000)) * time.Millisecond):
		}
	}
}

// timed runs one operation and records it, unless the soak ended under it.
func (n *normal) timed(ctx context.Context, name string, fn func() error) error {
	start := time.Now()
	err := fn()
	if ctx.Err() != nil {
		return ctx.Err() // the soak is over: not the server's failure
	}
	n.rec.op(name, time.Since(start), err)
	return err
}

func (n *normal) iteration(ctx context.Context, iter int) {
	var id string
	err := n.timed(ctx, "share", func() (err error) {
		code := fmt.Sprintf("# soak client %d, round %d\ndef fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\nprint(fib(%d))\n", n.id, iter, 10+iter%15)
		id, err = n.share(ctx, code)
		return err
	})
	if err != nil {
		return
	}
	n.acked.snippet(id)
	if n.timed(ctx, "open snippet", func() error { return n.get(ctx, "/s/"+id, nil) }) != nil {
		return
	}
	if n.timed(ctx, "get snippet", func() error { return n.get(ctx, "/api/snippets/"+id, nil) }) != nil {
		return
	}
	n.benchmark(ctx, id)
	n.timed(ctx, "list runs", func() error { return n.get(ctx, "/api/bench/runs?snippet="+id, nil) })
	n.timed(ctx, "compare", func() error { return n.get(ctx, "/api/bench/compare?snippet="+id, nil) })
}

// benchmark streams a run with a dashboard following the snippet, which
// must see the run end.
func (n *normal) benchmark(ctx context.Context, snippet string) {
	cfg := benchclient.Config{URL: n.srv.url, Client: "soak-normal/1", NetDialContext: n.dial, Coalesce: true}
	var viewer *benchclient.Viewer
	err := n.timed(ctx, "open dashboard", func() (err error) {
		vctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		viewer, err = benchclient.DialViewer(vctx, cfg, snippet)
		return err
	})
	if err != nil {
		return
	}
	defer viewer.Close()
	run := randomID()
	n.acked.aim(snippet, run)
	acked := 0
	p, err := benchclient.NewProducer(cfg)
	if err != nil {
		n.rec.op("benchmark", 0, err)
		return
	}
	defer p.Close()
	err = n.timed(ctx, "benchmark", func() error {
		r := p.Start(benchproto.RunInfo{ID: run, Snippet: snippet, Runtime: "pyodide", RuntimeVersion: "soak",
			Env: json.RawMessage(fmt.Sprintf(`{"browser":"Soak","browserVersion":"1","platform":"client %d","cores":2,"timerResolutionNs":5000}`, n.id))})
		for i := range samplesPerRun {
			r.Add(snippets.Sample{Warmup: i < 5, NsPerIter: 1e6 * (1 + 0.02*rand.NormFloat64()), Iterations: 4})
			if i%40 == 39 {
				time.Sleep(50 * time.Millisecond)
			}
		}
		r.End("done", "")
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		err := p.Wait(wctx)
		acked = p.Stats().Samples
		return err
	})
	if acked > 0 {
		n.acked.samples(run, acked)
	}
	if err != nil {
		return
	}
	// The dashboard saw the run end (fan-out to a viewer that reads).
	n.timed(ctx, "live update", func() error {
		vctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		for {
			m, err := viewer.Next(vctx)
			if err != nil {
				return fmt.Errorf("the dashboard did not see run %s end: %w", run, err)
			}
			if e, ok := m.Payload.(*benchproto.RunEnded); ok && e.Run == run {
				return nil
			}
		}
	})
}

func (n *normal) share(ctx context.Context, code string) (string, error) {
	body, _ := json.Marshal(map[string]string{"code": code, "runtime": "pyodide"})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, n.srv.url+"/api/snippets", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	res, err := n.http.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || (res.StatusCode != 201 && res.StatusCode != 200) {
		return "", fmt.Errorf("share: %s", res.Status)
	}
	return out.ID, nil
}

func (n *normal) get(ctx context.Context, path string, into any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.srv.url+path, nil)
	res, err := n.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 300))
		return fmt.Errorf("GET %s: %s %s", strings.SplitN(path, "?", 2)[0], res.Status, b)
	}
	if into != nil {
		return json.NewDecoder(res.Body).Decode(into)
	}
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

func randomID() string {
	b := make([]byte, 12)
	if _, err := crand.Read(b); err != nil {
		panic(errors.New("no randomness"))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
