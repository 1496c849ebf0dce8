// Package serveproc runs the pyplay binary under test as a child process of
// a load generator (cmd/wsload, cmd/snippetbench) and stops it as an
// operator's Ctrl-C would: an interrupt, then a wait for the graceful
// shutdown, and a kill only if that hangs. Every load run thus also shuts
// the server down the way production does.
package serveproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// StopTimeout is how long Stop waits for the process to exit after the
// interrupt before it kills it: longer than pyplay's own shutdown bound,
// so that a kill means shutdown hung.
const StopTimeout = 15 * time.Second

// Process is a started child process.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // of Wait, read after done is closed
}

// Start starts cmd, prepared by the caller (arguments, environment, output
// or pipes). A missing binary is reported with a hint to build it.
func Start(cmd *exec.Cmd) (*Process, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w (run make build first)", cmd.Path, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process ID, e.g. to read /proc/PID/status.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// CPU returns the CPU time the process has used so far (user + system),
// from /proc/PID/stat; 0 where that cannot be read. A cost figure that,
// unlike throughput and latency, does not depend much on how busy the rest
// of the machine is.
func (p *Process) CPU() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): state is
	// the first, utime and stime the 12th and 13th, in clock ticks.
	_, rest, ok := strings.Cut(string(data), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	var user, sys int64
	fmt.Sscan(f[11], &user)
	fmt.Sscan(f[12], &sys)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(user+sys) * time.Second / ticksPerSecond
}

// Stop interrupts the process and waits for it to exit; after StopTimeout
// it kills it. It returns nil when the process exited cleanly after the
// interrupt, and otherwise what went wrong (killed, or a non-zero exit).
func (p *Process) Stop() error { return p.stop(StopTimeout) }

func (p *Process) stop(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.exitErr()
	default:
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
		return p.exitErr()
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not exit within %v of the interrupt; killed", p.cmd.Path, timeout)
	}
}

func (p *Process) exitErr() error {
	if p.err != nil {
		return fmt.Errorf("%s: %w", p.cmd.Path, p.err)
	}
	return nil
}
