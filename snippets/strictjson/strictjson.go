// Package strictjson reads JSON objects strictly, for what pyplay takes
// from outside: a snippet's POST body (package snippets) and a WebSocket
// message (package benchproto). encoding/json is too lenient for input
// with a meaning: it matches keys case-insensitively and lets the last of
// a repeated key silently win, so two spellings of one request could mean
// two things. Here a key is what it says and appears once; what each key
// may hold is the caller's business.
//
// The package walks JSON that encoding/json has already accepted
// (json.Valid, or a json.Decoder that read the value), so it only finds
// boundaries, which keeps a batch of hundreds of samples as fast to read
// as unmarshalling it.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotObject says a value is not a JSON object.
var ErrNotObject = errors.New("strictjson: not a JSON object")

// A DuplicateKeyError names a key that appears twice in one object.
type DuplicateKeyError struct{ Key string }

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("strictjson: the key %q appears twice in one object", e.Key)
}

// An Object is a JSON object's members.
type Object struct {
	Keys   []string                   // in the order they appear
	Fields map[string]json.RawMessage // each value as sent
}

// Split returns the members of the JSON object raw, which must be valid
// JSON: ErrNotObject when raw is another value, a *DuplicateKeyError at a
// key's second appearance. Values share raw's memory.
func Split(raw []byte) (*Object, error) {
	sc := Scanner{Data: raw}
	sc.SkipSpace()
	if sc.Peek() != '{' {
		return nil, ErrNotObject
	}
	sc.Pos++
	o := &Object{Fields: make(map[string]json.RawMessage)}
	sc.SkipSpace()
	if sc.Peek() == '}' {
		return o, nil
	}
	for {
		sc.SkipSpace()
		k := sc.Value()
		var key string
		if bytes.IndexByte(k, '\\') < 0 {
			key = string(k[1 : len(k)-1])
		} else if err := json.Unmarshal(k, &key); err != nil {
			return nil, fmt.Errorf("strictjson: key %s: %w", k, err)
		}
		sc.SkipSpace()
		sc.Pos++ // ':'
		sc.SkipSpace()
		v := sc.Value()
		if _, dup := o.Fields[key]; dup {
			return nil, &DuplicateKeyError{Key: key}
		}
		o.Fields[key] = v
		o.Keys = append(o.Keys, key)
		sc.SkipSpace()
		if sc.Peek() != ',' {
			return o, nil // '}'
		}
		sc.Pos++
	}
}

// Elements returns the elements of the JSON array raw, which must be valid
// JSON, sharing raw's memory. It reports false, without reading further,
// once there are more than max.
func Elements(raw []byte, max int) ([]json.RawMessage, bool) {
	sc := Scanner{Data: raw}
	sc.SkipSpace()
	sc.Pos++ // '['
	sc.SkipSpace()
	var elems []json.RawMessage
	for sc.Pos < len(raw) && sc.Peek() != ']' {
		if len(elems) == max {
			return nil, false
		}
		elems = append(elems, sc.Value())
		sc.SkipSpace()
		if sc.Peek() == ',' {
			sc.Pos++
			sc.SkipSpace()
		}
	}
	return elems, true
}

// CheckKeys reports the first key that appears twice in one object
// anywhere in raw, which must be valid JSON, as a *DuplicateKeyError: for
// free-form objects that are stored as sent, since databases and browsers
// would each resolve a repeated key their own way.
func CheckKeys(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	type frame struct {
		keys     map[string]bool
		isObject bool
		wantKey  bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF: raw is valid JSON
		}
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.isObject && top.wantKey {
				if d, ok := tok.(json.Delim); !ok || d != '}' {
					key, _ := tok.(string)
					if top.keys[key] {
						return &DuplicateKeyError{Key: key}
					}
					top.keys[key] = true
					top.wantKey = false
					continue
				}
			} else if top.isObject {
				top.wantKey = true // this token is the value
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]bool{}, isObject: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

// A Scanner walks JSON to find where values begin and end. It never
// reports errors, so the JSON must be valid or be checked afterwards (as
// each message of a coalesced frame is); reads past the end of Data give
// 0 and end the walk.
type Scanner struct {
	Data []byte
	Pos  int // the next byte to read
}

// Peek returns the byte at Pos, or 0 at the end.
func (s *Scanner) Peek() byte {
	if s.Pos < len(s.Data) {
		return s.Data[s.Pos]
	}
	return 0
}

// SkipSpace moves past JSON whitespace.
func (s *Scanner) SkipSpace() {
	for s.Pos < len(s.Data) {
		switch s.Data[s.Pos] {
		case ' ', '\t', '\r', '\n':
			s.Pos++
		default:
			return
		}
	}
}

// Value returns the value starting at Pos and moves past it.
func (s *Scanner) Value() []byte {
	start := s.Pos
	switch s.Peek() {
	case '"':
		s.str()
	case '{', '[':
		depth := 0
		for s.Pos < len(s.Data) {
			switch s.Data[s.Pos] {
			case '"':
				s.str()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.Pos++
			if depth == 0 {
				break
			}
		}
	default: // number, true, false, null
		for s.Pos < len(s.Data) {
			switch s.Data[s.Pos] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return s.Data[start:s.Pos]
			}
			s.Pos++
		}
	}
	return s.Data[start:min(s.Pos, len(s.Data))]
}

// str moves past the string starting at Pos.
func (s *Scanner) str() {
	s.Pos++ // opening quote
	for s.Pos < len(s.Data) {
		switch s.Data[s.Pos] {
		case '\\':
			s.Pos += 2
			continue
		case '"':
			s.Pos++
			return
		}
		s.Pos++
	}
}
