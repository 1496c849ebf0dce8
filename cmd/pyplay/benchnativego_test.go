package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/pyplay/pyplay/server/bench/suite"
	"github.com/pyplay/pyplay/snippets/examples"
)

func TestSuiteWorkloadOf(t *testing.T) {
	byName := map[string]string{}
	for _, e := range examples.All() {
		byName[e.Name] = e.Code
	}
	for _, w := range suite.Workloads() {
		code := byName[w.Python]
		for _, variant := range []string{code, strings.ReplaceAll(code, "\n", "\r\n"), code + "\n\n", strings.ReplaceAll(code, "\n", "  \n")} {
			if got, ok := suiteWorkloadOf(variant); !ok || got.ID != w.ID {
				t.Errorf("%s: suiteWorkloadOf = %q, %v", w.ID, got.ID, ok)
			}
		}
		edited := strings.Replace(code, "print(run(", "print(2 * run(", 1)
		if got, ok := suiteWorkloadOf(edited); ok {
			t.Errorf("%s edited: suiteWorkloadOf = %q", w.ID, got.ID)
		}
	}
	if _, ok := suiteWorkloadOf(byName["01-hello"]); ok {
		t.Error("01-hello is taken for a suite workload")
	}
}

func goDriverLines(t *testing.T, s goDriverSettings, run func(string, int) (string, error)) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	w, _ := suite.ByID("fib")
	runGoDriver(&buf, w, s, func() bool { return false }, run)
	var lines []map[string]any
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestGoDriverFollowsTheHarnessRules(t *testing.T) {
	s := goDriverSettings{Samples: 4, WarmupMs: 0, MinWarmup: 3, MaxWarmupMs: 5000, BudgetMs: 60000, MinSampleMs: 1}
	lines := goDriverLines(t, s, suite.Run)
	if len(lines) < 1 || lines[0]["type"] != "env" {
		t.Fatalf("first line %v, want env", lines)
	}
	env := lines[0]["env"].(map[string]any)
	cfg := lines[0]["config"].(map[string]any)
	if !strings.HasPrefix(lines[0]["runtimeVersion"].(string), "go1.") || env["timerResolutionNs"].(float64) <= 0 ||
		cfg["workload"] != "fib" || cfg["check"] != "75025" || cfg["ticksPerSample"].(float64) != 100 {
		t.Errorf("env line %v", lines[0])
	}
	var warm, measured int
	itersSeen := map[float64]bool{}
	for _, l := range lines[1 : len(lines)-1] {
		if l["type"] != "sample" || !(l["ns"].(float64) > 0) || l["iters"].(float64) < 1 {
			t.Fatalf("line %v", l)
		}
		if l["warmup"].(bool) {
			warm++
		} else {
			measured++
			itersSeen[l["iters"].(float64)] = true
		}
	}
	if warm < 3 || measured != 4 || len(itersSeen) != 1 {
		t.Errorf("%d warmup and %d measured samples (iterations %v), want ≥ 3 and 4 of one count", warm, measured, itersSeen)
	}
	if last := lines[len(lines)-1]; last["type"] != "done" || last["reason"] != "" {
		t.Errorf("last line %v", last)
	}
}

func TestGoDriverChecksResults(t *testing.T) {
	s := goDriverSettings{Samples: 4, MinWarmup: 1, MaxWarmupMs: 1000, BudgetMs: 1000, MinSampleMs: 1}
	calls := 0
	lines := goDriverLines(t, s, func(id string, n int) (string, error) {
		calls++
		if calls > 3 {
			return "75024", nil
		}
		return suite.Run(id, n)
	})
	last := lines[len(lines)-1]
	if last["type"] != "error" || !strings.Contains(last["error"].(string), `returned "75024", want "75025"`) {
		t.Errorf("last line %v, want the wrong result reported", last)
	}
}

func TestBenchNativeGoFlags(t *testing.T) {
	b := &benchNative{stdout: io.Discard, stderr: io.Discard}
	if err := b.parseFlags([]string{"-snippet", "abcdefgh", "-go", "-compare", "abcdefgi"}); err == nil || !strings.Contains(err.Error(), "-go and -compare") {
		t.Errorf("-go with -compare: %v", err)
	}
}
