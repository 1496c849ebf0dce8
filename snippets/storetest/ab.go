package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/pyplay/pyplay/snippets"
)

// abTests are the suite's tests of snippets.ABStore and of runs linked to
// an A/B benchmark; Run runs them with the rest.
var abTests = []struct {
	name string
	fn   func(t *testing.T, s snippets.Store)
}{
	{"CreateGetAB", testCreateGetAB},
	{"CreateABRejects", testCreateABRejects},
	{"ListABs", testListABs},
	{"ABRunLinks", testABRunLinks},
	{"ABRunsAndCounts", testABRunsAndCounts},
	{"EndAB", testEndAB},
	{"DeleteSnippetRemovesAB", testDeleteSnippetRemovesAB},
}

func newAB(t *testing.T, s snippets.Store, arms ...string) *snippets.AB {
	t.Helper()
	ab := &snippets.AB{ID: snippets.NewABID(), Arms: arms, Runtimes: []string{"pyodide", "micropython"},
		Threshold: 0.02, BudgetMs: 60000, Interpreters: 5}
	if err := s.CreateAB(ctx(t), ab); err != nil {
		t.Fatalf("CreateAB(%v): %v", arms, err)
	}
	return ab
}

func linkedRun(t *testing.T, s snippets.Store, id, snippetID string, link *snippets.ABLink) *snippets.Run {
	t.Helper()
	r := &snippets.Run{ID: id, SnippetID: snippetID, Runtime: "pyodide", AB: link}
	if err := s.CreateRun(ctx(t), r); err != nil {
		t.Fatalf("CreateRun(%s, %+v): %v", id, link, err)
	}
	return r
}

func testCreateGetAB(t *testing.T, s snippets.Store) {
	a, b, c := newSnippet(t, s, "a = 1"), newSnippet(t, s, "b = 1"), newSnippet(t, s, "c = 1")
	for _, arms := range [][]string{{a.ID, b.ID}, {a.ID, b.ID, c.ID}, {a.ID, a.ID}} {
		ab := &snippets.AB{ID: snippets.NewABID(), Arms: arms, Runtimes: []string{"micropython", "cpython-native"},
			Threshold: 0, BudgetMs: 1500, Interpreters: 3}
		before := time.Now()
		if err := s.CreateAB(ctx(t), ab); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		checkTime(t, "ab Created", ab.Created, before, after)
		got, err := s.GetAB(ctx(t), ab.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Created.Equal(ab.Created) || got.Created.Location() != time.UTC {
			t.Errorf("GetAB Created %v, CreateAB said %v", got.Created, ab.Created)
		}
		got.Created = ab.Created
		if !reflect.DeepEqual(got, ab) {
			t.Errorf("GetAB = %+v, want %+v", got, ab)
		}
	}
	_, err := s.GetAB(ctx(t), snippets.NewABID())
	wantCode(t, "GetAB(unknown)", err, snippets.NotFound)
}

func testCreateABRejects(t *testing.T, s snippets.Store) {
	a := newSnippet(t, s, "a = 2")
	missing := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "never stored"})
	ab := newAB(t, s, a.ID, a.ID)

	again := *ab
	wantCode(t, "CreateAB with a used ID", s.CreateAB(ctx(t), &again), snippets.Conflict)
	wantCode(t, "CreateAB with an unknown arm", s.CreateAB(ctx(t), &snippets.AB{ID: snippets.NewABID(), Arms: []string{a.ID, missing.ID},
		Runtimes: []string{"pyodide"}, Threshold: 0.02, BudgetMs: 60000, Interpreters: 5}), snippets.NotFound)
	wantCode(t, "CreateAB with pyscript", s.CreateAB(ctx(t), &snippets.AB{ID: snippets.NewABID(), Arms: []string{a.ID, a.ID},
		Runtimes: []string{"pyscript"}, Threshold: 0.02, BudgetMs: 60000, Interpreters: 5}), snippets.Invalid)
	wantCode(t, "CreateAB with one arm", s.CreateAB(ctx(t), &snippets.AB{ID: snippets.NewABID(), Arms: []string{a.ID},
		Runtimes: []string{"pyodide"}, Threshold: 0.02, BudgetMs: 60000, Interpreters: 5}), snippets.Invalid)
}

