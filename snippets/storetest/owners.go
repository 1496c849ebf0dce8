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
	appendBatch(t, s, r.ID, 0, 0, 1, 2)
	want := snippets.RunClaim{Owner: "owner-a", SnippetID: sn.ID, Runtime: "pyodide", Status: snippets.RunRunning, SampleCount: 3, Created: r.Created}
	got, err := s.ClaimRun(ctx(t), r.ID, "owner-a")
	if err != nil || !sameClaim(got, want) {
		t.Fatalf("first claim = %+v, %v; want %+v", got, err, want)
	}
	if got, err := s.ClaimRun(ctx(t), r.ID, "owner-a"); err != nil || got.Owner != "owner-a" {
		t.Errorf("the owner's claim again = %+v, %v; want owner-a", got, err)
	}
	if err := s.FinishRun(ctx(t), r.ID, snippets.RunDone, ""); err != nil {
		t.Fatal(err)
	}
	want.Status = snippets.RunDone
	if got, err := s.ClaimRun(ctx(t), r.ID, "owner-b"); err != nil || !sameClaim(got, want) {
		t.Errorf("another claim = %+v, %v; want the first owner: %+v", got, err, want)
	}
	// A resent CreateRun leaves the owner alone.
	newRun(t, s, "claimed", sn.ID)
	if got, err := s.ClaimRun(ctx(t), r.ID, "owner-b"); err != nil || got.Owner != "owner-a" {
		t.Errorf("a claim after a resent CreateRun = %+v, %v; want owner-a", got, err)
	}
	_, err = s.ClaimRun(ctx(t), "nobody", "owner-a")
	wantCode(t, "ClaimRun of an unknown run", err, snippets.NotFound)
	for _, bad := range []string{"", snippets.LegacyRunOwner, strings.Repeat("x", snippets.MaxRunOwnerLen+1)} {
		_, err = s.ClaimRun(ctx(t), r.ID, bad)
		wantCode(t, fmt.Sprintf("ClaimRun with owner %.10q", bad), err, snippets.Invalid)
	}
}

// testClaimRunConcurrent: of many producers claiming one run at once,
// exactly one wins, and every one of them is told who.
func testClaimRunConcurrent(t *testing.T, s snippets.Store) {
	sn := newSnippet(t, s, "x")
	r := newRun(t, s, "contested", sn.ID)
	const n = 8
	got := make([]*snippets.RunClaim, n)
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
		if got[i].Owner != got[0].Owner {
			t.Fatalf("claims disagree on the owner: %q and %q", got[i].Owner, got[0].Owner)
		}
	}
	if !strings.HasPrefix(got[0].Owner, "owner-") {
		t.Errorf("owner %q", got[0].Owner)
	}
}

func testCountRuns(t *testing.T, s snippets.Store) {
	sn, other := newSnippet(t, s, "x"), newSnippet(t, s, "y")
	for i := range 3 {
		newRun(t, s, fmt.Sprintf("counted-%d", i), sn.ID)
	}
	newRun(t, s, "counted-0", sn.ID) // a resend is no new run
	newRun(t, s, "elsewhere", other.ID)
	for id, want := range map[string]int{sn.ID: 3, other.ID: 1, "unknownSnip": 0} {
		if n, err := s.CountRuns(ctx(t), id); err != nil || n != want {
			t.Errorf("CountRuns(%s) = %d, %v; want %d", id, n, err, want)
		}
	}
}

func sameClaim(got *snippets.RunClaim, want snippets.RunClaim) bool {
	g := *got
	if !g.Created.Equal(want.Created) {
		return false
	}
	g.Created = want.Created
	return g == want
}
