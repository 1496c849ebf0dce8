package snippets

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// decodeSeeds are inputs for FuzzDecode besides those in
// testdata/fuzz/FuzzDecode.
var decodeSeeds = []string{
	`{"code":"print(1)"}`,
	`{"code":"print('hi')","runtime":"micropython","title":"Hi"}`,
	`{"code":"from pyscript import display\ndisplay(1)","runtime":"pyscript","html":"<div id=\"out\"></div>"}`,
	`{"code":"from pyscript import display\ndisplay(1)","runtime":"pyscript","interpreter":"micropython"}`,
	`{"code":"x","runtime":"pyscript","interpreter":"pyodide","html":"<p>"}`,
	`{"code":"x","runtime":"pyodide","interpreter":"micropython"}`,
	`{"code":"x","code":"y"}`,
	`{"code":"\u0000"}`,
	`{"code":"x"} trailing`,
	`{"code":"x","title":"a\u2028b"}`,
	"{\"code\":\"\xff\"}",
	`{"code":"\ud800"}`,
	`{"code":"\ud83d\ude00 \\udc00"}`,
	`[]`,
	``,
}

// FuzzDecode checks that Decode never panics, rejects only with Invalid or
// TooLarge, and that whatever it accepts is valid, sealed, and decodes to
// the same ID when sent again.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := Decode(bytes.NewReader(body), DefaultLimits)
		if err != nil {
			if c := ErrorCode(err); c != Invalid && c != TooLarge {
				t.Fatalf("Decode(%q): error code %q (%v), want invalid or too_large", body, c, err)
			}
			if s != nil {
				t.Fatalf("Decode(%q) returned a snippet with an error", body)
			}
			return
		}
		if err := DefaultLimits.Validate(s); err != nil {
			t.Fatalf("Decode(%q) accepted %+v, which does not validate: %v", body, s, err)
		}
		if !ValidID(s.ID) || s.ID != s.ContentID() {
			t.Fatalf("Decode(%q): ID %q, ContentID %q", body, s.ID, s.ContentID())
		}
		if err := s.CheckStorable(); err != nil {
			t.Fatalf("Decode(%q) accepted %+v, which a store refuses: %v", body, s, err)
		}
		// Sent again with the interpreter named (pyodide for a PyScript page
		// that named none): the same snippet.
		fields := map[string]string{"code": s.Code, "runtime": string(s.Runtime), "title": s.Title, "html": s.HTML}
		if i := s.EffectiveInterpreter(); i != "" {
			fields["interpreter"] = string(i)
		}
		again, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := Decode(bytes.NewReader(again), DefaultLimits)
		if err != nil {
			t.Fatalf("re-encoded %q: %v", again, err)
		}
		if s2.ID != s.ID {
			t.Fatalf("re-encoding changed the ID from %s to %s", s.ID, s2.ID)
		}
	})
}

// sealSeeds are snippets for FuzzSeal besides those in
// testdata/fuzz/FuzzSeal; TestSealSeedsDistinct checks that they all have
// different IDs.
var sealSeeds = []Snippet{
	{Runtime: Pyodide, Code: "print(1)"},
	{Runtime: MicroPython, Code: "print(1)"},
	{Runtime: Pyodide, Code: "print(1)", Title: "one"},
	{Runtime: PyScript, Code: "print(1)", HTML: "<p></p>"},
	{Runtime: PyScript, Code: "print(1)", HTML: "<p></p>", Interpreter: InterpreterMicroPython},
	{Runtime: PyScript, Code: "print(1)", Interpreter: InterpreterMicroPython},
	{Runtime: Pyodide, Code: "print(1)\n"},
	{Runtime: Pyodide, Code: "print(26)"},
	{Runtime: Pyodide, Code: "é😀"},
	{Runtime: "", Code: ""},
}

