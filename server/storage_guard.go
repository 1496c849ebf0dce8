package server

import (
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/pyplay/pyplay/snippets"
)

// A database on a full disk fails every write, and SQLite needs room to
// spare for its write-ahead log and checkpoints. So the server watches the
// free space of the database's directory and refuses new data (503, with
// Retry-After) below a floor, before the disk is actually full; and when a
// write fails for a full disk anyway (another program filled it, or
// PostgreSQL's disk is elsewhere), it answers the same way and /healthz
// says so until a write succeeds again. What is stored stays readable.

// DefaultMinFreeDisk is Config.MinFreeDisk's default.
const DefaultMinFreeDisk = 512 << 20

const (
	// diskCheckEvery is how often the free space is measured: a statfs
	// call is cheap, and at the snippet rate limit no client writes much
	// in ten seconds.
	diskCheckEvery = 10 * time.Second
	// fullMemory is how long /healthz reports a write that failed for a
	// full disk, unless a write succeeds sooner.
	fullMemory = time.Minute
)

// errDiskLow refuses writes below the free-disk floor.
var errDiskLow = snippets.ErrDiskLow

// storageGuard watches the store's disk space and write failures.
type storageGuard struct {
	dir   string // the store's data directory; "" when there is none to watch
	floor uint64 // 0: no floor

	free      atomic.Uint64
	low       atomic.Bool
	fullUntil atomic.Int64 // UnixNano; a full-disk failure is reported until then

	fullErrors prometheus.Counter
	log        *slog.Logger
}

// dataDirStore is a store with files on a local disk (sqlite.Store).
type dataDirStore interface{ DataDir() string }

// startStorageGuard measures the disk once (so the server starts knowing)
// and then every diskCheckEvery until the server closes.
func (s *Server) startStorageGuard() {
	g := &storageGuard{log: s.log, fullErrors: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pyplay_store_full_errors_total",
		Help: "Writes the store refused because its disk is full.",
	})}
	s.storage = g
	reg := s.metrics.registry
	reg.MustRegister(g.fullErrors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pyplay_store_writable",
		Help: "1 when the store takes writes; 0 while its disk is below the free-space floor or reported full.",
	}, func() float64 {
		if g.state(time.Now()) != "" {
			return 0
		}
		return 1
	}))
	d, ok := s.cfg.Store.(dataDirStore)
	if !ok || s.cfg.MinFreeDisk < 0 {
		return
	}
	g.dir, g.floor = d.DataDir(), uint64(DefaultMinFreeDisk)
	if s.cfg.MinFreeDisk > 0 {
		g.floor = uint64(s.cfg.MinFreeDisk)
	}
	if err := s.checkDisk(); err != nil {
		s.log.Warn("the free-disk floor is not enforced", "err", err)
		return
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pyplay_disk_free_bytes",
		Help: "Free space (for the server's user) in the database's directory.",
	}, func() float64 { return float64(g.free.Load()) }))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(diskCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
				if err := s.checkDisk(); err != nil {
					s.log.Warn("free disk space unknown", "err", err)
				}
			}
		}
	}()
}

// checkDisk measures the free space and logs crossing the floor.
func (s *Server) checkDisk() error {
	g := s.storage
	free, err := diskFree(g.dir)
	if err != nil {
		return err
	}
	g.free.Store(free)
	low := free < g.floor
	if g.low.Swap(low) != low {
		if low {
			s.log.Warn("disk low: refusing new data until there is room", "dir", g.dir, "free_bytes", free, "floor_bytes", g.floor)
		} else {
			s.log.Info("disk space back above the floor: taking new data again", "dir", g.dir, "free_bytes", free)
		}
	}
	return nil
}

// writable is nil when the store may take new data: errDiskLow below the
// floor. A disk reported full is tried anyway: the write that succeeds is
// how the server learns that there is room again.
func (g *storageGuard) writable() error {
	if g.low.Load() {
		return errDiskLow
	}
	return nil
}

// noteWrite learns from a write's outcome whether the disk is full. Any
// code that writes to the store calls it.
func (g *storageGuard) noteWrite(err error, now time.Time) {
	switch {
	case err == nil:
		if g.fullUntil.Swap(0) != 0 {
			g.log.Info("store: writes succeed again after a full disk")
		}
	case errors.Is(err, snippets.ErrStorageFull):
		g.fullErrors.Inc()
		if g.fullUntil.Swap(now.Add(fullMemory).UnixNano()) == 0 {
			g.log.Error("store: the disk is full; writes fail until there is room", "err", err)
		}
	}
}

// state says in a word or two why the store cannot take writes, for
// /healthz; "" when it can.
func (g *storageGuard) state(now time.Time) string {
	switch {
	case now.UnixNano() < g.fullUntil.Load():
		return "disk full"
	case g.low.Load():
		return "disk low"
	}
	return ""
}
