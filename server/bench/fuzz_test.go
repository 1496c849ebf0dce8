package bench

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pyplay/pyplay/server/bench/hub"
	"github.com/pyplay/pyplay/snippets"
)

// FuzzGroupOf feeds arbitrary env objects (free-form, from browsers) to the
// grouping: it never panics, and keys stay parseable.
func FuzzGroupOf(f *testing.F) {
	for _, env := range []string{chromeEnv, firefoxEnv, nativeEnv, `{}`, `{"browser":{"name":"X","version":"1"}}`, `{"cores":1e300,"platform":"|"}`, `[]`, `{"browser":"9"}`} {
		f.Add(env)
	}
	f.Fuzz(func(t *testing.T, env string) {
		g := groupOf(&snippets.Run{Runtime: "pyodide", Env: json.RawMessage(env)})
		if strings.Count(g.Key, "|") != 2 || g.Browser == "" || g.Machine == "" {
			t.Fatalf("env %q: group %+v", env, g)
		}
		if utf8.ValidString(env) && (!utf8.ValidString(g.Label) || !utf8.ValidString(g.Key)) {
			t.Fatalf("env %q: label %q not UTF-8", env, g.Label)
		}
	})
}

// FuzzRelayHandle feeds arbitrary notifications to the relay's receiving
// side: it never panics and publishes at most one message per
// notification.
func FuzzRelayHandle(f *testing.F) {
	them := &pgRelay{origin: "them", m: newLiveMetrics(prometheus.NewRegistry())}
	for _, n := range them.encode("snippet:x", []byte(strings.Repeat("é", 5000))) {
		f.Add(n, "")
	}
	f.Add("them 1 0 1 snippet:x\n{}", "them 2 0 2 snippet:x\n{")
	f.Add("them 1 5 2 t\nx", "them 1 1 2 t\ny")
	f.Add("", "\n\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		h := hub.New()
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		go h.Run(ctx)
		me := &pgRelay{hub: h, origin: "me", m: newLiveMetrics(prometheus.NewRegistry()), log: slog.New(slog.DiscardHandler)}
		parts := map[string]*partial{}
		me.handle(a, parts)
		me.handle(b, parts)
		if len(parts) > 2 {
			t.Fatalf("%d partial messages kept", len(parts))
		}
		if s := h.Stats(); s.Published > 2 {
			t.Fatalf("%d messages published from 2 notifications", s.Published)
		}
	})
}
