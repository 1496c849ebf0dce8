// Command soak is `make soak`: it starts the real pyplay binary on
// loopback with its default limits and, for -duration, runs hostile and
// normal clients against it at once.
//
//	go run ./cmd/soak -bin bin/pyplay [-duration 10m -normal 8]
//
// Normal clients, each from its own loopback address as people on their
// own machines, share snippets, open them, benchmark them over the
// WebSocket with a live viewer and load their statistics. Hostile clients,
// from other addresses, flood odd methods, read and write slowly, send
// endless headers, hold WebSockets without hello, push producers past
// every limit and try to take over the normal clients' runs, follow busy
// snippets without reading, create snippets at the rate limit and make the
// server compare, leaving before the answer.
//
// It reports the normal clients' success rate and latencies, samples the
// server's resident memory and open files (/proc/PID) and goroutines (its
// metrics listener) over time and compares the last third of the samples
// with the first (after a warm-up), and, once the server has shut down,
// checks that every acknowledged snippet and sample is in the database.
// It exits 1 when a normal operation failed more often than -min-success
// allows, something acknowledged was lost, or a figure kept growing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sync"
	"time"
)

type options struct {
	bin        string
	duration   time.Duration
	normal     int
	sample     time.Duration
	warmup     time.Duration
	minSuccess float64
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/pyplay", "the pyplay binary to start (make build)")
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the load runs")
	flag.IntVar(&o.normal, "normal", 8, "normal clients, each from its own loopback address")
	flag.DurationVar(&o.sample, "sample", 0, "how often the server is measured; default: a sixtieth of -duration, at least 1 s")
	flag.DurationVar(&o.warmup, "warmup", 0, "load before measuring starts; default: a quarter of -duration, at most 90 s (slow clients are held up to 45 s)")
	flag.Float64Var(&o.minSuccess, "min-success", 0.99, "the share of normal operations that must succeed")
	flag.Parse()
	log.SetFlags(0)
	if o.sample <= 0 {
		o.sample = max(time.Second, o.duration/60)
	}
	if o.warmup <= 0 {
		o.warmup = min(90*time.Second, o.duration/4)
	}
	ok, err := run(o)
	if err != nil {
		log.Fatalf("soak: %v", err)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(o options) (bool, error) {
	srv, err := startServer(o.bin)
	if err != nil {
		return false, err
	}
	defer srv.cleanup()
	log.Printf("soak: %s for %s against %s (pid %d), %d normal clients", o.bin, o.duration, srv.url, srv.proc.Pid(), o.normal)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()

	acked := newLedger()
	rec := newRecorder()
	hostile := newHostile(srv, acked)
	var wg sync.WaitGroup
	for i := range o.normal {
		c := newNormal(srv, i, rec, acked)
		wg.Go(func() { c.loop(ctx) })
	}
	hostile.start(ctx, &wg)

	samples := srv.watch(ctx, o.warmup, o.sample)
	wg.Wait()
	series := <-samples
	cpu := srv.cpu()

	// Stop the server as an operator would, then look at what it stored.
	stopErr := srv.stop()
	lost, checked, verr := acked.verify(srv.dbPath)

	ok := true
	fmt.Println()
	fmt.Printf("soak: %s, %d normal clients on their own addresses; server CPU %.1f s\n\n", o.duration, o.normal, cpu.Seconds())
	rate := rec.report(os.Stdout)
	if rate < o.minSuccess {
		fmt.Printf("FAIL: %.2f%% of normal operations succeeded, want at least %.2f%%\n", 100*rate, 100*o.minSuccess)
		ok = false
	}
	hostile.report(os.Stdout)
	if !series.report(os.Stdout) {
		ok = false
	}
	fmt.Println()
	switch {
	case verr != nil:
		fmt.Printf("FAIL: could not check the database: %v\n", verr)
		ok = false
	case len(lost) > 0:
		fmt.Printf("FAIL: %d acknowledged items are not stored, e.g. %s\n", len(lost), lost[0])
		ok = false
	default:
		fmt.Printf("durability: all %s acknowledged are stored after shutdown\n", checked)
	}
	if stopErr != nil && !errors.Is(stopErr, context.Canceled) {
		fmt.Printf("FAIL: the server did not shut down cleanly: %v\n", stopErr)
		ok = false
	} else {
		fmt.Println("shutdown: clean (exit 0)")
	}
	return ok, nil
}