func testListABs(t *testing.T, s snippets.Store) {
	a, b, c, other := newSnippet(t, s, "a = 3"), newSnippet(t, s, "b = 3"), newSnippet(t, s, "c = 3"), newSnippet(t, s, "o = 3")
	first := newAB(t, s, a.ID, b.ID)
	second := newAB(t, s, b.ID, a.ID, c.ID)
	third := newAB(t, s, other.ID, c.ID)
	ids := func(abs []*snippets.AB) []string {
		out := []string{}
		for _, ab := range abs {
			out = append(out, ab.ID)
		}
		return out
	}
	for _, tt := range []struct {
		snippet string
		limit   int
		want    []string
	}{
		{a.ID, 50, []string{second.ID, first.ID}},
		{b.ID, 50, []string{second.ID, first.ID}},
		{c.ID, 50, []string{third.ID, second.ID}},
		{c.ID, 1, []string{third.ID}},
		{other.ID, 50, []string{third.ID}},
		{"unknownsnippet", 50, []string{}},
	} {
		got, err := s.ListABs(ctx(t), tt.snippet, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(got), tt.want) {
			t.Errorf("ListABs(%s, %d) = %v, want %v", tt.snippet, tt.limit, ids(got), tt.want)
		}
	}
	got, err := s.ListABs(ctx(t), c.ID, 50)
	if err != nil || len(got) < 2 || !reflect.DeepEqual(got[1].Arms, []string{b.ID, a.ID, c.ID}) {
		t.Errorf("ListABs keeps the arms in order: %+v, %v", got, err)
	}
}

func testABRunLinks(t *testing.T, s snippets.Store) {
	a, b := newSnippet(t, s, "a = 4"), newSnippet(t, s, "b = 4")
	ab := newAB(t, s, a.ID, b.ID)
	link := &snippets.ABLink{ID: ab.ID, Arm: "b", Interpreter: 3}
	linkedRun(t, s, "ab-run-b", b.ID, link)

	got, err := s.GetRun(ctx(t), "ab-run-b")
	if err != nil || got.AB == nil || *got.AB != *link {
		t.Fatalf("GetRun = %+v (ab %+v), %v; want the link %+v", got, got.AB, err, link)
	}
	runs, err := s.ListRuns(ctx(t), b.ID)
	if err != nil || len(runs) != 1 || runs[0].AB == nil || *runs[0].AB != *link {
		t.Errorf("ListRuns = %+v, %v; want the linked run", runs, err)
	}
	plain := newRun(t, s, "plain-run", b.ID)
	if plain.AB != nil {
		t.Errorf("a run without a link has %+v", plain.AB)
	}

	// A resend without the link keeps it; with the same link it is a no-op.
	resent := linkedRun(t, s, "ab-run-b", b.ID, nil)
	if resent.AB == nil || *resent.AB != *link {
		t.Errorf("resent run without a link: AB = %+v, want the stored %+v", resent.AB, link)
	}
	linkedRun(t, s, "ab-run-b", b.ID, &snippets.ABLink{ID: ab.ID, Arm: "b", Interpreter: 3})

	// Another link, or a link for a plain run, contradicts what is stored.
	for _, tt := range []struct {
		id   string
		link snippets.ABLink
	}{
		{"ab-run-b", snippets.ABLink{ID: ab.ID, Arm: "b", Interpreter: 4}},
		{"ab-run-b", snippets.ABLink{ID: ab.ID, Arm: "a", Interpreter: 3}},
		{"plain-run", snippets.ABLink{ID: ab.ID, Arm: "b", Interpreter: 0}},
	} {
		err := s.CreateRun(ctx(t), &snippets.Run{ID: tt.id, SnippetID: b.ID, Runtime: "pyodide", AB: &tt.link})
		wantCode(t, "CreateRun with another link", err, snippets.Conflict)
	}

	// A link to an unknown benchmark stores nothing.
	err = s.CreateRun(ctx(t), &snippets.Run{ID: "orphan", SnippetID: a.ID, Runtime: "pyodide",
		AB: &snippets.ABLink{ID: snippets.NewABID(), Arm: "a"}})
	wantCode(t, "CreateRun for an unknown ab", err, snippets.NotFound)
	_, err = s.GetRun(ctx(t), "orphan")
	wantCode(t, "GetRun of the refused run", err, snippets.NotFound)

	err = s.CreateRun(ctx(t), &snippets.Run{ID: "bad-arm", SnippetID: a.ID, Runtime: "pyodide",
		AB: &snippets.ABLink{ID: ab.ID, Arm: "d"}})
	wantCode(t, "CreateRun with arm d", err, snippets.Invalid)
}

