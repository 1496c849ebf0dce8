package snippets

import (
	"strings"
	"testing"
)

// TestContentIDKnownAnswers pins the ID scheme. These IDs are in shared
// links out in the world: if this test fails, the change is wrong, not the
// test. (Checked independently with
// printf 'pyplay snippet v1\0pyodide\0Hello\0print('"'"'hello, world'"'"')\n\0' | sha256sum | xxd -r -p | basenc --base64url.)
func TestContentIDKnownAnswers(t *testing.T) {
	tests := []struct {
		s    Snippet
		want string
	}{
		{Snippet{Runtime: Pyodide, Title: "Hello", Code: "print('hello, world')\n"}, "vyTiMdDUalW"},
		{Snippet{Runtime: Pyodide, Code: "print(1)"}, "hu_ya4CnVtM"},
		// The 11-character prefix ends in '-': grown by one.
		{Snippet{Runtime: Pyodide, Code: "print(26)"}, "ZAvOWK3nmw-5"},
		// Ends in "--" after 11: grown by one (the 10th '-' is inside).
		{Snippet{Runtime: Pyodide, Code: "print(713)"}, "HEuKQLZYh--4"},
	}
	for _, tt := range tests {
		got := tt.s.ContentID()
		if got != tt.want {
			t.Errorf("ContentID(%+v) = %q, want %q", tt.s, got, tt.want)
		}
		s := tt.s
		s.Seal()
		if s.ID != tt.want {
			t.Errorf("Seal set ID %q, want %q", s.ID, tt.want)
		}
		if !ValidID(got) {
			t.Errorf("ValidID(%q) = false for a real ID", got)
		}
	}
}

func TestContentIDIgnoresIDAndCreated(t *testing.T) {
	a := Snippet{Runtime: Pyodide, Code: "x = 1"}
	b := a
	b.ID = "something"
	b.Created = b.Created.AddDate(1, 0, 0)
	if a.ContentID() != b.ContentID() {
		t.Error("ID and Created must not take part in the content address")
	}
}

func TestContentIDFieldsAreSeparated(t *testing.T) {
	// Moving text across a field boundary must change the ID.
	base := Snippet{Runtime: PyScript, Title: "ab", Code: "cd", HTML: "ef"}
	variants := []Snippet{
		{Runtime: PyScript, Title: "a", Code: "bcd", HTML: "ef"},
		{Runtime: PyScript, Title: "abc", Code: "d", HTML: "ef"},
		{Runtime: PyScript, Title: "ab", Code: "cde", HTML: "f"},
		{Runtime: PyScript, Title: "", Code: "abcd", HTML: "ef"},
		{Runtime: Pyodide, Title: "ab", Code: "cd", HTML: "ef"},
	}
	// The interpreter is a fourth separated field: text cannot move into it
	// from the page body without changing the ID. (A page body holding
	// "\x00micropython" would collide, which is why every field refuses NUL.)
	variants = append(variants,
		Snippet{Runtime: PyScript, Title: "ab", Code: "cd", HTML: "ef", Interpreter: InterpreterMicroPython},
		Snippet{Runtime: PyScript, Title: "ab", Code: "cd", HTML: "efmicropython"},
		Snippet{Runtime: PyScript, Title: "ab", Code: "cd", HTML: "", Interpreter: InterpreterMicroPython},
	)
	seen := map[string]Snippet{base.ContentID(): base}
	for _, v := range variants {
		id := v.ContentID()
		if prev, dup := seen[id]; dup {
			t.Errorf("%+v and %+v share ID %s", prev, v, id)
		}
		seen[id] = v
	}
}

// TestContentIDInterpreter pins how the interpreter enters the ID: not at
// all when it is the default (so PyScript snippets shared before the field
// existed keep their links, and naming Pyodide changes nothing), as
// NUL + name after the page body otherwise.
func TestContentIDInterpreter(t *testing.T) {
	old := Snippet{Runtime: PyScript, Title: "Clock", Code: "print(1)", HTML: "<p></p>"}
	named := old
	named.Interpreter = InterpreterPyodide
	if old.ContentID() != named.ContentID() {
		t.Errorf("an explicit pyodide changed the ID: %s vs %s", old.ContentID(), named.ContentID())
	}
	mpy := old
	mpy.Interpreter = InterpreterMicroPython
	if mpy.ContentID() == old.ContentID() {
		t.Error("the MicroPython page has the Pyodide page's ID")
	}
	// Checked independently with
	// printf 'pyplay snippet v1\0pyscript\0\0print(1)\0\0micropython' | sha256sum | xxd -r -p | basenc --base64url
	known := Snippet{Runtime: PyScript, Code: "print(1)", Interpreter: InterpreterMicroPython}
	if got, want := known.ContentID(), "8usF0b02nGP"; got != want {
		t.Errorf("ContentID(%+v) = %q, want %q", known, got, want)
	}
}

