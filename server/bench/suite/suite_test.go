package suite

import "testing"

func TestNativeGoMatchesCheck(t *testing.T) {
	for _, w := range Workloads() {
		got, err := Run(w.ID, w.N)
		if err != nil {
			t.Fatalf("%s: %v", w.ID, err)
		}
		if got != w.Check {
			t.Errorf("%s(%d) = %q, want %q", w.ID, w.N, got, w.Check)
		}
	}
}
