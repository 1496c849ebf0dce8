package snippets

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// decodeSeeds are inputs for FuzzDecode besides those in
// testdata/fuzz/FuzzDecode.
var decodeSeeds = []string{
	`{"code":"print(1)"}`,
	`{"code":"print('hi')","runtime":"micropython","title":"Hi"}`,
	`{"code":"from pyscript import display\ndisplay(1)","runtime":"pyscript","html":"<div id=\"out\"></div>"}`,
	`{"code":"x","code":"y"}`,
	`{"code":"\u0000"}`,
	`{"code":"x"} trailing`,
	`{"code":"x","title":"a\u2028b"}`,
	"{\"code\":\"\xff\"}",
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
		again, err := json.Marshal(map[string]string{"code": s.Code, "runtime": string(s.Runtime), "title": s.Title, "html": s.HTML})
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
	{Runtime: Pyodide, Code: "print(1)\n"},
	{Runtime: Pyodide, Code: "print(26)"},
	{Runtime: Pyodide, Code: "é😀"},
	{Runtime: "", Code: ""},
}

// FuzzSeal checks the ID's invariants: valid, stable, a function of the
// content only, and sensitive to every field and to field boundaries.
func FuzzSeal(f *testing.F) {
	for _, s := range sealSeeds {
		f.Add(string(s.Runtime), s.Title, s.Code, s.HTML)
	}
	f.Fuzz(func(t *testing.T, runtime, title, code, html string) {
		s := Snippet{Runtime: Runtime(runtime), Title: title, Code: code, HTML: html}
		s.Seal()
		if !ValidID(s.ID) {
			t.Fatalf("Seal gave invalid ID %q", s.ID)
		}
		same := Snippet{Runtime: Runtime(runtime), Title: strings.Clone(title), Code: strings.Clone(code), HTML: html, ID: "x"}
		same.Seal()
		if same.ID != s.ID {
			t.Fatalf("same content, IDs %q and %q", s.ID, same.ID)
		}
		if strings.ContainsRune(runtime+title+code+html, 0) {
			return // NUL is rejected by validation; the boundaries below assume it absent
		}
		changed := []Snippet{
			{Runtime: Runtime(runtime + "x"), Title: title, Code: code, HTML: html},
			{Runtime: Runtime(runtime), Title: title + "x", Code: code, HTML: html},
			{Runtime: Runtime(runtime), Title: title, Code: code + "x", HTML: html},
			{Runtime: Runtime(runtime), Title: title, Code: code, HTML: html + "x"},
		}
		if title != "" { // move the title's last byte into the code
			changed = append(changed, Snippet{Runtime: Runtime(runtime), Title: title[:len(title)-1], Code: title[len(title)-1:] + code, HTML: html})
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
