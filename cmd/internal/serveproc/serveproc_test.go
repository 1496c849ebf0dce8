package serveproc

import (
	"bufio"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the child: with SERVEPROC_CHILD set it
// behaves as a server that shuts down on an interrupt ("graceful"), or as
// one that hangs ("stuck"), after saying it is ready.
func TestMain(m *testing.M) {
	switch os.Getenv("SERVEPROC_CHILD") {
	case "graceful":
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt)
		os.Stdout.WriteString("ready\n")
		<-c
		os.Exit(0)
	case "busy":
		// Burns CPU until interrupted.
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt)
		os.Stdout.WriteString("ready\n")
		for n := 0; ; n++ {
			select {
			case <-c:
				os.Exit(0)
			default:
			}
			for i := 0; i < 1e6; i++ {
				n ^= i
			}
		}
	case "stuck":
		signal.Ignore(os.Interrupt)
		os.Stdout.WriteString("ready\n")
		time.Sleep(time.Hour) // not select{}: the runtime would call that a deadlock and exit
	}
	os.Exit(m.Run())
}

func startChild(t *testing.T, mode string) *Process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SERVEPROC_CHILD="+mode)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	// The signal handler is in place once the child says so.
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	return p
}

func TestStopGraceful(t *testing.T) {
	p := startChild(t, "graceful")
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop = %v, want nil: the child exits 0 on the interrupt", err)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("second Stop = %v", err)
	}
}

func TestStopKillsAHungProcess(t *testing.T) {
	p := startChild(t, "stuck")
	err := p.stop(100 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Stop = %v, want an error saying it was killed", err)
	}
	if st := p.cmd.ProcessState.String(); st != "signal: killed" {
		t.Fatalf("child ended with %q, want killed", st)
	}
}

func TestStartMissingBinary(t *testing.T) {
	_, err := Start(exec.Command("/nonexistent/pyplay", "serve"))
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("Start = %v, want an error with a hint to build", err)
	}
}

func TestCPU(t *testing.T) {
	idle := startChild(t, "graceful")
	busy := startChild(t, "busy")
	deadline := time.Now().Add(30 * time.Second)
	for busy.CPU() < 100*time.Millisecond && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := busy.CPU(); got < 100*time.Millisecond {
		t.Errorf("a busy child used %v of CPU, want it counted (≥ 100 ms)", got)
	}
	if got := idle.CPU(); got >= busy.CPU() {
		t.Errorf("an idle child used %v, a busy one %v", got, busy.CPU())
	}
	for _, p := range []*Process{idle, busy} {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	}
	if got := idle.CPU(); got != 0 {
		t.Errorf("CPU of an exited process = %v, want 0", got)
	}
}
