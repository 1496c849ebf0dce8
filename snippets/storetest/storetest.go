// Package storetest is the one test suite every snippets.Store must pass,
// so that the SQLite and PostgreSQL stores behave alike down to error codes,
// ordering and time precision, and the server can be tested against either.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyplay/pyplay/snippets"
)

// Run runs the suite. open must return a new, empty store for the calling
// test and close it in t.Cleanup; subtests run in parallel, so open is
// called concurrently.
func Run(t *testing.T, open func(t *testing.T) snippets.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s snippets.Store)
	}{
		{"PutGet", testPutGet},
		{"PutTwice", testPutTwice},
		{"PutRejectsUnsealed", testPutRejectsUnsealed},
		{"Interpreter", testInterpreter},
		{"GetUnknown", testGetUnknown},
		{"Delete", testDelete},
		{"Each", testEach},
		{"EachStops", testEachStops},
		{"ConcurrentPuts", testConcurrentPuts},
		{"LargeUnicode", testLargeUnicode},
		{"CreateRun", testCreateRun},
		{"CreateRunIdempotent", testCreateRunIdempotent},
		{"CreateRunConflict", testCreateRunConflict},
		{"CreateRunUnknownSnippet", testCreateRunUnknownSnippet},
		{"CreateRunInvalid", testCreateRunInvalid},
		{"AppendBatchExactlyOnce", testAppendBatchExactlyOnce},
		{"AppendBatchOverlap", testAppendBatchOverlap},
		{"AppendBatchConcurrentResends", testAppendBatchConcurrentResends},
		{"AppendBatchConcurrentMix", testAppendBatchConcurrentMix},
		{"AppendBatchUnknownRun", testAppendBatchUnknownRun},
		{"FinishRun", testFinishRun},
		{"ClaimRun", testClaimRun},
		{"ClaimRunConcurrent", testClaimRunConcurrent},
		{"CountRuns", testCountRuns},
		{"ListRuns", testListRuns},
		{"GetRunSamplesOrdered", testGetRunSamplesOrdered},
		{"GetRunUnknown", testGetRunUnknown},
		{"Ping", testPing},
	}
	for _, tt := range append(tests, abTests...) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func sealed(s snippets.Snippet) *snippets.Snippet {
	s.Seal()
	return &s
}

func put(t *testing.T, s snippets.Store, sn *snippets.Snippet) {
	t.Helper()
	if _, err := s.Put(ctx(t), sn); err != nil {
		t.Fatalf("Put(%s): %v", sn.ID, err)
	}
}

// wantCode fails unless err carries the snippets error code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := snippets.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
	if snippets.ErrorMessage(err) == "internal error" {
		t.Errorf("%s: error %v has no message for people", what, err)
	}
}

// checkTime checks a time the store set: UTC, no finer than the
// nanosecond but no coarser than the millisecond, and between two
// moments (give or take the millisecond the store may truncate).
func checkTime(t *testing.T, what string, got, before, after time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s %v is in %v, want UTC", what, got, got.Location())
	}
	if got.Before(before.Add(-time.Millisecond)) || got.After(after.Add(time.Millisecond)) {
		t.Errorf("%s = %v, want between %v and %v", what, got, before, after)
	}
}

func testPutGet(t *testing.T, s snippets.Store) {
	sn := sealed(snippets.Snippet{Runtime: snippets.PyScript, Title: "Clock", Code: "from pyscript import display\ndisplay(1)\n", HTML: `<div id="out"></div>`})
	before := time.Now()
	created, err := s.Put(ctx(t), sn)
	after := time.Now()
	if err != nil || !created {
		t.Fatalf("Put = %v, %v; want true, nil", created, err)
	}
	checkTime(t, "Created after Put", sn.Created, before, after)

	got, err := s.Get(ctx(t), sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Created.Equal(sn.Created) || got.Created.Location() != time.UTC {
		t.Errorf("Get: Created %v, Put said %v", got.Created, sn.Created)
	}
	got.Created = sn.Created
	if !reflect.DeepEqual(got, sn) {
		t.Errorf("Get = %+v, want %+v", got, sn)
	}
}

func testPutTwice(t *testing.T, s snippets.Store) {
	first := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "print('twice')"})
	put(t, s, first)
	time.Sleep(5 * time.Millisecond) // so a wrongly refreshed Created would show
	again := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "print('twice')"})
	created, err := s.Put(ctx(t), again)
	if err != nil || created {
		t.Fatalf("second Put = %v, %v; want false, nil", created, err)
	}
	if !again.Created.Equal(first.Created) {
		t.Errorf("second Put set Created %v, want the original %v", again.Created, first.Created)
	}
	got, err := s.Get(ctx(t), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Created.Equal(first.Created) {
		t.Errorf("Created changed from %v to %v", first.Created, got.Created)
	}
}