func TestNormalize(t *testing.T) {
	for _, tt := range []struct{ in, want Interpreter }{
		{"", ""}, {InterpreterPyodide, ""}, {InterpreterMicroPython, InterpreterMicroPython}, {"other", "other"},
	} {
		s := Snippet{Runtime: PyScript, Code: "x", Interpreter: tt.in}
		s.Normalize()
		if s.Interpreter != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, s.Interpreter, tt.want)
		}
	}
}

func TestEffectiveInterpreter(t *testing.T) {
	for _, tt := range []struct {
		s    Snippet
		want Interpreter
	}{
		{Snippet{Runtime: PyScript}, InterpreterPyodide},
		{Snippet{Runtime: PyScript, Interpreter: InterpreterMicroPython}, InterpreterMicroPython},
		{Snippet{Runtime: Pyodide}, ""},
		{Snippet{Runtime: MicroPython}, ""},
	} {
		if got := tt.s.EffectiveInterpreter(); got != tt.want {
			t.Errorf("EffectiveInterpreter(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"vyTiMdDUalW", true},
		{"ZAvOWK3nmw-5", true},
		{"HEuKQLZYh--4", true},
		{"abcdefghij_-x", true}, // grown twice
		{strings.Repeat("a", 10) + strings.Repeat("-", 32) + "A", true}, // 43
		{"", false},
		{"abcdefghij", false}, // 10: too short
		{strings.Repeat("a", 10) + strings.Repeat("-", 33) + "A", false}, // 44
		{"abcdefghij-", false},   // ends in '-'
		{"abcdefghij_", false},   // ends in '_'
		{"abcdefghijkl", false},  // 12 but the 11th is not punctuation
		{"abcdefghij-kl", false}, // grown past a letter
		{"abcdefghij+", false},   // standard base64, not base64url
		{"abcdefghij/", false},
		{"abcdefghij=", false},
		{"abc.efghijk", false},
		{"abcdéfghijk", false},
		{"../../etc/pa", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestCheckStorable(t *testing.T) {
	sealed := func(s Snippet) *Snippet { s.Seal(); return &s }
	tests := []struct {
		name string
		s    *Snippet
		code string
		msg  string
	}{
		{"sealed", sealed(Snippet{Runtime: Pyodide, Code: "x"}), "", ""},
		{"over the default limits is fine", sealed(Snippet{Runtime: Pyodide, Code: strings.Repeat("x", 1<<20)}), "", ""},
		{"nil", nil, Invalid, "no snippet"},
		{"not sealed", &Snippet{Runtime: Pyodide, Code: "x"}, Invalid, "does not match its content"},
		{"changed after sealing", func() *Snippet { s := sealed(Snippet{Runtime: Pyodide, Code: "x"}); s.Code = "y"; return s }(), Invalid, "seal the snippet"},
		{"unknown runtime", sealed(Snippet{Runtime: "cpython", Code: "x"}), Invalid, "unknown runtime"},
		{"NUL", sealed(Snippet{Runtime: Pyodide, Code: "x\x00"}), Invalid, "NUL"},
		{"micropython page", sealed(Snippet{Runtime: PyScript, Code: "x", Interpreter: InterpreterMicroPython}), "", ""},
		{"explicit default interpreter", sealed(Snippet{Runtime: PyScript, Code: "x", Interpreter: InterpreterPyodide}), Invalid, "normalize the snippet"},
		{"unknown interpreter", sealed(Snippet{Runtime: PyScript, Code: "x", Interpreter: "brython"}), Invalid, "unknown interpreter"},
		{"interpreter without pyscript", sealed(Snippet{Runtime: MicroPython, Code: "x", Interpreter: InterpreterMicroPython}), Invalid, "only allowed with runtime pyscript"},
		{"invalid UTF-8", sealed(Snippet{Runtime: Pyodide, Code: "x", Title: "\xff"}), Invalid, "title is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErr(t, tt.s.CheckStorable(), tt.code, tt.msg) })
	}
}
