package main

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWSFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		origins []string
		rate    int
		err     string // part of the error; "" for none
	}{
		{name: "defaults", rate: 10},
		{name: "flags", args: []string{"-ws-rate", "2", "-ws-origins", "https://a.example, http://b.example:8080/"},
			origins: []string{"https://a.example", "http://b.example:8080"}, rate: 2},
		{name: "env", env: map[string]string{"PYPLAY_WS_RATE": "3"}, rate: 3},
		{name: "flag beats env", args: []string{"-ws-rate", "4"}, env: map[string]string{"PYPLAY_WS_RATE": "3"}, rate: 4},
		{name: "zero rate", args: []string{"-ws-rate", "0"}, err: "want a whole number of at least 1"},
		{name: "bad env", env: map[string]string{"PYPLAY_WS_RATE": "fast"}, err: `PYPLAY_WS_RATE="fast"`},
		{name: "bad origin", args: []string{"-ws-origins", "example.com"}, err: "is not an origin"},
		{name: "caps", args: []string{"-ws-max-samples-per-run", "5", "-ws-max-runs-per-snippet", "6", "-ws-hello-timeout", "3s"}, rate: 10},
		{name: "zero cap", args: []string{"-ws-max-runs-per-snippet", "0"}, err: "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PYPLAY_WS_RATE", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var f wsFlags
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			err := f.register(fs)
			if err == nil {
				err = fs.Parse(tt.args)
			}
			var cfg any
			if err == nil {
				c, cerr := f.config()
				cfg, err = c, cerr
				if err == nil && (!reflect.DeepEqual(c.Origins, tt.origins) || c.Limits.MaxBatchesPerSecond != tt.rate) {
					t.Errorf("config: origins %q rate %d; want %q, %d", c.Origins, c.Limits.MaxBatchesPerSecond, tt.origins, tt.rate)
				}
			}
			if tt.err == "" && err != nil {
				t.Fatal(err)
			}
			if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("got %v (config %+v), want an error containing %q", err, cfg, tt.err)
			}
		})
	}
}

// TestWSCapFlags: the caps per run and snippet and the hello timeout reach
// the server's configuration, from flags or the environment.
func TestWSCapFlags(t *testing.T) {
	t.Setenv("PYPLAY_WS_MAX_RUNS_PER_SNIPPET", "7")
	var f wsFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := f.register(fs); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"-ws-max-samples-per-run", "5", "-ws-hello-timeout", "3s"}); err != nil {
		t.Fatal(err)
	}
	c, err := f.config()
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits.MaxSamplesPerRun != 5 || c.Limits.MaxRunsPerSnippet != 7 || c.HelloTimeout != 3*time.Second {
		t.Errorf("config %+v, hello timeout %s", c.Limits, c.HelloTimeout)
	}
}

func TestEmbedOrigins(t *testing.T) {
	for _, tt := range []struct {
		flag string
		want []string
		err  string
	}{
		{"", nil, ""},
		{" * ", nil, ""},
		{"https://blog.example, http://course.example:8080/", []string{"https://blog.example", "http://course.example:8080"}, ""},
		{"blog.example", nil, "-embed-origins: \"blog.example\" is not an origin"},
	} {
		got, err := (&Main{EmbedOrigins: tt.flag}).embedOrigins()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.flag, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: %q, %v; want %q", tt.flag, got, err, tt.want)
		}
	}
}