func testPutRejectsUnsealed(t *testing.T, s snippets.Store) {
	unsealed := &snippets.Snippet{Runtime: snippets.Pyodide, Code: "x = 1"}
	_, err := s.Put(ctx(t), unsealed)
	wantCode(t, "Put without Seal", err, snippets.Invalid)

	changed := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "x = 1"})
	changed.Code = "x = 2"
	_, err = s.Put(ctx(t), changed)
	wantCode(t, "Put changed after Seal", err, snippets.Invalid)

	withNUL := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "x\x00"})
	_, err = s.Put(ctx(t), withNUL)
	wantCode(t, "Put with NUL", err, snippets.Invalid)
}

// testInterpreter: a PyScript page's interpreter is kept, the MicroPython
// and Pyodide versions of one page are two snippets, and only the stored
// form of the default (empty) is accepted.
func testInterpreter(t *testing.T, s snippets.Store) {
	page := snippets.Snippet{Runtime: snippets.PyScript, Code: "import sys\nprint(sys.implementation.name)\n", HTML: "<p></p>"}
	pyodide := sealed(page)
	mpy := page
	mpy.Interpreter = snippets.InterpreterMicroPython
	micropython := sealed(mpy)
	put(t, s, pyodide)
	put(t, s, micropython)
	if pyodide.ID == micropython.ID {
		t.Fatalf("the Pyodide and MicroPython pages share ID %s", pyodide.ID)
	}
	for _, want := range []*snippets.Snippet{pyodide, micropython} {
		got, err := s.Get(ctx(t), want.ID)
		if err != nil {
			t.Fatal(err)
		}
		got.Created = want.Created
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Get = %+v, want %+v", got, want)
		}
	}
	var each []snippets.Interpreter
	if err := s.Each(ctx(t), func(sn *snippets.Snippet) error { each = append(each, sn.Interpreter); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []snippets.Interpreter{"", snippets.InterpreterMicroPython}; !reflect.DeepEqual(each, want) {
		t.Errorf("Each gave interpreters %q, want %q", each, want)
	}

	named := page
	named.Interpreter = snippets.InterpreterPyodide
	_, err := s.Put(ctx(t), sealed(named))
	wantCode(t, "Put with the default interpreter named", err, snippets.Invalid)
	wrong := mpy
	wrong.Runtime = snippets.MicroPython
	wrong.HTML = ""
	_, err = s.Put(ctx(t), sealed(wrong))
	wantCode(t, "Put with an interpreter for runtime micropython", err, snippets.Invalid)
	unknown := page
	unknown.Interpreter = "brython"
	_, err = s.Put(ctx(t), sealed(unknown))
	wantCode(t, "Put with an unknown interpreter", err, snippets.Invalid)
}

func testGetUnknown(t *testing.T, s snippets.Store) {
	for _, id := range []string{"AAAAAAAAAAA", "not an id", ""} {
		_, err := s.Get(ctx(t), id)
		wantCode(t, fmt.Sprintf("Get(%q)", id), err, snippets.NotFound)
	}
}

func testDelete(t *testing.T, s snippets.Store) {
	keep := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "keep"})
	gone := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "leaked_secret = 1"})
	put(t, s, keep)
	put(t, s, gone)
	run := newRun(t, s, "del-run", gone.ID)
	appendBatch(t, s, run.ID, 0, 0, 1, 2)
	keepRun := newRun(t, s, "keep-run", keep.ID)
	appendBatch(t, s, keepRun.ID, 0, 0)

	if err := s.Delete(ctx(t), gone.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(ctx(t), gone.ID)
	wantCode(t, "Get after Delete", err, snippets.NotFound)
	_, err = s.GetRun(ctx(t), run.ID)
	wantCode(t, "GetRun after Delete", err, snippets.NotFound)
	if runs, err := s.ListRuns(ctx(t), gone.ID); err != nil || len(runs) != 0 {
		t.Errorf("ListRuns after Delete = %v, %v; want none", runs, err)
	}
	wantCode(t, "Delete again", s.Delete(ctx(t), gone.ID), snippets.NotFound)

	// The other snippet and its run are untouched.
	if _, err := s.Get(ctx(t), keep.ID); err != nil {
		t.Errorf("Get(other snippet): %v", err)
	}
	if r, err := s.GetRun(ctx(t), keepRun.ID); err != nil || len(r.Samples) != 1 {
		t.Errorf("GetRun(other run) = %+v, %v", r, err)
	}

	// The run ID is free again, and the content can be stored again.
	again := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "leaked_secret = 1"})
	if created, err := s.Put(ctx(t), again); err != nil || !created {
		t.Errorf("Put after Delete = %v, %v; want true, nil", created, err)
	}
	newRun(t, s, "del-run", again.ID)
}

