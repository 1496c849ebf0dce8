package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

const wrkOutput = `Running 5s test @ http://127.0.0.1:40000/api/ping
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms    2.01ms  40.12ms   93.00%
    Req/Sec    16.01k     1.20k   18.00k    70.00%
  Latency Distribution
     50%  612.00us
     75%    1.02ms
     90%    2.10ms
     99%   10.50ms
  159321 requests in 5.00s, 30.12MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  31864.20
Transfer/sec:      6.02MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	if r.RPS != 31864.20 || r.Requests != 159321 || r.Non2xx != 3 || r.P50 != 612*time.Microsecond || r.P99 != 10500*time.Microsecond {
		t.Errorf("parsed %+v", r)
	}
	if _, err := parseWrk("Requests/sec: 1\n"); err == nil {
		t.Error("output without a latency distribution accepted")
	}
}

func TestWriteSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	section := sectionHeading + "\n\nnew figures\n"
	for _, tt := range []struct{ before, want string }{
		{"", "# Benchmarks\n\n" + section},
		{"# Benchmarks\n\n## Start-up\n\nfast\n", "# Benchmarks\n\n## Start-up\n\nfast\n\n" + section},
		{"# B\n\n" + sectionHeading + "\n\nold\n\n## WebSockets\n\nws\n", "# B\n\n" + section + "\n## WebSockets\n\nws\n"},
		{"# B\n\n## A\n\na\n\n" + sectionHeading + "\n\nold figures\n", "# B\n\n## A\n\na\n\n" + section},
	} {
		os.WriteFile(path, []byte(tt.before), 0o644)
		if tt.before == "" {
			os.Remove(path)
		}
		if err := writeSection(path, section); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if string(got) != tt.want {
			t.Errorf("from %q:\ngot  %q\nwant %q", tt.before, got, tt.want)
		}
	}
}
