package strictjson

import (
	"errors"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	o, err := Split([]byte(` { "b" : [1, {"x": "]}"}] , "a\u0062c": "v\"}", "n":null }`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.Keys, ",") != "b,abc,n" {
		t.Fatalf("keys %q", o.Keys)
	}
	for k, want := range map[string]string{"b": `[1, {"x": "]}"}]`, "abc": `"v\"}"`, "n": "null"} {
		if got := string(o.Fields[k]); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	if o, err := Split([]byte(`{}`)); err != nil || len(o.Keys) != 0 {
		t.Errorf("{}: %+v, %v", o, err)
	}
	for _, raw := range []string{`[]`, `"{}"`, `null`, `1`} {
		if _, err := Split([]byte(raw)); !errors.Is(err, ErrNotObject) {
			t.Errorf("Split(%s): %v, want ErrNotObject", raw, err)
		}
	}
	// A key is what it says once unescaped: "\u0061" is "a".
	var dup *DuplicateKeyError
	if _, err := Split([]byte(`{"a":1,"\u0061":2}`)); !errors.As(err, &dup) || dup.Key != "a" {
		t.Errorf("repeated key: %v", err)
	}
	if _, err := Split([]byte(`{"A":1,"a":2}`)); err != nil {
		t.Errorf("keys differing in case are two keys: %v", err)
	}
}

func TestElements(t *testing.T) {
	elems, ok := Elements([]byte(` [ 1 , "a,]" , {"b":[2]} ] `), 3)
	if !ok || len(elems) != 3 || string(elems[1]) != `"a,]"` || string(elems[2]) != `{"b":[2]}` {
		t.Fatalf("got %q, %v", elems, ok)
	}
	if _, ok := Elements([]byte(`[1,2,3,4]`), 3); ok {
		t.Error("more than max accepted")
	}
	if elems, ok := Elements([]byte(`[]`), 0); !ok || len(elems) != 0 {
		t.Errorf("[]: %q, %v", elems, ok)
	}
}

func TestCheckKeys(t *testing.T) {
	for raw, want := range map[string]string{
		`{"a":{"b":1,"c":{"b":2}},"b":[{"b":1},{"b":2}]}`: "",
		`{"a":{"b":1,"b":2}}`:                             "b",
		`[{"x":1},{"y":1,"y":2}]`:                         "y",
		`{"a":1,"a":{}}`:                                  "a",
	} {
		got := ""
		var dup *DuplicateKeyError
		if err := CheckKeys([]byte(raw)); errors.As(err, &dup) {
			got = dup.Key
		} else if err != nil {
			t.Errorf("CheckKeys(%s): %v", raw, err)
		}
		if got != want {
			t.Errorf("CheckKeys(%s) found %q twice, want %q", raw, got, want)
		}
	}
}