// eachCount is more than one page of any sensible page size.
const eachCount = 150

func testEach(t *testing.T, s snippets.Store) {
	var want []string
	for i := range eachCount {
		sn := sealed(snippets.Snippet{Runtime: snippets.MicroPython, Code: fmt.Sprintf("print(%d)", i)})
		put(t, s, sn)
		want = append(want, sn.ID)
	}
	var got []string
	err := s.Each(ctx(t), func(sn *snippets.Snippet) error {
		got = append(got, sn.ID)
		if sn.Code == "" || sn.Created.IsZero() {
			t.Errorf("Each gave an incomplete snippet %+v", sn)
		}
		// Each must not hold anything that keeps fn from using the store,
		// including writing to it.
		if len(got) == 1 {
			extra := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "written during Each"})
			put(t, s, extra)
			want = append(want, extra.ID)
		}
		if _, err := s.Get(ctx(t), sn.ID); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Each gave %d snippets, want %d in creation order\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
}

func testEachStops(t *testing.T, s snippets.Store) {
	calls := 0
	count := func(*snippets.Snippet) error { calls++; return nil }
	if err := s.Each(ctx(t), count); err != nil || calls != 0 {
		t.Errorf("Each on an empty store = %v after %d calls, want nil after 0", err, calls)
	}
	for i := range 3 {
		put(t, s, sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: fmt.Sprint(i)}))
	}
	stop := errors.New("stop")
	calls = 0
	err := s.Each(ctx(t), func(*snippets.Snippet) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Each = %v after %d calls, want fn's error after 1", err, calls)
	}
}