// FuzzSeal checks the ID's invariants: valid, stable, a function of the
// content only, and sensitive to every field and to field boundaries.
func FuzzSeal(f *testing.F) {
	for _, s := range sealSeeds {
		f.Add(string(s.Runtime), s.Title, s.Code, s.HTML, string(s.Interpreter))
	}
	f.Fuzz(func(t *testing.T, runtime, title, code, html, interp string) {
		in := Interpreter(interp)
		s := Snippet{Runtime: Runtime(runtime), Title: title, Code: code, HTML: html, Interpreter: in}
		s.Seal()
		if !ValidID(s.ID) {
			t.Fatalf("Seal gave invalid ID %q", s.ID)
		}
		same := Snippet{Runtime: Runtime(runtime), Title: strings.Clone(title), Code: strings.Clone(code), HTML: html, Interpreter: in, ID: "x"}
		same.Seal()
		if same.ID != s.ID {
			t.Fatalf("same content, IDs %q and %q", s.ID, same.ID)
		}
		// Normalising never changes the ID: the explicit default is the
		// snippet without one.
		norm := s
		norm.Normalize()
		if norm.ContentID() != s.ID {
			t.Fatalf("Normalize changed the ID of %+v", s)
		}
		if strings.ContainsRune(runtime+title+code+html+interp, 0) {
			return // NUL is rejected by validation; the boundaries below assume it absent
		}
		changed := []Snippet{
			{Runtime: Runtime(runtime + "x"), Title: title, Code: code, HTML: html, Interpreter: in},
			{Runtime: Runtime(runtime), Title: title + "x", Code: code, HTML: html, Interpreter: in},
			{Runtime: Runtime(runtime), Title: title, Code: code + "x", HTML: html, Interpreter: in},
			{Runtime: Runtime(runtime), Title: title, Code: code, HTML: html + "x", Interpreter: in},
			{Runtime: Runtime(runtime), Title: title, Code: code, HTML: html, Interpreter: in + "x"},
		}
		if title != "" { // move the title's last byte into the code
			changed = append(changed, Snippet{Runtime: Runtime(runtime), Title: title[:len(title)-1], Code: title[len(title)-1:] + code, HTML: html, Interpreter: in})
		}
		if in != "" && in != InterpreterPyodide { // drop the interpreter, or move it into the page body
			changed = append(changed,
				Snippet{Runtime: Runtime(runtime), Title: title, Code: code, HTML: html},
				Snippet{Runtime: Runtime(runtime), Title: title, Code: code, HTML: html + interp})
		}
		for _, c := range changed {
			if c.ContentID() == s.ID {
				t.Fatalf("%+v and %+v share ID %s", s, c, s.ID)
			}
		}
	})
}

func TestSealSeedsDistinct(t *testing.T) {
	seen := make(map[string]Snippet)
	for _, s := range sealSeeds {
		id := s.ContentID()
		if prev, dup := seen[id]; dup {
			t.Errorf("%+v and %+v share ID %s", prev, s, id)
		}
		seen[id] = s
	}
}

// abSeeds are inputs for FuzzDecodeAB.
var abSeeds = []string{
	`{"a":"abcDEF12345","b":"abcDEF12346","runtimes":["pyodide"]}`,
	`{"a":"abcDEF12345","b":"abcDEF12345","c":"Zz0-_9aaaaB","runtimes":["pyodide","micropython","cpython-native"],"threshold":0,"budgetMs":100,"interpreters":20}`,
	`{"a":"abcDEF12345","b":"abcDEF12346","runtimes":["pyscript"]}`,
	`{"a":"abcDEF12345","b":"abcDEF12346","runtimes":["pyodide"],"threshold":1e-3,"budgetMs":6e4}`,
	`{"a":"abcDEF12345","a":"abcDEF12345"}`,
	`{"a":"abcDEF12345","b":"abcDEF12346","runtimes":["pyodide"],"threshold":-0}`,
	`{"a":null}`,
	`[]`,
	``,
}

// FuzzDecodeAB checks that DecodeAB never panics, rejects only with
// Invalid or TooLarge, and that whatever it accepts is a benchmark a store
// takes (once it has an ID) and decodes the same when sent again.
func FuzzDecodeAB(f *testing.F) {
	for _, s := range abSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ab, err := DecodeAB(bytes.NewReader(body))
		if err != nil {
			if c := ErrorCode(err); c != Invalid && c != TooLarge {
				t.Fatalf("DecodeAB(%q): error code %q (%v), want invalid or too_large", body, c, err)
			}
			if ab != nil {
				t.Fatalf("DecodeAB(%q) returned a benchmark with an error", body)
			}
			return
		}
		if ab.ID != "" {
			t.Fatalf("DecodeAB(%q) made up an ID", body)
		}
		ab.ID = NewABID()
		if err := ab.Validate(); err != nil {
			t.Fatalf("DecodeAB(%q) accepted %+v, which does not validate: %v", body, ab, err)
		}
		fields := map[string]any{"a": ab.Arms[0], "b": ab.Arms[1], "runtimes": ab.Runtimes,
			"threshold": ab.Threshold, "budgetMs": ab.BudgetMs, "interpreters": ab.Interpreters}
		if len(ab.Arms) > 2 {
			fields["c"] = ab.Arms[2]
		}
		again, _ := json.Marshal(fields)
		back, err := DecodeAB(bytes.NewReader(again))
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		back.ID = ab.ID
		if !reflect.DeepEqual(back, ab) {
			t.Fatalf("round trip changed the benchmark:\n%+v\n%+v", ab, back)
		}
	})
}
