package snippets

import (
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	long := strings.Repeat("word ", 30)
	for _, tt := range []struct {
		title, code, want string
	}{
		{"Fib", "# something else\n", "Fib"},
		{"  ", "# fib\ndef fib(n): ...\n", "fib"},
		{"", "# Recursion benchmark: fib(25)\ndef fib(n):\n", "Recursion benchmark: fib(25)"},
		{"", "\n\n   ## Sorting things  \nx = 1\n", "Sorting things"},
		{"", "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n# ------\n# Real name\n", "Real name"},
		{"", `"""Bank account demo.

Longer text.
"""
class A: pass
`, "Bank account demo."},
		{"", "\"\"\"\n\n  First line after a blank\n\"\"\"\n", "First line after a blank"},
		{"", "r'''raw docstring'''\n", "raw docstring"},
		{"", "'one-line docstring'\nprint(1)\n", "one-line docstring"},
		{"", "print('hello')\n# a comment after code\n", ""},
		{"", "f'not a docstring'\n", ""},
		{"", "\"\"\"unterminated", "unterminated"},
		{"", "'unterminated\n", ""},
		{"", "", ""},
		{"", "#\n#   \n", ""},
		{"", "# tab\there\n", "tab here"},
		{"", "# " + long, strings.TrimSpace(strings.Repeat("word ", 16)) + "…"},
	} {
		s := Snippet{Title: tt.title, Code: tt.code}
		if got := s.Name(); got != tt.want {
			t.Errorf("Name(title %q, code %q) = %q, want %q", tt.title, tt.code, got, tt.want)
		}
	}
}

func TestCheckIDSaysWhatIsWrong(t *testing.T) {
	for _, tt := range []struct{ id, want string }{
		{"abc", "this one has 3 characters"},
		{"abcdefghij!", `this one has '!'`},
		{"abcdefghijk-", `this one ends in '-'`},
		{"abcdefghijkl", "its character 11, 'k', is not '-' or '_'"},
		{strings.Repeat("a", 44), "this one has 44 characters"},
	} {
		err := CheckID(tt.id)
		if err == nil {
			t.Errorf("CheckID(%q) = nil", tt.id)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), IDRule) {
			t.Errorf("CheckID(%q) = %q, want IDRule and %q", tt.id, err, tt.want)
		}
	}
	for _, id := range []string{"vyTiMdDUalW", "ZAvOWK3nmw-5", "HEuKQLZYh--4"} {
		if err := CheckID(id); err != nil {
			t.Errorf("CheckID(%q) = %v", id, err)
		}
	}
}