func testConcurrentPuts(t *testing.T, s snippets.Store) {
	const workers, each = 16, 8
	shared := snippets.Snippet{Runtime: snippets.Pyodide, Code: "print('everyone')"}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		creators int
		createds []time.Time
	)
	errs := make(chan error, workers*(each+1))
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				sn := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: fmt.Sprintf("print(%d, %d)", w, i)})
				if created, err := s.Put(ctx(t), sn); err != nil || !created {
					errs <- fmt.Errorf("Put(%d, %d) = %v, %v", w, i, created, err)
				}
			}
			sn := sealed(shared)
			created, err := s.Put(ctx(t), sn)
			if err != nil {
				errs <- fmt.Errorf("Put(shared) from %d: %w", w, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if created {
				creators++
			}
			createds = append(createds, sn.Created)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if creators != 1 {
		t.Errorf("%d Puts of the same content reported created, want exactly 1", creators)
	}
	for _, c := range createds {
		if !c.Equal(createds[0]) {
			t.Errorf("concurrent Puts of one snippet saw different Created times: %v", createds)
			break
		}
	}
	n := 0
	if err := s.Each(ctx(t), func(*snippets.Snippet) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != workers*each+1 {
		t.Errorf("stored %d snippets, want %d", n, workers*each+1)
	}
}

func testLargeUnicode(t *testing.T, s snippets.Store) {
	var b strings.Builder
	for b.Len() < 1<<20 { // far over the default limit: stores do not apply Limits
		b.WriteString("print('héllo wörld ✓ 😀 日本語 עברית e\u0301')\r\n\tx = \"\\\\ \\u0000 '\"\n")
	}
	sn := sealed(snippets.Snippet{Runtime: snippets.PyScript, Title: "Ünïcödé 😀 title", Code: b.String(), HTML: "<p>日本語 & <b>bold</b></p>\n"})
	put(t, s, sn)
	got, err := s.Get(ctx(t), sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != sn.Code || got.Title != sn.Title || got.HTML != sn.HTML {
		t.Errorf("large unicode snippet did not round-trip (code %d bytes, got %d)", len(sn.Code), len(got.Code))
	}
	if got.ContentID() != sn.ID {
		t.Error("stored content no longer hashes to its ID")
	}
}

// Runs.

func newSnippet(t *testing.T, s snippets.Store, code string) *snippets.Snippet {
	t.Helper()
	sn := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: code})
	put(t, s, sn)
	return sn
}

func newRun(t *testing.T, s snippets.Store, id, snippetID string) *snippets.Run {
	t.Helper()
	r := &snippets.Run{ID: id, SnippetID: snippetID, Runtime: "pyodide", RuntimeVersion: "314.0.7",
		Env: json.RawMessage(`{"cores": 2, "browser": "Chromium 156", "crossOriginIsolated": true}`)}
	if err := s.CreateRun(ctx(t), r); err != nil {
		t.Fatalf("CreateRun(%s): %v", id, err)
	}
	return r
}

// appendBatch appends batch seq to run with one sample per sample seq.
func appendBatch(t *testing.T, s snippets.Store, runID string, seq int, sampleSeqs ...int) {
	t.Helper()
	stored, err := s.AppendBatch(ctx(t), batch(runID, seq, sampleSeqs...))
	if err != nil || !stored {
		t.Fatalf("AppendBatch(%s, %d) = %v, %v; want true, nil", runID, seq, stored, err)
	}
}

// batch makes a batch whose samples are derived from their seq, so tests
// can check every field after a round trip.
func batch(runID string, seq int, sampleSeqs ...int) *snippets.Batch {
	b := &snippets.Batch{RunID: runID, Seq: seq}
	for _, n := range sampleSeqs {
		b.Samples = append(b.Samples, sample(n))
	}
	return b
}

func sample(seq int) snippets.Sample {
	return snippets.Sample{Seq: seq, Warmup: seq < 2, NsPerIter: 1000.125 + float64(seq)*0.1, Iterations: 10 + seq, Hidden: seq%3 == 2}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func testCreateRun(t *testing.T, s snippets.Store) {
	sn := newSnippet(t, s, "fib(25)")
	r := &snippets.Run{ID: "0b5c2b0e-8f0a-4c1e-9a55-2f4d6f1f0a11", SnippetID: sn.ID, Runtime: "micropython", RuntimeVersion: "1.27.0",
		Env:    json.RawMessage(`{"userAgent": "Mozilla/5.0 ✓", "cores": 2, "timerResolutionNs": 5000}`),
		Config: json.RawMessage(`{"warmup": 3, "samples": 20}`),
		Status: "done", SampleCount: 99} // ignored: the store sets them
	before := time.Now()
	if err := s.CreateRun(ctx(t), r); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if r.Status != snippets.RunRunning {
		t.Errorf("CreateRun set Status %q, want running", r.Status)
	}
	checkTime(t, "run Created", r.Created, before, after)

	got, err := s.GetRun(ctx(t), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || got.SnippetID != sn.ID || got.Runtime != "micropython" || got.RuntimeVersion != "1.27.0" ||
		got.Status != snippets.RunRunning || got.Finished != nil || got.Error != "" || got.SampleCount != 0 || len(got.Samples) != 0 {
		t.Errorf("GetRun = %+v", got)
	}
	if !got.Created.Equal(r.Created) || got.Created.Location() != time.UTC {
		t.Errorf("GetRun Created %v, CreateRun said %v", got.Created, r.Created)
	}
	if !jsonEqual(got.Env, r.Env) || !jsonEqual(got.Config, r.Config) {
		t.Errorf("env/config = %s / %s, want %s / %s", got.Env, got.Config, r.Env, r.Config)
	}
	if !jsonEqual(got.Phases, json.RawMessage(`{}`)) {
		t.Errorf("absent phases stored as %s, want {}", got.Phases)
	}
}

func testCreateRunIdempotent(t *testing.T, s snippets.Store) {
	sn := newSnippet(t, s, "x = 1")
	first := newRun(t, s, "resent", sn.ID)
	appendBatch(t, s, first.ID, 0, 0, 1)
	time.Sleep(5 * time.Millisecond)
	again := &snippets.Run{ID: "resent", SnippetID: sn.ID, Runtime: "pyodide"}
	if err := s.CreateRun(ctx(t), again); err != nil {
		t.Fatalf("CreateRun resent: %v", err)
	}
	if !again.Created.Equal(first.Created) || again.Status != snippets.RunRunning {
		t.Errorf("resent CreateRun set Created %v, Status %q; want the original %v, running", again.Created, again.Status, first.Created)
	}
	got, err := s.GetRun(ctx(t), "resent")
	if err != nil {
		t.Fatal(err)
	}
	if got.SampleCount != 2 || !got.Created.Equal(first.Created) || got.RuntimeVersion != first.RuntimeVersion {
		t.Errorf("resending a run changed it: %+v", got)
	}
	if runs, err := s.ListRuns(ctx(t), sn.ID); err != nil || len(runs) != 1 {
		t.Errorf("ListRuns after a resend = %d runs, %v; want 1", len(runs), err)
	}
}

func testCreateRunConflict(t *testing.T, s snippets.Store) {
	a := newSnippet(t, s, "a = 1")
	b := newSnippet(t, s, "b = 1")
	newRun(t, s, "taken", a.ID)
	err := s.CreateRun(ctx(t), &snippets.Run{ID: "taken", SnippetID: b.ID, Runtime: "pyodide"})
	wantCode(t, "CreateRun with a run ID of another snippet", err, snippets.Conflict)
	if got, err := s.GetRun(ctx(t), "taken"); err != nil || got.SnippetID != a.ID {
		t.Errorf("conflicting CreateRun changed the run: %+v, %v", got, err)
	}
}

func testCreateRunUnknownSnippet(t *testing.T, s snippets.Store) {
	err := s.CreateRun(ctx(t), &snippets.Run{ID: "orphan", SnippetID: "AAAAAAAAAAA", Runtime: "pyodide"})
	wantCode(t, "CreateRun for an unknown snippet", err, snippets.NotFound)
	_, err = s.GetRun(ctx(t), "orphan")
	wantCode(t, "GetRun of the refused run", err, snippets.NotFound)
}

func testCreateRunInvalid(t *testing.T, s snippets.Store) {
	sn := newSnippet(t, s, "x")
	for _, r := range []*snippets.Run{
		{ID: "", SnippetID: sn.ID, Runtime: "pyodide"},
		{ID: "ok", SnippetID: sn.ID, Runtime: "brython"},
		{ID: "ok", SnippetID: sn.ID, Runtime: "pyodide", Env: json.RawMessage(`[]`)},
	} {
		wantCode(t, fmt.Sprintf("CreateRun(%+v)", r), s.CreateRun(ctx(t), r), snippets.Invalid)
	}
}

func testAppendBatchExactlyOnce(t *testing.T, s snippets.Store) {
	sn := newSnippet(t, s, "x")
	r := newRun(t, s, "once", sn.ID)
	appendBatch(t, s, r.ID, 0, 0, 1, 2, 3, 4)
	stored, err := s.AppendBatch(ctx(t), batch(r.ID, 0, 0, 1, 2, 3, 4))
	if err != nil || stored {
		t.Fatalf("resent batch: AppendBatch = %v, %v; want false, nil", stored, err)
	}
	// A resend is recognised by (run, seq) alone, even if it differs.
	stored, err = s.AppendBatch(ctx(t), batch(r.ID, 0, 7))
	if err != nil || stored {
		t.Fatalf("different batch with a stored seq: AppendBatch = %v, %v; want false, nil", stored, err)
	}
	appendBatch(t, s, r.ID, 1, 5, 6)
	// An empty batch is a batch too.
	appendBatch(t, s, r.ID, 2)
	got, err := s.GetRun(ctx(t), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.SampleCount != 7 || len(got.Samples) != 7 {
		t.Errorf("after resends: SampleCount %d, %d samples; want 7", got.SampleCount, len(got.Samples))
	}
}

func testAppendBatchOverlap(t *testing.T, s snippets.Store) {
	sn := newSnippet(t, s, "x")
	r := newRun(t, s, "overlap", sn.ID)
	appendBatch(t, s, r.ID, 0, 0, 1, 2)
	_, err := s.AppendBatch(ctx(t), batch(r.ID, 1, 3, 4, 2)) // 2 is batch 0's
	wantCode(t, "AppendBatch overlapping another batch", err, snippets.Conflict)
	got, err := s.GetRun(ctx(t), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.SampleCount != 3 || len(got.Samples) != 3 {
		t.Errorf("the refused batch left samples behind: SampleCount %d, samples %+v", got.SampleCount, got.Samples)
	}
	// Nothing of batch 1 was stored, not even its (run, seq): sent again
	// correctly it is new.
	appendBatch(t, s, r.ID, 1, 3, 4)
	_, err = s.AppendBatch(ctx(t), batch(r.ID, 2, 2, 5))
	wantCode(t, "AppendBatch overlapping again", err, snippets.Conflict)
	// Samples within one batch must be unique too.
	_, err = s.AppendBatch(ctx(t), batch(r.ID, 3, 8, 8))
	wantCode(t, "AppendBatch with a repeated sample", err, snippets.Invalid)
}

func testAppendBatchConcurrentResends(t *testing.T, s snippets.Store) {
	sn := newSnippet(t, s, "x")
	r := newRun(t, s, "race", sn.ID)
	const senders = 8
	var wg sync.WaitGroup
	results := make(chan error, senders)
	var mu sync.Mutex
	storedCount := 0
	for range senders {
		wg.Go(func() {
			stored, err := s.AppendBatch(ctx(t), batch(r.ID, 0, 0, 1, 2, 3))
			results <- err
			if stored {
				mu.Lock()
				storedCount++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Errorf("concurrent resend: %v", err)
		}
	}
	if storedCount != 1 {
		t.Errorf("%d of %d concurrent sends of one batch were stored, want 1", storedCount, senders)
	}
	if got, err := s.GetRun(ctx(t), r.ID); err != nil || got.SampleCount != 4 || len(got.Samples) != 4 {
		t.Errorf("after concurrent resends: %+v, %v", got, err)
	}
}

// testAppendBatchConcurrentMix appends, all at once from hundreds of
// goroutines, new batches (each sent by several goroutines), resends of a
// stored batch, batches that conflict with stored samples, batches of an
// unknown run, and finishes the runs meanwhile. A store that commits
// concurrent calls together (group commit) must still give each call the
// result of its own batch alone, and store exactly the new batches.
func testAppendBatchConcurrentMix(t *testing.T, s snippets.Store) {
	const (
		runs      = 6
		batches   = 24 // new batches per run, samples (k+1)*per … (k+1)*per+per-1
		senders   = 3  // goroutines sending each new batch
		conflicts = 8  // conflicting batches per run
		resends   = 4  // resends of batch 0 per run
		per       = 5  // samples per batch
	)
	sn := newSnippet(t, s, "concurrent mix")
	var runIDs []string
	for r := range runs {
		id := fmt.Sprintf("mix-%d", r)
		newRun(t, s, id, sn.ID)
		appendBatch(t, s, id, 0, 0, 1, 2, 3, 4) // batch 0: samples 0 … per-1
		runIDs = append(runIDs, id)
	}

	type call struct {
		what   string
		b      *snippets.Batch
		finish bool   // FinishRun(b.RunID) instead of AppendBatch
		code   string // the error code wanted; "" for success
		isNew  bool   // a new batch: exactly one of its senders stores it; other calls store nothing
		got    bool
		err    error
	}
	var calls []*call
	for r, id := range runIDs {
		for k := range batches {
			seqs := make([]int, per)
			for i := range seqs {
				seqs[i] = (k+1)*per + per - 1 - i // out of order within the batch
			}
			for range senders {
				calls = append(calls, &call{what: fmt.Sprintf("new batch %s/%d", id, k+1), b: batch(id, k+1, seqs...), isNew: true})
			}
		}
		for j := range conflicts {
			// Fresh samples around one of batch 0's, so a store that
			// inserts sample by sample has something to undo.
			b := batch(id, 1000+j, 5000+2*j, j%per, 5001+2*j)
			calls = append(calls, &call{what: fmt.Sprintf("conflicting batch %s/%d", id, b.Seq), b: b, code: snippets.Conflict})
		}
		for range resends {
			calls = append(calls, &call{what: fmt.Sprintf("resent batch %s/0", id), b: batch(id, 0, 0, 1, 2, 3, 4)})
		}
		calls = append(calls, &call{what: fmt.Sprintf("batch of unknown run %d", r), b: batch(fmt.Sprintf("mix-nobody-%d", r), 0, 0), code: snippets.NotFound})
		calls = append(calls, &call{what: "finish " + id, b: &snippets.Batch{RunID: id}, finish: true})
	}
	// Interleave the kinds of call, so that every group a store may form
	// holds some of each.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(calls), func(i, j int) { calls[i], calls[j] = calls[j], calls[i] })

	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() {
			<-start
			if c.finish {
				c.err = s.FinishRun(ctx(t), c.b.RunID, snippets.RunDone, "")
				return
			}
			c.got, c.err = s.AppendBatch(ctx(t), c.b)
		})
	}
	close(start)
	wg.Wait()

	storedBy := map[string]int{} // new batch → senders told it was stored
	for _, c := range calls {
		if c.code != "" {
			if c.got {
				t.Errorf("%s: stored, want error code %s", c.what, c.code)
			}
			if got := snippets.ErrorCode(c.err); got != c.code {
				t.Errorf("%s: error %v (code %q), want code %q", c.what, c.err, got, c.code)
			}
			continue
		}
		if c.err != nil {
			t.Errorf("%s: %v", c.what, c.err)
			continue
		}
		switch {
		case c.isNew:
			n := storedBy[c.what]
			if c.got {
				n++
			}
			storedBy[c.what] = n
		case c.got:
			t.Errorf("%s: stored, want false (stored already)", c.what)
		}
	}
	if len(storedBy) != runs*batches {
		t.Errorf("%d new batches answered without error, want %d", len(storedBy), runs*batches)
	}
	for what, n := range storedBy {
		if n != 1 {
			t.Errorf("%s: %d of %d senders were told it was stored, want exactly 1", what, n, senders)
		}
	}

	// Exactly batch 0 and the new batches are stored, sample for sample.
	var want []snippets.Sample
	for i := range (batches + 1) * per {
		want = append(want, sample(i))
	}
	for _, id := range runIDs {
		got, err := s.GetRun(ctx(t), id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Samples, want) {
			t.Errorf("run %s: %d samples stored, want %d\ngot  %+v\nwant %+v", id, len(got.Samples), len(want), got.Samples, want)
		}
		if got.SampleCount != len(want) {
			t.Errorf("run %s: SampleCount %d, want %d", id, got.SampleCount, len(want))
		}
		if got.Status != snippets.RunDone || got.Finished == nil {
			t.Errorf("run %s: status %q, finished %v after a concurrent FinishRun", id, got.Status, got.Finished)
		}
		// Nothing of a refused batch was kept, not even its (run, seq):
		// without the overlapping sample it is new.
		appendBatch(t, s, id, 1000, 5000, 5001)
	}
	for r := range runs {
		_, err := s.GetRun(ctx(t), fmt.Sprintf("mix-nobody-%d", r))
		wantCode(t, "GetRun of the unknown run", err, snippets.NotFound)
	}
}

func testAppendBatchUnknownRun(t *testing.T, s snippets.Store) {
	_, err := s.AppendBatch(ctx(t), batch("nobody", 0, 0))
	wantCode(t, "AppendBatch to an unknown run", err, snippets.NotFound)
	_, err = s.AppendBatch(ctx(t), &snippets.Batch{RunID: "", Seq: 0})
	wantCode(t, "AppendBatch without a run", err, snippets.Invalid)
}

func testFinishRun(t *testing.T, s snippets.Store) {
	sn := newSnippet(t, s, "x")
	r := newRun(t, s, "finish", sn.ID)
	before := time.Now()
	if err := s.FinishRun(ctx(t), r.ID, snippets.RunFailed, "MemoryError: out of memory"); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	got, err := s.GetRun(ctx(t), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != snippets.RunFailed || got.Error != "MemoryError: out of memory" || got.Finished == nil {
		t.Fatalf("after FinishRun: %+v", got)
	}
	checkTime(t, "Finished", *got.Finished, before, after)
	finished := *got.Finished

	// The outcome is final: a resend changes nothing, another outcome is a
	// Conflict.
	time.Sleep(5 * time.Millisecond)
	if err := s.FinishRun(ctx(t), r.ID, snippets.RunFailed, "resent"); err != nil {
		t.Errorf("a resent FinishRun: %v", err)
	}
	wantCode(t, "FinishRun with another status", s.FinishRun(ctx(t), r.ID, snippets.RunDone, ""), snippets.Conflict)
	got, err = s.GetRun(ctx(t), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != snippets.RunFailed || got.Error != "MemoryError: out of memory" || got.Finished == nil || !got.Finished.Equal(finished) {
		t.Errorf("after more FinishRuns: status %q, error %q, finished %v (first %v)", got.Status, got.Error, got.Finished, finished)
	}
	// Late batches are still accepted.
	appendBatch(t, s, r.ID, 0, 0)

	wantCode(t, "FinishRun of an unknown run", s.FinishRun(ctx(t), "nobody", snippets.RunDone, ""), snippets.NotFound)
	wantCode(t, "FinishRun with status running", s.FinishRun(ctx(t), r.ID, snippets.RunRunning, ""), snippets.Invalid)
	wantCode(t, "FinishRun with an unknown status", s.FinishRun(ctx(t), r.ID, "ok", ""), snippets.Invalid)
}

func testListRuns(t *testing.T, s snippets.Store) {
	sn := newSnippet(t, s, "x")
	other := newSnippet(t, s, "y")
	if runs, err := s.ListRuns(ctx(t), sn.ID); err != nil || runs == nil || len(runs) != 0 {
		t.Errorf("ListRuns without runs = %#v, %v; want an empty list", runs, err)
	}
	ids := []string{"first", "second", "third", "fourth"}
	for i, id := range ids {
		newRun(t, s, id, sn.ID)
		if i%2 == 1 {
			time.Sleep(3 * time.Millisecond) // some runs share a millisecond, some do not
		}
	}
	newRun(t, s, "elsewhere", other.ID)
	appendBatch(t, s, "second", 0, 0, 1, 2)
	appendBatch(t, s, "second", 1, 3)
	appendBatch(t, s, "fourth", 0, 0)
	if err := s.FinishRun(ctx(t), "first", snippets.RunDone, ""); err != nil {
		t.Fatal(err)
	}

	runs, err := s.ListRuns(ctx(t), sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	counts := map[string]int{}
	for _, r := range runs {
		got = append(got, r.ID)
		counts[r.ID] = r.SampleCount
		if len(r.Samples) != 0 {
			t.Errorf("ListRuns returned samples for %s", r.ID)
		}
		if r.SnippetID != sn.ID || r.Created.IsZero() || r.Created.Location() != time.UTC {
			t.Errorf("ListRuns gave %+v", r)
		}
	}
	if want := []string{"fourth", "third", "second", "first"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListRuns order %v, want newest first %v", got, want)
	}
	if want := map[string]int{"first": 0, "second": 4, "third": 0, "fourth": 1}; !reflect.DeepEqual(counts, want) {
		t.Errorf("SampleCounts %v, want %v", counts, want)
	}
	if runs[len(runs)-1].Status != snippets.RunDone || runs[len(runs)-1].Finished == nil {
		t.Errorf("ListRuns lost the finish of %+v", runs[len(runs)-1])
	}
	if runs, err := s.ListRuns(ctx(t), "AAAAAAAAAAA"); err != nil || len(runs) != 0 {
		t.Errorf("ListRuns of an unknown snippet = %v, %v; want an empty list", runs, err)
	}
}

func testGetRunSamplesOrdered(t *testing.T, s snippets.Store) {
	sn := newSnippet(t, s, "x")
	r := newRun(t, s, "ordered", sn.ID)
	// Batches arrive out of order, samples within them too.
	appendBatch(t, s, r.ID, 2, 11, 10, 12)
	appendBatch(t, s, r.ID, 0, 4, 3, 2, 1, 0)
	appendBatch(t, s, r.ID, 1, 9, 5, 7, 6, 8)
	got, err := s.GetRun(ctx(t), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var want []snippets.Sample
	for i := range 13 {
		want = append(want, sample(i))
	}
	if !reflect.DeepEqual(got.Samples, want) {
		t.Errorf("samples\ngot  %+v\nwant %+v", got.Samples, want)
	}
	if got.SampleCount != 13 {
		t.Errorf("SampleCount = %d, want 13", got.SampleCount)
	}
}

func testGetRunUnknown(t *testing.T, s snippets.Store) {
	_, err := s.GetRun(ctx(t), "nobody")
	wantCode(t, "GetRun of an unknown run", err, snippets.NotFound)
}

func testPing(t *testing.T, s snippets.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
}
