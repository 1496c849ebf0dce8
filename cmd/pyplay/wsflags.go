package main

import (
	"flag"

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
}

func (f *wsFlags) register(fs *flag.FlagSet) error {
	f.WSRate = positiveInt(benchproto.DefaultLimits.MaxBatchesPerSecond)
	return registerEnvFlags(fs, []envFlag{
		{&f.WSOrigins, "ws-origins", "PYPLAY_WS_ORIGINS",
			"comma-separated origins besides the server's own whose pages may open /ws, e.g. https://pyplay.example.com"},
		{&f.WSRate, "ws-rate", "PYPLAY_WS_RATE",
			"samples messages one /ws connection may send per second, in bursts of twice as many; run.start and run.end have the same allowance"},
	})
}

// config checks the settings and returns the server's WebSocket settings.
func (f *wsFlags) config() (bench.WSConfig, error) {
	var cfg bench.WSConfig
	cfg.Limits.MaxBatchesPerSecond = int(f.WSRate)
	origins, err := parseOrigins("ws-origins", f.WSOrigins)
	cfg.Origins = origins
	return cfg, err
}
