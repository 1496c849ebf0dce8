package main

import (
	"flag"
	"time"

	"github.com/pyplay/pyplay/server/bench"
	"github.com/pyplay/pyplay/server/bench/benchproto"
)

// wsFlags are serve's settings of the benchmark WebSocket endpoint.
type wsFlags struct {
	// WSOrigins lists the browser origins, besides the server's own, whose
	// pages may open /ws (comma-separated).
	WSOrigins string
	// WSRate is the samples messages one connection may send per second
	// (announced as maxBatchesPerSecond; run.start and run.end have an
	// allowance of the same size).
	WSRate positiveInt
	// WSHelloTimeout is how long a new connection has to say hello.
	WSHelloTimeout duration
	// WSMaxSamplesPerRun and WSMaxRunsPerSnippet bound what a run and a
	// snippet hold (announced as maxSamplesPerRun, maxRunsPerSnippet).
	WSMaxSamplesPerRun  positiveInt
	WSMaxRunsPerSnippet positiveInt
}

func (f *wsFlags) register(fs *flag.FlagSet) error {
	f.WSRate = positiveInt(benchproto.DefaultLimits.MaxBatchesPerSecond)
	f.WSHelloTimeout = duration(bench.DefaultHelloTimeout)
	f.WSMaxSamplesPerRun = positiveInt(benchproto.DefaultLimits.MaxSamplesPerRun)
	f.WSMaxRunsPerSnippet = positiveInt(benchproto.DefaultLimits.MaxRunsPerSnippet)
	return registerEnvFlags(fs, []envFlag{
		{&f.WSOrigins, "ws-origins", "PYPLAY_WS_ORIGINS",
			"comma-separated origins besides the server's own whose pages may open /ws, e.g. https://pyplay.example.com"},
		{&f.WSRate, "ws-rate", "PYPLAY_WS_RATE",
			"samples messages one /ws connection may send per second, in bursts of twice as many; run.start and run.end have the same allowance"},
		{&f.WSHelloTimeout, "ws-hello-timeout", "PYPLAY_WS_HELLO_TIMEOUT",
			"a /ws connection that has not said hello within this is closed (1008)"},
		{&f.WSMaxSamplesPerRun, "ws-max-samples-per-run", "PYPLAY_WS_MAX_SAMPLES_PER_RUN",
			"samples one benchmark run may hold, warmups included"},
		{&f.WSMaxRunsPerSnippet, "ws-max-runs-per-snippet", "PYPLAY_WS_MAX_RUNS_PER_SNIPPET",
			"benchmark runs one snippet may hold"},
	})
}

// config checks the settings and returns the server's WebSocket settings.
func (f *wsFlags) config() (bench.WSConfig, error) {
	var cfg bench.WSConfig
	cfg.Limits.MaxBatchesPerSecond = int(f.WSRate)
	cfg.Limits.MaxSamplesPerRun = int(f.WSMaxSamplesPerRun)
	cfg.Limits.MaxRunsPerSnippet = int(f.WSMaxRunsPerSnippet)
	cfg.HelloTimeout = time.Duration(f.WSHelloTimeout)
	origins, err := parseOrigins("ws-origins", f.WSOrigins)
	cfg.Origins = origins
	return cfg, err
}
