package benchproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pyplay/pyplay/snippets/strictjson"
)

// The decoder reads objects field by field (strictjson) instead of
// unmarshalling into structs because encoding/json is too lenient for a
// protocol: it matches keys case-insensitively, keeps the last of
// duplicate keys, turns null into zero values and, with unknown fields
// allowed, hides typos. Here every key must match exactly, once, and every
// error names the field's path ("payload.samples[3].ns") so a developer
// can find it.

// object is a JSON object's fields by key, consumed by the typed getters.
type object struct {
	path   string
	fields map[string]json.RawMessage
	keys   []string // in the order they appeared, for stable error messages
}

// parseObject splits raw (already known to be valid JSON) into its fields.
func parseObject(path string, raw json.RawMessage) (*object, *ProtoError) {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errorf(CodeBadField, "%s must be a JSON object, got %s", path, describe(raw))
	}
	o, err := strictjson.Split(raw)
	var dup *strictjson.DuplicateKeyError
	switch {
	case errors.As(err, &dup):
		return nil, errorf(CodeBadField, "%s has the field %q twice", path, dup.Key)
	case err != nil:
		return nil, errorf(CodeBadJSON, "%s: %v", path, err)
	}
	return &object{path: path, fields: o.Fields, keys: o.Keys}, nil
}

// only rejects the first field not named in allowed.
func (o *object) only(allowed ...string) *ProtoError {
	for _, k := range o.keys {
		if !slices.Contains(allowed, k) {
			return errorf(CodeBadField, "unknown field %s.%s (allowed: %s)", o.path, k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func (o *object) at(name string) string { return o.path + "." + name }

func (o *object) raw(name string, required bool) (json.RawMessage, *ProtoError) {
	v, ok := o.fields[name]
	if !ok && required {
		return nil, errorf(CodeBadField, "%s is missing", o.at(name))
	}
	return v, nil
}

func (o *object) str(name string, required bool) (string, *ProtoError) {
	v, err := o.raw(name, required)
	if v == nil || err != nil {
		return "", err
	}
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", errorf(CodeBadField, "%s must be a string, got %s", o.at(name), describe(v))
	}
	return s, nil
}

func (o *object) boolean(name string, required bool) (bool, *ProtoError) {
	v, err := o.raw(name, required)
	if v == nil || err != nil {
		return false, err
	}
	switch string(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errorf(CodeBadField, "%s must be true or false, got %s", o.at(name), describe(v))
}

// integer reads a required integer in [lo, hi]. Exponents and fractions
// ("1e3", "2.0") are refused: JavaScript's JSON.stringify never writes them
// for integers, so they signal a bug.
func (o *object) integer(name string, lo, hi int64) (int64, *ProtoError) {
	v, err := o.raw(name, true)
	if err != nil {
		return 0, err
	}
	n, perr := strconv.ParseInt(string(v), 10, 64)
	if perr != nil && !errors.Is(perr, strconv.ErrRange) {
		return 0, errorf(CodeBadField, "%s must be an integer, got %s", o.at(name), describe(v))
	}
	if perr != nil || n < lo || n > hi {
		return 0, errorf(CodeBadField, "%s must be between %d and %d, got %s", o.at(name), lo, hi, describe(v))
	}
	return n, nil
}

// number reads a required finite number ≥ 0.
func (o *object) number(name string) (float64, *ProtoError) {
	v, err := o.raw(name, true)
	if err != nil {
		return 0, err
	}
	if string(v) == "null" {
		// JSON.stringify writes NaN and ±Infinity as null.
		return 0, errorf(CodeBadField, "%s is null, which is what JSON.stringify makes of NaN or Infinity; send a finite number ≥ 0", o.at(name))
	}
	if c := v[0]; c != '-' && (c < '0' || c > '9') {
		return 0, errorf(CodeBadField, "%s must be a number, got %s", o.at(name), describe(v))
	}
	f, perr := strconv.ParseFloat(string(v), 64)
	if perr != nil {
		return 0, errorf(CodeBadField, "%s is out of range: %s", o.at(name), describe(v))
	}
	if f < 0 {
		return 0, errorf(CodeBadField, "%s must be ≥ 0, got %s", o.at(name), describe(v))
	}
	if f == 0 {
		f = 0 // -0 becomes 0: a negative sign on nothing is noise
	}
	return f, nil
}

// array splits a required JSON array into its elements, refusing more
// than max before reading the rest.
func (o *object) array(name string, max int) ([]json.RawMessage, *ProtoError) {
	v, err := o.raw(name, true)
	if err != nil {
		return nil, err
	}
	if v[0] != '[' {
		return nil, errorf(CodeBadField, "%s must be an array, got %s", o.at(name), describe(v))
	}
	elems, ok := strictjson.Elements(v, max)
	if !ok {
		return nil, errorf(CodeTooLarge, "%s has more than %d elements; split it", o.at(name), max)
	}
	return elems, nil
}

// jsonObject reads an optional JSON object kept as raw JSON (a run's env,
// config, phases), compacted so that its size is measured without
// indentation and it re-encodes to the same bytes.
func (o *object) jsonObject(name string) (json.RawMessage, *ProtoError) {
	v, err := o.raw(name, false)
	if v == nil || err != nil {
		return nil, err
	}
	if v[0] != '{' {
		return nil, errorf(CodeBadField, "%s must be a JSON object (omit it when there is nothing to say), got %s", o.at(name), describe(v))
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return nil, errorf(CodeBadJSON, "%s: %v", o.at(name), err)
	}
	if buf.Len() > MaxObjectBytes {
		return nil, errorf(CodeTooLarge, "%s is %d bytes compacted; the limit is %d", o.at(name), buf.Len(), MaxObjectBytes)
	}
	if perr := checkNested(o.at(name), buf.Bytes()); perr != nil {
		return nil, perr
	}
	return buf.Bytes(), nil
}

// checkNested checks a free-form object: duplicate keys would be resolved
// differently by SQLite, PostgreSQL and browsers, and PostgreSQL's jsonb
// cannot hold \u0000, so both are refused here rather than in the store.
func checkNested(path string, raw []byte) *ProtoError {
	if bytes.Contains(raw, []byte(`\u0000`)) {
		return errorf(CodeBadField, `%s must not contain \u0000`, path)
	}
	var dup *strictjson.DuplicateKeyError
	if errors.As(strictjson.CheckKeys(raw), &dup) {
		return errorf(CodeBadField, "%s has the key %q twice in one object", path, dup.Key)
	}
	return nil
}

// describe shows a client what it sent, shortened so that error messages
// stay small.
func describe(v json.RawMessage) string {
	const max = 40
	if len(v) == 0 {
		return "nothing"
	}
	if len(v) > max {
		n := max
		for n > 0 && !utf8.Valid(v[:n]) { // do not split a character
			n--
		}
		return string(v[:n]) + "…"
	}
	return string(v)
}
