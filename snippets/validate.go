package snippets

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pyplay/pyplay/snippets/strictjson"
)

// Limits bounds what a snippet may hold. A zero (or negative) field means
// the corresponding DefaultLimits value, so Limits{} is usable as is.
type Limits struct {
	MaxCode  int // bytes of code
	MaxTitle int // characters (runes) of title
	MaxHTML  int // bytes of html (PyScript page body)
}

// DefaultLimits are the limits the server applies unless configured
// otherwise: 64 KiB is far more than a playground program needs and small
// enough that one request cannot fill the database.
var DefaultLimits = Limits{
	MaxCode:  64 << 10,
	MaxTitle: 200,
	MaxHTML:  64 << 10,
}

// The interpreters a PyScript snippet may name, in the order error messages
// list them.
var interpreters = []Interpreter{InterpreterPyodide, InterpreterMicroPython}

// ValidInterpreter reports whether i names an interpreter a PyScript page
// can run on (the empty default is not a name).
func ValidInterpreter(i Interpreter) bool {
	for _, x := range interpreters {
		if i == x {
			return true
		}
	}
	return false
}

// checkInterpreter enforces that only PyScript snippets name an interpreter,
// and only a known one. An explicit default passes: Normalize stores it.
func checkInterpreter(s *Snippet) error {
	if s.Interpreter == "" {
		return nil
	}
	if s.Runtime != PyScript {
		return Errorf(Invalid, "interpreter is only allowed with runtime pyscript, not %s", s.Runtime)
	}
	if !ValidInterpreter(s.Interpreter) {
		return Errorf(Invalid, "unknown interpreter %q; use pyodide or micropython", s.Interpreter)
	}
	return nil
}

// The runtimes a snippet may name, in the order error messages list them.
var runtimes = []Runtime{Pyodide, MicroPython, PyScript}

// ValidRuntime reports whether r is a runtime a snippet can be written for.
func ValidRuntime(r Runtime) bool {
	for _, x := range runtimes {
		if r == x {
			return true
		}
	}
	return false
}

// WithDefaults returns l with every zero (or negative) field set to its
// DefaultLimits value.
func (l Limits) WithDefaults() Limits {
	if l.MaxCode <= 0 {
		l.MaxCode = DefaultLimits.MaxCode
	}
	if l.MaxTitle <= 0 {
		l.MaxTitle = DefaultLimits.MaxTitle
	}
	if l.MaxHTML <= 0 {
		l.MaxHTML = DefaultLimits.MaxHTML
	}
	return l
}

// Validate reports the first rule s breaks as an *Error (TooLarge for the
// byte limits on code and html, Invalid for everything else), or nil. It
// never changes s: the ID is the address of exactly what was sent, so
// nothing is trimmed or normalised.
func (l Limits) Validate(s *Snippet) error {
	if s == nil {
		return Errorf(Invalid, "no snippet")
	}
	l = l.WithDefaults()
	if !ValidRuntime(s.Runtime) {
		return Errorf(Invalid, "unknown runtime %q; use pyodide, micropython or pyscript", s.Runtime)
	}
	// Sizes first: they are cheap and a body over the limit should hear
	// about the limit, not about a flaw somewhere inside it.
	if len(s.Code) > l.MaxCode {
		return Errorf(TooLarge, "code is %d bytes; the limit is %d bytes", len(s.Code), l.MaxCode)
	}
	if len(s.HTML) > l.MaxHTML {
		return Errorf(TooLarge, "html is %d bytes; the limit is %d bytes", len(s.HTML), l.MaxHTML)
	}
	if strings.TrimSpace(s.Code) == "" {
		return Errorf(Invalid, "code is empty")
	}
	for _, f := range []struct{ name, value string }{
		{"code", s.Code}, {"title", s.Title}, {"html", s.HTML},
	} {
		if err := checkText(f.name, f.value); err != nil {
			return err
		}
	}
	if n := utf8.RuneCountInString(s.Title); n > l.MaxTitle {
		return Errorf(Invalid, "title is %d characters; the limit is %d characters", n, l.MaxTitle)
	}
	for i, r := range s.Title {
		// U+2028 and U+2029 are not controls but do break lines; a title
		// is shown on one line in lists and page titles.
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return Errorf(Invalid, "title must be a single line without control characters; found %U at byte %d", r, i)
		}
	}
	if s.HTML != "" && s.Runtime != PyScript {
		return Errorf(Invalid, "html is only allowed with runtime pyscript, not %s", s.Runtime)
	}
	return checkInterpreter(s)
}

