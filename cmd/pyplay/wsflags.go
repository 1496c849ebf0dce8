package main

import (
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/pyplay/pyplay/server"
)

// wsFlags are serve's settings of the benchmark WebSocket endpoint.
type wsFlags struct {
	// WSOrigins lists the browser origins, besides the server's own, whose
	// pages may open /ws (comma-separated).
	WSOrigins string
}

func (f *wsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.WSOrigins, "ws-origins", envDefault("PYPLAY_WS_ORIGINS", ""),
		"comma-separated origins besides the server's own whose pages may open /ws, e.g. https://pyplay.example.com (PYPLAY_WS_ORIGINS)")
}

// config checks the origins and returns the server's WebSocket settings.
func (f *wsFlags) config() (server.WSConfig, error) {
	var cfg server.WSConfig
	for _, o := range strings.Split(f.WSOrigins, ",") {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			return cfg, fmt.Errorf("-ws-origins: %q is not an origin; write scheme://host[:port], e.g. https://pyplay.example.com", o)
		}
		cfg.Origins = append(cfg.Origins, u.Scheme+"://"+u.Host)
	}
	return cfg, nil
}
