package snippets

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"unicode/utf8"
)

// idSalt separates snippet IDs from every other use of SHA-256 and names the
// scheme's version. Changing it (or anything else in ContentID) changes
// every ID and breaks every shared link: the scheme is a public contract.
const idSalt = "pyplay snippet v1\x00"

// ID lengths: 11 characters (66 bits) by default, at most the 43 characters
// of a whole unpadded base64url SHA-256.
const (
	minIDLen = 11
	maxIDLen = 43
)

// ContentID returns the ID that s's content gets, without changing s.
//
// The ID is SHA-256 over idSalt and the canonical snippet
// runtime NUL title NUL code NUL html, followed by NUL interpreter only when
// the interpreter is not the default (see InterpreterPyodide), base64url
// without padding, cut to 11 characters and grown by one while it ends in
// '-' or '_': links that end in punctuation are mangled by chat clients and
// mail programs, which take the trailing character for the end of a
// sentence.
//
// The concatenation is unambiguous because NUL is forbidden in every field:
// the NULs are exactly the separators, so the form with three of them (every
// snippet shared before the interpreter field existed, whose IDs therefore
// stay the same) can never equal one with four, and within each form the
// fields are cut at the same places.
func (s *Snippet) ContentID() string {
	h := sha256.New()
	h.Write([]byte(idSalt))
	h.Write([]byte(s.Runtime))
	h.Write([]byte{0})
	h.Write([]byte(s.Title))
	h.Write([]byte{0})
	h.Write([]byte(s.Code))
	h.Write([]byte{0})
	h.Write([]byte(s.HTML))
	if s.Interpreter != "" && s.Interpreter != InterpreterPyodide {
		h.Write([]byte{0})
		h.Write([]byte(s.Interpreter))
	}
	full := base64.RawURLEncoding.EncodeToString(h.Sum(nil))
	n := minIDLen
	// The last character of a 43-character encoding carries only 4 bits
	// (always a multiple of 4 in the alphabet), so it is never '-' or '_'
	// and the loop ends within the string.
	for n < len(full) && endsInPunct(full[:n]) {
		n++
	}
	return full[:n]
}

// Seal sets s.ID from s's content. Call it after every change: the ID is
// the content's address, not a name.
func (s *Snippet) Seal() { s.ID = s.ContentID() }

// ValidID reports whether id could be a snippet ID (see CheckID). It lets
// handlers answer 404 for malformed IDs without asking the store.
func ValidID(id string) bool { return CheckID(id) == nil }

// IDRule says in a sentence what every snippet ID looks like, for messages
// about IDs that do not.
const IDRule = "snippet IDs are 11 characters of letters, digits, '-' and '_' that do not end in '-' or '_' " +
	"(an ID whose 11th character is '-' or '_' is one character longer, and so on)"

// CheckID reports whether id could be a snippet ID: 11 to 43 characters of
// the base64url alphabet, not ending in '-' or '_', and, when longer than
// 11, grown only past '-' or '_' as ContentID does. The error, for
// people, is IDRule and what is wrong with this id.
func CheckID(id string) error {
	bad := func(why string, args ...any) error {
		return fmt.Errorf("%s; %s", IDRule, fmt.Sprintf(why, args...))
	}
	switch {
	case len(id) < minIDLen:
		return bad("this one has %d characters", utf8.RuneCountInString(id))
	case len(id) > maxIDLen:
		return bad("this one has %d characters", utf8.RuneCountInString(id))
	}
	for i := 0; i < len(id); i++ {
		if !isBase64URL(id[i]) {
			r, _ := utf8.DecodeRuneInString(id[i:])
			return bad("this one has %q", r)
		}
	}
	if endsInPunct(id) {
		return bad("this one ends in %q", id[len(id)-1])
	}
	// An ID of length n > 11 was grown because each of its prefixes of
	// length 11..n-1 ended in punctuation.
	for i := minIDLen - 1; i < len(id)-1; i++ {
		if id[i] != '-' && id[i] != '_' {
			return bad("this one has %d characters but its character %d, %q, is not '-' or '_'", len(id), i+1, id[i])
		}
	}
	return nil
}

func endsInPunct(s string) bool {
	c := s[len(s)-1]
	return c == '-' || c == '_'
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// CheckStorable reports whether a store may keep s (an *Error with code
// Invalid if not): s.ID is the ID of s's content, so nothing is ever stored
// under another snippet's address, the runtime is known, the interpreter is
// valid and in its stored form (Normalize), and every field is UTF-8
// without NUL. It does not apply Limits, which are the server's
// policy: an operator may import snippets made under larger limits.
func (s *Snippet) CheckStorable() error {
	if s == nil {
		return Errorf(Invalid, "no snippet")
	}
	if want := s.ContentID(); s.ID != want {
		return Errorf(Invalid, "snippet ID %q does not match its content (%q); seal the snippet after changing it", s.ID, want)
	}
	if !ValidRuntime(s.Runtime) {
		return Errorf(Invalid, "unknown runtime %q; use pyodide, micropython or pyscript", s.Runtime)
	}
	if err := checkInterpreter(s); err != nil {
		return err
	}
	if s.Interpreter == InterpreterPyodide {
		// One stored form per snippet: the ID cannot tell the two apart.
		return Errorf(Invalid, "interpreter %q is the default and is stored as empty; normalize the snippet before sealing it", s.Interpreter)
	}
	for _, f := range []struct{ name, value string }{
		{"code", s.Code}, {"title", s.Title}, {"html", s.HTML},
	} {
		if err := checkText(f.name, f.value); err != nil {
			return err
		}
	}
	return nil
}
