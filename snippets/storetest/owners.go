package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pyplay/pyplay/snippets"
)

func testClaimRun(t *testing.T, s snippets.Store) {
	sn := newSnippet(t, s, "x")
	r := newRun(t, s, "claimed", sn.ID)
	got, err := s.ClaimRun(ctx(t), r.ID, "owner-a")
	if err != nil || got != "owner-a" {
		t.Fatalf("first claim = %q, %v; want owner-a", got, err)
	}
	if got, err := s.ClaimRun(ctx(t), r.ID, "owner-a"); err != nil || got != "owner-a" {
		t.Errorf("the owner's claim again = %q, %v; want owner-a", got, err)
	}
	if got, err := s.ClaimRun(ctx(t), r.ID, "owner-b"); err != nil || got != "owner-a" {
		t.Errorf("another claim = %q, %v; want the first owner, owner-a", got, err)
	}
	// The owner is not part of the run as readers see it.
	if again := newRun(t, s, "claimed", sn.ID); again.Status != snippets.RunRunning {
		t.Errorf("a resent CreateRun of a claimed run: %+v", again)
	}
	_, err = s.ClaimRun(ctx(t), "nobody", "owner-a")
	wantCode(t, "ClaimRun of an unknown run", err, snippets.NotFound)
	_, err = s.ClaimRun(ctx(t), r.ID, "")
	wantCode(t, "ClaimRun without an owner", err, snippets.Invalid)
	_, err = s.ClaimRun(ctx(t), r.ID, strings.Repeat("x", snippets.MaxRunOwnerLen+1))
	wantCode(t, "ClaimRun with a long owner", err, snippets.Invalid)
}

// testClaimRunConcurrent: of many producers claiming one run at once,
// exactly one wins, and every one of them is told who.
func testClaimRunConcurrent(t *testing.T, s snippets.Store) {
	sn := newSnippet(t, s, "x")
	r := newRun(t, s, "contested", sn.ID)
	const n = 8
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.ClaimRun(ctx(t), r.ID, fmt.Sprintf("owner-%d", i))
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("claim %d: %v", i, errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("claims disagree on the owner: %q", got)
		}
	}
	if !strings.HasPrefix(got[0], "owner-") {
		t.Errorf("owner %q", got[0])
	}
}
