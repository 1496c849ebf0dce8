package bench

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/server/bench/hub"
	"github.com/pyplay/pyplay/snippets/postgres"
	"github.com/pyplay/pyplay/snippets/postgres/pgtest"
)

func TestChunkKeepsUTF8(t *testing.T) {
	msg := []byte(strings.Repeat("aé€😀", 5000))
	for _, room := range []int{1, 2, 3, 7, 100, 7836} {
		chunks := chunk(msg, room)
		if !bytes.Equal(bytes.Join(chunks, nil), msg) {
			t.Fatalf("room %d: chunks do not join to the message", room)
		}
		for i, c := range chunks {
			if len(c) > max(room, 4) || !utf8.Valid(c) {
				t.Fatalf("room %d: chunk %d is %d bytes, valid UTF-8 %v", room, i, len(c), utf8.Valid(c))
			}
		}
	}
}

// The relay's receiving side, without a database: messages from another
// server are reassembled and published once; a server's own are ignored.
func TestRelayReassemblesAndIgnoresOwn(t *testing.T) {
	h := hub.New()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go h.Run(ctx)
	sub := hub.NewSubscriber(16)
	h.Subscribe("snippet:x", sub)

	m := newLiveMetrics(prometheus.NewRegistry())
	me := &pgRelay{hub: h, origin: "me", m: m, log: slog.New(slog.DiscardHandler)}
	them := &pgRelay{origin: "them", m: m}
	big := []byte(`{"v":1,"type":"samples","payload":"` + strings.Repeat("é", 20000) + `"}`)
	small := []byte(`{"v":1,"type":"run.ended","payload":{}}`)
	parts := map[string]*partial{}
	for _, msg := range [][]byte{big, small} {
		notes := them.encode("snippet:x", msg)
		if len(msg) > notifyMax && len(notes) < 2 {
			t.Fatalf("a %d-byte message in %d notifications", len(msg), len(notes))
		}
		for _, n := range notes {
			if len(n) > notifyMax {
				t.Fatalf("notification of %d bytes", len(n))
			}
			me.handle(n, parts)
		}
		for _, n := range me.encode("snippet:x", msg) {
			me.handle(n, parts) // our own: dropped
		}
	}
	h.Stats() // a barrier: every publish is done
	if got := len(sub.Messages()); got != 2 {
		t.Fatalf("%d messages published, want 2", got)
	}
	if got := <-sub.Messages(); !bytes.Equal(got, big) {
		t.Fatalf("reassembled message differs (%d bytes, want %d)", len(got), len(big))
	}
	if got := <-sub.Messages(); !bytes.Equal(got, small) {
		t.Fatalf("second message %s", got)
	}
}

// Two servers sharing one PostgreSQL database: a viewer on one sees what a
// producer sends to the other, once.
func TestLiveAcrossServers(t *testing.T) {
	dsn := pgtest.Start(t)
	open := func() *postgres.Store {
		st, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	a := newBenchEnvStore(t, WSConfig{}, open())
	b := newBenchEnvStore(t, WSConfig{}, open())
	if a.snippet != b.snippet {
		t.Fatal("the servers stored different snippets")
	}
	va, vb := a.viewer(t), b.viewer(t)

	// A run produced on B, with a batch far over NOTIFY's 8000 bytes.
	p := dialRaw(t, b.url, nil)
	p.hello("producer")
	p.startRun("on-b", b.snippet)
	p.ack(p.send("samples", samplesPayload("on-b", 0, 0, 3)))
	p.ack(p.send("samples", samplesPayload("on-b", 1, 3, 500)))
	p.ack(p.send("run.end", map[string]any{"run": "on-b", "status": "done"}))

	// And one produced on A.
	q := dialRaw(t, a.url, nil)
	q.hello("producer")
	q.startRun("on-a", a.snippet)
	q.ack(q.send("samples", samplesPayload("on-a", 0, 0, 2)))
	q.ack(q.send("run.end", map[string]any{"run": "on-a", "status": "stopped"}))

	// Each viewer sees both runs, each message once. Messages of one run
	// keep their order; the two runs may interleave.
	want := map[string]string{
		"on-b": "run.started samples/0:3 samples/1:500 run.ended",
		"on-a": "run.started samples/0:2 run.ended",
	}
	for name, v := range map[string]*viewer{"A": va, "B": vb} {
		seen := map[string][]string{}
		ended := 0
		for ended < 2 {
			m := nextFor(t, v)
			var run, desc string
			switch pl := m.Payload.(type) {
			case *benchproto.RunStarted:
				run, desc = pl.Run.ID, m.Type
			case *benchproto.RunSamples:
				run, desc = pl.Run, fmt.Sprintf("samples/%d:%d", pl.Batch, len(pl.Samples))
				if pl.Batch == 1 && (pl.Samples[499].Seq != 502 || pl.Samples[499].NsPerIter != 1502) {
					t.Errorf("viewer %s: last sample %+v", name, pl.Samples[499])
				}
			case *benchproto.RunEnded:
				run, desc = pl.Run, m.Type
				ended++
			}
			seen[run] = append(seen[run], desc)
		}
		for run, w := range want {
			if got := strings.Join(seen[run], " "); got != w {
				t.Errorf("viewer on %s saw %s: %q, want %q", name, run, got, w)
			}
		}
	}
	// Nothing more arrives: no server delivered a message twice.
	for name, v := range map[string]*viewer{"A": va, "B": vb} {
		m, err := v.Next(300 * time.Millisecond)
		if err == nil {
			t.Errorf("viewer on %s got an extra %s: %+v", name, m.Type, m.Payload)
		}
	}
}