func testABRunsAndCounts(t *testing.T, s snippets.Store) {
	a, b := newSnippet(t, s, "a = 5"), newSnippet(t, s, "b = 5")
	ab := newAB(t, s, a.ID, b.ID)
	other := newAB(t, s, a.ID, b.ID)
	counts := func(want snippets.ABCounts) {
		t.Helper()
		got, err := s.GetAB(ctx(t), ab.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Stored != want {
			t.Errorf("GetAB counts = %+v, want %+v", got.Stored, want)
		}
		list, err := s.ListABs(ctx(t), a.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range list {
			if l.ID == ab.ID && l.Stored != want {
				t.Errorf("ListABs counts = %+v, want %+v", l.Stored, want)
			}
		}
	}
	counts(snippets.ABCounts{})
	linkedRun(t, s, "r-a0", a.ID, &snippets.ABLink{ID: ab.ID, Arm: "a", Interpreter: 0})
	linkedRun(t, s, "r-b0", b.ID, &snippets.ABLink{ID: ab.ID, Arm: "b", Interpreter: 0})
	linkedRun(t, s, "r-other", a.ID, &snippets.ABLink{ID: other.ID, Arm: "a", Interpreter: 0})
	newRun(t, s, "r-plain", a.ID)
	counts(snippets.ABCounts{Runs: 2, Running: 2})
	appendBatch(t, s, "r-b0", 1, 4, 5)
	appendBatch(t, s, "r-b0", 0, 0, 1, 2, 3)
	appendBatch(t, s, "r-a0", 0, 0, 1)
	appendBatch(t, s, "r-other", 0, 0, 1)
	appendBatch(t, s, "r-plain", 0, 0, 1)
	counts(snippets.ABCounts{Runs: 2, Running: 2, Batches: 3})
	if err := s.FinishRun(ctx(t), "r-a0", snippets.RunDone, ""); err != nil {
		t.Fatal(err)
	}
	counts(snippets.ABCounts{Runs: 2, Running: 1, Done: 1, Batches: 3})
	if err := s.FinishRun(ctx(t), "r-b0", snippets.RunStopped, ""); err != nil {
		t.Fatal(err)
	}
	counts(snippets.ABCounts{Runs: 2, Done: 1, Batches: 3})

	runs, err := s.ABRuns(ctx(t), ab.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != "r-a0" || runs[1].ID != "r-b0" {
		t.Fatalf("ABRuns = %+v, want r-a0 and r-b0, oldest first", runs)
	}
	if runs[1].AB == nil || *runs[1].AB != (snippets.ABLink{ID: ab.ID, Arm: "b"}) || runs[1].Status != snippets.RunStopped {
		t.Errorf("ABRuns run b = %+v", runs[1])
	}
	want := batch("r-b0", 0, 0, 1, 2, 3, 4, 5).Samples
	if !reflect.DeepEqual(runs[1].Samples, want) || runs[1].SampleCount != 6 {
		t.Errorf("ABRuns samples of b = %+v (count %d), want %+v", runs[1].Samples, runs[1].SampleCount, want)
	}
	if len(runs[0].Samples) != 2 {
		t.Errorf("ABRuns samples of a = %+v", runs[0].Samples)
	}
	if none, err := s.ABRuns(ctx(t), snippets.NewABID()); err != nil || len(none) != 0 {
		t.Errorf("ABRuns(unknown) = %v, %v; want none", none, err)
	}
}

func testEndAB(t *testing.T, s snippets.Store) {
	a := newSnippet(t, s, "a = 6")
	ab := newAB(t, s, a.ID, a.ID)
	before := time.Now()
	if err := s.EndAB(ctx(t), ab.ID); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	got, err := s.GetAB(ctx(t), ab.ID)
	if err != nil || got.Ended == nil {
		t.Fatalf("GetAB after EndAB = %+v, %v", got, err)
	}
	checkTime(t, "Ended", *got.Ended, before, after)
	first := *got.Ended
	time.Sleep(2 * time.Millisecond) // so that a second end time would differ
	if err := s.EndAB(ctx(t), ab.ID); err != nil {
		t.Fatal(err)
	}
	if again, err := s.GetAB(ctx(t), ab.ID); err != nil || again.Ended == nil || !again.Ended.Equal(first) {
		t.Errorf("EndAB again changed Ended to %v (%v), want %v", again.Ended, err, first)
	}
	wantCode(t, "EndAB(unknown)", s.EndAB(ctx(t), snippets.NewABID()), snippets.NotFound)
}

func testDeleteSnippetRemovesAB(t *testing.T, s snippets.Store) {
	a, b := newSnippet(t, s, "a = 7"), newSnippet(t, s, "leaked = 7")
	ab := newAB(t, s, a.ID, b.ID)
	linkedRun(t, s, "del-a0", a.ID, &snippets.ABLink{ID: ab.ID, Arm: "a"})
	if err := s.Delete(ctx(t), b.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetAB(ctx(t), ab.ID)
	wantCode(t, "GetAB after deleting an arm", err, snippets.NotFound)
	// A's run stays, without a link to a benchmark that is gone.
	r, err := s.GetRun(ctx(t), "del-a0")
	if err != nil || r.AB != nil {
		t.Errorf("GetRun of A's run = %+v, %v; want it unlinked", r, err)
	}
}
