package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pyplay/pyplay/server"
)

// publicFlags are serve's limits for a server on the open internet: slow
// clients, header size, connections, disk, quotas, and where metrics go.
// A flag of 0 means no limit (the server's Config takes a negative value
// for that, and 0 for its default).
type publicFlags struct {
	MetricsAddr       string
	SlowClientTimeout duration
	MaxHeaderBytes    limitSize
	MaxConnsPerClient limitCount
	MaxConns          limitCount
	MinFreeDisk       limitSize
	DailyQuota        limitSize
	// BenchDailyQuota and BenchRunsPerMinute bound what one client stores
	// through the benchmark WebSocket.
	BenchDailyQuota    limitSize
	BenchRunsPerMinute limitCount
}

func (f *publicFlags) register(fs *flag.FlagSet) error {
	f.SlowClientTimeout = duration(server.DefaultSlowClientTimeout)
	f.MaxHeaderBytes = server.DefaultMaxHeaderBytes
	f.MaxConnsPerClient = server.DefaultMaxConnsPerClient
	f.MaxConns = server.DefaultMaxConns
	f.MinFreeDisk = server.DefaultMinFreeDisk
	f.DailyQuota = server.DefaultDailyBytesPerClient
	f.BenchDailyQuota = server.DefaultBenchDailyBytesPerClient
	f.BenchRunsPerMinute = server.DefaultBenchRunsPerMinute
	return registerEnvFlags(fs, []envFlag{
		{&f.MetricsAddr, "metrics-addr", "PYPLAY_METRICS_ADDR", "where Prometheus metrics are served (GET /metrics), never on the playground's port; default: 127.0.0.1 and -addr's port + 2; off for none"},
		{&f.SlowClientTimeout, "slow-client-timeout", "PYPLAY_SLOW_CLIENT_TIMEOUT", "a request body or a response (WebSockets aside) must move 32 KiB within this, or the connection is cut"},
		{&f.MaxHeaderBytes, "max-header-bytes", "PYPLAY_MAX_HEADER_BYTES", "largest request header (431 above it)"},
		{&f.MaxConnsPerClient, "max-conns-per-client", "PYPLAY_MAX_CONNS_PER_CLIENT", "connections one client address may hold open (trusted proxies not counted); 0 for no limit"},
		{&f.MaxConns, "max-conns", "PYPLAY_MAX_CONNS", "connections open in all on the playground and preview ports; 0 for no limit"},
		{&f.MinFreeDisk, "min-free-disk", "PYPLAY_MIN_FREE_DISK", "free space in the SQLite database's directory below which new data is refused (503); 0 for no floor"},
		{&f.DailyQuota, "daily-quota", "PYPLAY_DAILY_QUOTA", "bytes of new snippets one client may store per day; 0 for no quota"},
		{&f.BenchDailyQuota, "bench-daily-quota", "PYPLAY_BENCH_DAILY_QUOTA", "bytes of benchmark data (64 per sample, 512 per run and its env) one client may store per day over /ws; 0 for no quota"},
		{&f.BenchRunsPerMinute, "bench-runs-per-minute", "PYPLAY_BENCH_RUNS_PER_MINUTE", "new benchmark runs one client may start per minute over /ws, in bursts of as many; 0 for no limit"},
	})
}

// apply copies the limits into the server's configuration.
func (f *publicFlags) apply(cfg *server.Config) {
	cfg.MetricsAddr = f.MetricsAddr
	cfg.SlowClientTimeout = time.Duration(f.SlowClientTimeout)
	cfg.MaxHeaderBytes = int(f.MaxHeaderBytes.config())
	cfg.MaxConnsPerClient = int(f.MaxConnsPerClient.config())
	cfg.MaxConns = int(f.MaxConns.config())
	cfg.MinFreeDisk = f.MinFreeDisk.config()
	cfg.Snippets.DailyBytesPerClient = f.DailyQuota.config()
	cfg.BenchDailyBytesPerClient = f.BenchDailyQuota.config()
	cfg.BenchRunsPerMinute = int(f.BenchRunsPerMinute.config())
}

// duration is a positive time.Duration flag ("30s", "2m").
type duration time.Duration

func (d *duration) String() string { return time.Duration(*d).String() }

func (d *duration) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || v <= 0 {
		return errors.New("want a positive duration, like 30s or 2m")
	}
	*d = duration(v)
	return nil
}

// limitSize is a byte count with an optional unit (KiB, MiB, GiB), 0 for
// no limit.
type limitSize int64

func (b *limitSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *limitSize) Set(s string) error {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"K", 1 << 10}, {"MiB", 1 << 20}, {"M", 1 << 20}, {"GiB", 1 << 30}, {"G", 1 << 30}, {"B", 1}} {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return fmt.Errorf("want a size in bytes, like 65536, 32KiB or 512MiB; 0 for no limit")
	}
	*b = limitSize(n * mult)
	return nil
}

// config is the server's form: negative for no limit.
func (b limitSize) config() int64 {
	if b == 0 {
		return -1
	}
	return int64(b)
}

// limitCount is a whole number, 0 for no limit.
type limitCount int

func (c *limitCount) String() string { return strconv.Itoa(int(*c)) }

func (c *limitCount) Set(s string) error {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return errors.New("want a whole number, 0 for no limit")
	}
	*c = limitCount(v)
	return nil
}

func (c limitCount) config() int64 {
	if c == 0 {
		return -1
	}
	return int64(c)
}