// checkText enforces what every text field needs: valid UTF-8 (PostgreSQL
// refuses anything else, and browsers would show replacement characters)
// and no NUL (PostgreSQL text cannot hold it, and the ID's canonical form
// uses it as the field separator).
func checkText(name, v string) error {
	if !utf8.ValidString(v) {
		return Errorf(Invalid, "%s is not valid UTF-8 (at byte %d)", name, firstInvalidUTF8([]byte(v)))
	}
	if i := strings.IndexByte(v, 0); i >= 0 {
		return Errorf(Invalid, "%s contains a NUL character (at byte %d)", name, i)
	}
	return nil
}

// bodySlack is what Decode allows beyond the field limits for JSON syntax,
// field names and the escaping of quotes and newlines.
const bodySlack = 4096

// MaxBody is the largest request body Decode reads under l, so that a
// server can refuse a larger one before reading it.
func (l Limits) MaxBody() int64 {
	l = l.WithDefaults()
	return int64(l.MaxCode) + int64(l.MaxHTML) + int64(l.MaxTitle) + bodySlack
}

// Decode reads one snippet from r, the body of POST /api/snippets:
//
//	{"code": "...", "runtime": "pyodide"|"micropython"|"pyscript", "title": "...", "html": "...",
//	 "interpreter": "pyodide"|"micropython"}
//
// Only code is required; runtime defaults to pyodide; a null field counts
// as omitted. interpreter is only allowed with runtime pyscript (even when
// it names the default), and is normalised (see InterpreterPyodide).
// Decoding is strict (package strictjson), because a lenient decoder would
// give two spellings of one request two meanings: unknown or repeated
// fields, field names in another case, wrong types, trailing data,
// invalid UTF-8 and lone surrogate escapes (\ud800) are all Invalid, malformed JSON with its line and column.
// The snippet is then validated against limits and sealed (its ID set).
//
// Decode reads at most limits.MaxBody() bytes (TooLarge beyond that) even
// if the caller forgot to limit the body, and reports an
// *http.MaxBytesError from the caller's limit as TooLarge too.
func Decode(r io.Reader, limits Limits) (*Snippet, error) {
	limits = limits.WithDefaults()
	max := limits.MaxBody()
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, Errorf(TooLarge, "request body is larger than %d bytes", tooBig.Limit)
		}
		return nil, Errorf(Invalid, "could not read the request body: %v", err)
	}
	if int64(len(body)) > max {
		return nil, Errorf(TooLarge, "request body is larger than %d bytes", max)
	}
	// encoding/json would silently turn invalid UTF-8 into U+FFFD, storing
	// something other than what was sent.
	if !utf8.Valid(body) {
		return nil, Errorf(Invalid, "request body is not valid UTF-8 (at byte %d)", firstInvalidUTF8(body))
	}
	f, err := decodeFields(body)
	if err != nil {
		return nil, err
	}
	if off := loneSurrogate(body); off >= 0 {
		line, col := position(body, int64(off))
		return nil, Errorf(Invalid, "request body has a lone surrogate %s at line %d, column %d: it is not a character (encode the text as UTF-8, or escape a character beyond U+FFFF as a pair)",
			body[off:off+6], line, col)
	}
	if f.code == nil {
		return nil, Errorf(Invalid, `code is missing; send a JSON object like {"code": "print('hello')", "runtime": "pyodide"}`)
	}
	s := &Snippet{Code: *f.code, Runtime: Pyodide}
	if f.runtime != nil {
		s.Runtime = Runtime(*f.runtime)
	}
	if f.title != nil {
		s.Title = *f.title
	}
	if f.html != nil {
		s.HTML = *f.html
	}
	if f.interpreter != nil {
		s.Interpreter = Interpreter(*f.interpreter)
	}
	if err := limits.Validate(s); err != nil {
		return nil, err
	}
	if f.interpreter != nil && s.Interpreter == "" {
		// Validate cannot tell an empty value from an omitted one.
		if s.Runtime != PyScript {
			return nil, Errorf(Invalid, "interpreter is only allowed with runtime pyscript, not %s", s.Runtime)
		}
		return nil, Errorf(Invalid, `unknown interpreter ""; use pyodide or micropython`)
	}
	s.Normalize()
	s.Seal()
	return s, nil
}

