package snippets

import (
	"strings"
	"unicode"
)

// maxNameRunes bounds a name derived from code: it is a label in lists and
// page titles, not a description.
const maxNameRunes = 80

// Name is what people call the snippet: its title, or else the first line
// of the comment or docstring its code opens with (after a #! line and an
// encoding declaration), as programs are usually introduced; "" when it has
// neither, and callers fall back to the ID. The name is not stored and
// takes no part in the ID: the same rule may name old snippets better
// later.
func (s *Snippet) Name() string {
	if t := strings.TrimSpace(s.Title); t != "" {
		return t
	}
	return NameFromCode(s.Code)
}

// NameFromCode is the name code introduces itself with (see Snippet.Name),
// or "".
func NameFromCode(code string) string {
	lines := strings.Split(strings.ReplaceAll(code, "\r\n", "\n"), "\n")
	for i, line := range lines {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			continue
		case strings.HasPrefix(t, "#"):
			if i == 0 && strings.HasPrefix(t, "#!") || isCodingLine(t) {
				continue
			}
			text := strings.TrimSpace(strings.TrimLeft(t, "#"))
			if !hasWord(text) {
				continue // a rule such as "# -----"
			}
			return clip(text)
		default:
			return docstringName(strings.Join(lines[i:], "\n"))
		}
	}
	return ""
}

// isCodingLine reports whether a comment is an encoding declaration
// (PEP 263), which names nothing.
func isCodingLine(comment string) bool {
	return strings.Contains(comment, "coding:") || strings.Contains(comment, "coding=")
}

// docstringName returns the first non-blank line of the string literal src
// starts with, or "" when it starts with something else.
func docstringName(src string) string {
	rest := strings.TrimLeft(src, "rRuU")
	if len(src)-len(rest) > 1 {
		return ""
	}
	var quote string
	for _, q := range []string{`"""`, `'''`, `"`, `'`} {
		if strings.HasPrefix(rest, q) {
			quote = q
			break
		}
	}
	if quote == "" {
		return ""
	}
	body := rest[len(quote):]
	if end := strings.Index(body, quote); end >= 0 {
		body = body[:end]
	} else if len(quote) == 1 {
		return ""
	}
	for _, line := range strings.Split(body, "\n") {
		if t := strings.TrimSpace(line); hasWord(t) {
			return clip(t)
		}
	}
	return ""
}

func hasWord(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// clip keeps a name to one line of printable text, at most maxNameRunes.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > maxNameRunes {
		return strings.TrimSpace(string(r[:maxNameRunes-1])) + "…"
	}
	return s
}
