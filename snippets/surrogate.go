package snippets

// JSON may spell a character as a \uXXXX escape, and characters beyond the
// Basic Multilingual Plane as a pair of them (a UTF-16 surrogate pair).
// encoding/json turns an escape of half a pair, alone, into U+FFFD, so
// "\ud800", "\udc00" and "\ufffd" would all store the same snippet: like
// raw invalid UTF-8, such text is refused instead of being changed.

// loneSurrogate returns the offset in a JSON text of the first \u escape of
// a surrogate that is not part of a high-low pair, or -1 if there is none.
// Backslashes stand only inside strings in valid JSON, so the text is
// walked escape by escape without tracking strings.
func loneSurrogate(text []byte) int {
	for i := 0; i < len(text); i++ {
		if text[i] != '\\' || i+1 >= len(text) {
			continue
		}
		r, ok := unicodeEscape(text, i)
		switch {
		case !ok:
			i++ // another escape (\\, \", \n, …): skip the escaped byte
		case r >= 0xD800 && r <= 0xDBFF:
			if low, ok := unicodeEscape(text, i+6); !ok || low < 0xDC00 || low > 0xDFFF {
				return i
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return i
		default:
			i += 5
		}
	}
	return -1
}

// unicodeEscape decodes the \uXXXX escape at text[i:], if there is one.
func unicodeEscape(text []byte, i int) (rune, bool) {
	if i+6 > len(text) || text[i] != '\\' || text[i+1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range text[i+2 : i+6] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
