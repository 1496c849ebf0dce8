package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pyplay/pyplay/snippets"
)

// TestBenchNativeCompare runs `pyplay bench-native -compare` (the built
// binary, with the machine's python3) against a server, with a tiny
// program and budget: the A/B benchmark it creates has rounds, one run per
// arm and interpreter linked to it, and a verdict, which it prints.
func TestBenchNativeCompare(t *testing.T) {
	needPython(t)
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := startMain(t, "-db", "sqlite:"+filepath.Join(t.TempDir(), "pyplay.db"))
	base := m.URL()
	a := createSnippet(t, base, "s = sum(range(300))\n")
	b := createSnippet(t, base, "s = sum(range(330))\n")

	cmd := exec.Command(bin, "bench-native", "-server", base, "-compare", a, "-snippet", b,
		"-interpreters", "2", "-warmup-ms", "0", "-min-warmup", "1", "-budget-ms", "1500")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench-native -compare: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, "A/B benchmark ") || !strings.Contains(text, "cpython-native: ") || !strings.Contains(text, base+"/bench/ab/") {
		t.Errorf("output:\n%s", text)
	}
	i := strings.Index(text, "/bench/ab/")
	id := text[i+len("/bench/ab/"):][:16]

	r := mustCall(t, "GET", base+"/api/bench/ab/"+id, "")
	if r.status != 200 {
		t.Fatalf("GET ab %s: %d %s", id, r.status, r.body)
	}
	var v struct {
		A, B     string
		Runtimes []string
		Rounds   int
		Done     bool
		Results  []struct{ Runtime, Arm, Verdict, Summary string }
		Runs     []struct {
			Arm, Status string
			Interpreter int
			Samples     int
		}
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	if v.A != a || v.B != b || !slices.Equal(v.Runtimes, []string{snippets.CPythonNative}) || v.Rounds < 2 || !v.Done {
		t.Errorf("ab: %+v", v)
	}
	if len(v.Results) != 1 || v.Results[0].Arm != "b" || !slices.Contains([]string{"faster", "slower", "same", "undecided"}, v.Results[0].Verdict) ||
		!strings.Contains(text, v.Results[0].Summary) {
		t.Errorf("results %+v; output:\n%s", v.Results, text)
	}
	// One run per arm and interpreter, ended done, with as many measured
	// samples per arm in each interpreter: one per round.
	if len(v.Runs) != 4 {
		t.Fatalf("runs: %+v", v.Runs)
	}
	perInterp := map[int][]int{}
	for _, run := range v.Runs {
		if run.Status != snippets.RunDone {
			t.Errorf("run %+v not done", run)
		}
		perInterp[run.Interpreter] = append(perInterp[run.Interpreter], run.Samples)
	}
	for k, n := range perInterp {
		if len(n) != 2 || n[0] != n[1] || n[0] < 1 {
			t.Errorf("interpreter %d: measured samples per arm %v", k, n)
		}
	}

	// An arm that raises ends the benchmark: its run fails with the
	// traceback, which names the arm's file, and the others stop.
	bad := createSnippet(t, base, "x = 1\ny = x / 0\n")
	out2, _, err := pyplay(t, nil, "bench-native", "-server", base, "-compare", a, "-snippet", bad,
		"-interpreters", "1", "-warmup-ms", "0", "-min-warmup", "1", "-budget-ms", "1500")
	if err == nil || !strings.Contains(err.Error(), "B ("+bad+") failed") || !strings.Contains(err.Error(), `File "b/main.py", line 2`) {
		t.Errorf("failing arm: %v\n%s", err, out2)
	}
	runs := listRuns(t, base, bad)
	if len(runs) != 1 || runs[0].Status != snippets.RunFailed || !strings.Contains(runs[0].Error, "ZeroDivisionError") {
		t.Errorf("the failing arm's run: %+v", runs)
	}
}