type fields struct{ code, runtime, title, html, interpreter *string }

// decodeFields reads the body's one JSON value, then its fields through
// strictjson rather than into a struct, because encoding/json matches
// field names case-insensitively and lets a repeated field silently win.
func decodeFields(body []byte) (*fields, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err == io.EOF {
		return nil, Errorf(Invalid, `request body is empty; send a JSON object like {"code": "print('hello')", "runtime": "pyodide"}`)
	} else if err != nil {
		return nil, jsonError(body, dec, err)
	}
	obj, err := strictjson.Split(raw)
	var dup *strictjson.DuplicateKeyError
	switch {
	case errors.Is(err, strictjson.ErrNotObject):
		return nil, Errorf(Invalid, "request body must be a JSON object, not %s", describeValue(raw))
	case errors.As(err, &dup):
		return nil, Errorf(Invalid, "field %q appears more than once", dup.Key)
	case err != nil:
		return nil, Errorf(Invalid, "malformed JSON: %v", err)
	}
	var f fields
	for _, key := range obj.Keys {
		var dst **string
		switch key {
		case "code":
			dst = &f.code
		case "runtime":
			dst = &f.runtime
		case "title":
			dst = &f.title
		case "html":
			dst = &f.html
		case "interpreter":
			dst = &f.interpreter
		default:
			return nil, Errorf(Invalid, "unknown field %q; the fields are code, runtime, title, html and interpreter", key)
		}
		if err := json.Unmarshal(obj.Fields[key], dst); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) {
				return nil, Errorf(Invalid, "field %q must be a string, not %s", key, typeErr.Value)
			}
			return nil, Errorf(Invalid, "field %q: %v", key, err)
		}
	}
	end := dec.InputOffset()
	if rest := bytes.TrimLeft(body[end:], " \t\r\n"); len(rest) > 0 {
		line, col := position(body, int64(len(body)-len(rest)))
		return nil, Errorf(Invalid, "unexpected data after the JSON object at line %d, column %d", line, col)
	}
	return &f, nil
}

// jsonError turns a decoder error into an Invalid error that says where
// the JSON went wrong.
func jsonError(body []byte, dec *json.Decoder, err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte; show where that byte is.
		line, col := position(body, syn.Offset-1)
		return Errorf(Invalid, "malformed JSON at line %d, column %d: %s", line, col, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		line, col := position(body, int64(len(body)))
		return Errorf(Invalid, "malformed JSON at line %d, column %d: unexpected end of input", line, col)
	default:
		line, col := position(body, dec.InputOffset())
		return Errorf(Invalid, "malformed JSON at line %d, column %d: %v", line, col, err)
	}
}

// position converts a byte offset into a 1-based line and column (in
// characters), which is what editors show.
func position(body []byte, off int64) (line, col int) {
	if off > int64(len(body)) {
		off = int64(len(body))
	}
	if off < 0 {
		off = 0
	}
	before := body[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return line, col
}

// describeValue names the kind of a JSON value that is not an object.
func describeValue(raw []byte) string {
	switch bytes.TrimLeft(raw, " \t\r\n")[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func firstInvalidUTF8(b []byte) int {
	i := 0
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return i
}
