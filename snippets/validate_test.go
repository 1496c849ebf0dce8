package snippets

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

func TestValidate(t *testing.T) {
	small := Limits{MaxCode: 10, MaxTitle: 5, MaxHTML: 10}
	tests := []struct {
		name   string
		limits Limits
		s      Snippet
		code   string // "" means valid
		msg    string // a substring of the message
	}{
		{"minimal", DefaultLimits, Snippet{Runtime: Pyodide, Code: "print(1)"}, "", ""},
		{"every field", DefaultLimits, Snippet{Runtime: PyScript, Title: "Größe ✓", Code: "print(1)", HTML: "<div id=x></div>"}, "", ""},
		{"zero limits mean defaults", Limits{}, Snippet{Runtime: MicroPython, Code: strings.Repeat("x", 64<<10)}, "", ""},
		{"code at the limit", small, Snippet{Runtime: Pyodide, Code: strings.Repeat("x", 10)}, "", ""},
		{"code empty", DefaultLimits, Snippet{Runtime: Pyodide}, Invalid, "code is empty"},
		{"code blank", DefaultLimits, Snippet{Runtime: Pyodide, Code: " \n\t\r\n "}, Invalid, "code is empty"},
		{"code too large", DefaultLimits, Snippet{Runtime: Pyodide, Code: strings.Repeat("x", 70000)}, TooLarge, "code is 70000 bytes; the limit is 65536 bytes"},
		{"code over a custom limit", small, Snippet{Runtime: Pyodide, Code: strings.Repeat("é", 6)}, TooLarge, "code is 12 bytes; the limit is 10 bytes"},
		{"code invalid UTF-8", DefaultLimits, Snippet{Runtime: Pyodide, Code: "print('\xff')"}, Invalid, "code is not valid UTF-8 (at byte 7)"},
		{"code NUL", DefaultLimits, Snippet{Runtime: Pyodide, Code: "a\x00b"}, Invalid, "code contains a NUL character (at byte 1)"},
		{"title NUL", DefaultLimits, Snippet{Runtime: Pyodide, Code: "x", Title: "a\x00"}, Invalid, "title contains a NUL"},
		{"title invalid UTF-8", DefaultLimits, Snippet{Runtime: Pyodide, Code: "x", Title: "\xc3"}, Invalid, "title is not valid UTF-8"},
		{"html NUL", DefaultLimits, Snippet{Runtime: PyScript, Code: "x", HTML: "<p>\x00"}, Invalid, "html contains a NUL"},
		{"html invalid UTF-8", DefaultLimits, Snippet{Runtime: PyScript, Code: "x", HTML: "\xed\xa0\x80"}, Invalid, "html is not valid UTF-8"},
		{"runtime unknown", DefaultLimits, Snippet{Runtime: "cpython", Code: "x"}, Invalid, `unknown runtime "cpython"; use pyodide, micropython or pyscript`},
		{"runtime empty", DefaultLimits, Snippet{Code: "x"}, Invalid, "unknown runtime"},
		{"runtime wrong case", DefaultLimits, Snippet{Runtime: "Pyodide", Code: "x"}, Invalid, "unknown runtime"},
		{"title at the limit in characters", small, Snippet{Runtime: Pyodide, Code: "x", Title: "ééééé"}, "", ""},
		{"title too long", small, Snippet{Runtime: Pyodide, Code: "x", Title: "éééééé"}, Invalid, "title is 6 characters; the limit is 5 characters"},
		{"title default limit", DefaultLimits, Snippet{Runtime: Pyodide, Code: "x", Title: strings.Repeat("t", 201)}, Invalid, "the limit is 200 characters"},
		{"title newline", DefaultLimits, Snippet{Runtime: Pyodide, Code: "x", Title: "a\nb"}, Invalid, "single line"},
		{"title carriage return", DefaultLimits, Snippet{Runtime: Pyodide, Code: "x", Title: "a\rb"}, Invalid, "U+000D"},
		{"title tab", DefaultLimits, Snippet{Runtime: Pyodide, Code: "x", Title: "a\tb"}, Invalid, "control"},
		{"title DEL", DefaultLimits, Snippet{Runtime: Pyodide, Code: "x", Title: "a\x7fb"}, Invalid, "U+007F"},
		{"title C1 control", DefaultLimits, Snippet{Runtime: Pyodide, Code: "x", Title: "a\u0085b"}, Invalid, "U+0085"},
		{"title line separator", DefaultLimits, Snippet{Runtime: Pyodide, Code: "x", Title: "a\u2028b"}, Invalid, "U+2028"},
		{"html with pyodide", DefaultLimits, Snippet{Runtime: Pyodide, Code: "x", HTML: "<p>"}, Invalid, "html is only allowed with runtime pyscript"},
		{"html with micropython", DefaultLimits, Snippet{Runtime: MicroPython, Code: "x", HTML: "<p>"}, Invalid, "html is only allowed with runtime pyscript"},
		{"interpreter micropython", DefaultLimits, Snippet{Runtime: PyScript, Code: "x", Interpreter: InterpreterMicroPython}, "", ""},
		{"interpreter pyodide named", DefaultLimits, Snippet{Runtime: PyScript, Code: "x", Interpreter: InterpreterPyodide}, "", ""},
		{"interpreter unknown", DefaultLimits, Snippet{Runtime: PyScript, Code: "x", Interpreter: "brython"}, Invalid, `unknown interpreter "brython"; use pyodide or micropython`},
		{"interpreter wrong case", DefaultLimits, Snippet{Runtime: PyScript, Code: "x", Interpreter: "MicroPython"}, Invalid, "unknown interpreter"},
		{"interpreter with pyodide", DefaultLimits, Snippet{Runtime: Pyodide, Code: "x", Interpreter: InterpreterMicroPython}, Invalid, "interpreter is only allowed with runtime pyscript, not pyodide"},
		{"interpreter with micropython", DefaultLimits, Snippet{Runtime: MicroPython, Code: "x", Interpreter: InterpreterPyodide}, Invalid, "interpreter is only allowed with runtime pyscript, not micropython"},
		{"html too large", small, Snippet{Runtime: PyScript, Code: "x", HTML: strings.Repeat("<", 11)}, TooLarge, "html is 11 bytes; the limit is 10 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			err := tt.limits.Validate(&s)
			checkErr(t, err, tt.code, tt.msg)
			if s != tt.s {
				t.Errorf("Validate changed the snippet: %+v", s)
			}
		})
	}
}

func TestValidateNil(t *testing.T) {
	checkErr(t, DefaultLimits.Validate(nil), Invalid, "no snippet")
}

func checkErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want an *Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Errorf("code = %q, want %q (message %q)", e.Code, code, e.Message)
	}
	if !strings.Contains(e.Message, msg) {
		t.Errorf("message = %q, want it to contain %q", e.Message, msg)
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *Snippet // nil when an error is expected
		code string
		msg  string
	}{
		{"code only defaults to pyodide", `{"code":"print(1)"}`,
			&Snippet{Runtime: Pyodide, Code: "print(1)"}, "", ""},
		{"every field", `{"code":"print(1)","runtime":"pyscript","title":"T","html":"<b>x</b>"}`,
			&Snippet{Runtime: PyScript, Code: "print(1)", Title: "T", HTML: "<b>x</b>"}, "", ""},
		{"any field order and whitespace", " \n{ \"title\" : \"Ünï\" ,\n \"runtime\":\"micropython\", \"code\": \"x = 1\\n\" }\n\t",
			&Snippet{Runtime: MicroPython, Code: "x = 1\n", Title: "Ünï"}, "", ""},
		{"null counts as omitted", `{"code":"x","runtime":null,"title":null,"html":null}`,
			&Snippet{Runtime: Pyodide, Code: "x"}, "", ""},
		{"escapes", `{"code":"print(\"\u00e9\t\ud83d\ude00\")"}`,
			&Snippet{Runtime: Pyodide, Code: "print(\"é\t😀\")"}, "", ""},
		{"interpreter micropython", `{"code":"x","runtime":"pyscript","interpreter":"micropython"}`,
			&Snippet{Runtime: PyScript, Code: "x", Interpreter: InterpreterMicroPython}, "", ""},
		{"interpreter pyodide is stored as the default", `{"code":"x","runtime":"pyscript","interpreter":"pyodide"}`,
			&Snippet{Runtime: PyScript, Code: "x"}, "", ""},
		{"interpreter null counts as omitted", `{"code":"x","runtime":"pyscript","interpreter":null}`,
			&Snippet{Runtime: PyScript, Code: "x"}, "", ""},
		{"interpreter unknown", `{"code":"x","runtime":"pyscript","interpreter":"cpython"}`, nil, Invalid, `unknown interpreter "cpython"; use pyodide or micropython`},
		{"interpreter empty", `{"code":"x","runtime":"pyscript","interpreter":""}`, nil, Invalid, `unknown interpreter ""`},
		{"interpreter a number", `{"code":"x","runtime":"pyscript","interpreter":1}`, nil, Invalid, `field "interpreter" must be a string, not number`},
		{"interpreter without pyscript", `{"code":"x","interpreter":"micropython"}`, nil, Invalid, "interpreter is only allowed with runtime pyscript, not pyodide"},
		{"default interpreter without pyscript", `{"code":"x","runtime":"micropython","interpreter":"pyodide"}`, nil, Invalid, "interpreter is only allowed with runtime pyscript, not micropython"},
		{"empty interpreter without pyscript", `{"code":"x","interpreter":""}`, nil, Invalid, "interpreter is only allowed with runtime pyscript"},
		{"interpreter twice", `{"code":"x","runtime":"pyscript","interpreter":"pyodide","interpreter":"micropython"}`, nil, Invalid, `field "interpreter" appears more than once`},
		{"empty body", ``, nil, Invalid, "request body is empty"},
		{"whitespace body", " \n ", nil, Invalid, "request body is empty"},
		{"not an object", `["code"]`, nil, Invalid, "must be a JSON object, not an array"},
		{"a string", `"print(1)"`, nil, Invalid, "must be a JSON object, not a string"},
		{"null body", `null`, nil, Invalid, "must be a JSON object, not null"},
		{"code missing", `{"runtime":"pyodide"}`, nil, Invalid, "code is missing"},
		{"code null", `{"code":null}`, nil, Invalid, "code is missing"},
		{"code empty", `{"code":""}`, nil, Invalid, "code is empty"},
		{"code blank", `{"code":"  \n  "}`, nil, Invalid, "code is empty"},
		{"code a number", `{"code":42}`, nil, Invalid, `field "code" must be a string, not number`},
		{"title an object", `{"code":"x","title":{}}`, nil, Invalid, `field "title" must be a string, not object`},
		{"unknown field", `{"code":"x","lang":"py"}`, nil, Invalid, `unknown field "lang"`},
		{"field in another case", `{"Code":"x"}`, nil, Invalid, `unknown field "Code"`},
		{"id is not accepted", `{"code":"x","id":"abcdefghijk"}`, nil, Invalid, `unknown field "id"`},
		{"created is not accepted", `{"code":"x","created":"2020-01-01T00:00:00Z"}`, nil, Invalid, `unknown field "created"`},
		{"repeated field", `{"code":"x","code":"y"}`, nil, Invalid, `field "code" appears more than once`},
		{"trailing object", `{"code":"x"}{"code":"y"}`, nil, Invalid, "unexpected data after the JSON object at line 1, column 13"},
		{"trailing garbage", "{\"code\":\"x\"}\nxyz", nil, Invalid, "unexpected data after the JSON object at line 2, column 1"},
		{"malformed", "{\n  \"code\": \"x\",\n  oops\n}", nil, Invalid, "malformed JSON at line 3, column 3"},
		{"truncated", `{"code":"x"`, nil, Invalid, "unexpected end of input"},
		{"truncated string", `{"code":"x`, nil, Invalid, "malformed JSON"},
		{"bad escape", `{"code":"\q"}`, nil, Invalid, "malformed JSON at line 1, column"},
		{"raw control character in string", "{\"code\":\"a\x01\"}", nil, Invalid, "malformed JSON"},
		{"invalid UTF-8 in body", "{\"code\":\"\xff\"}", nil, Invalid, "request body is not valid UTF-8 (at byte 9)"},
		{"NUL escape", `{"code":"a\u0000b"}`, nil, Invalid, "code contains a NUL"},
		{"lone high surrogate", `{"code":"a\ud800b"}`, nil, Invalid, `lone surrogate \ud800 at line 1, column 11`},
		{"lone low surrogate", `{"code":"x","title":"\uDC00"}`, nil, Invalid, `lone surrogate \uDC00 at line 1, column 22`},
		{"high surrogate at the end", `{"code":"a\ud83d"}`, nil, Invalid, `lone surrogate \ud83d`},
		{"high surrogate before another high", `{"code":"\ud83d\ud83d\ude00"}`, nil, Invalid, `lone surrogate \ud83d at line 1, column 10`},
		{"pair reversed", `{"code":"\ude00\ud83d"}`, nil, Invalid, `lone surrogate \ude00`},
		{"escaped backslash before u", `{"code":"\\ud800"}`, &Snippet{Runtime: Pyodide, Code: `\ud800`}, "", ""},
		{"replacement character escape", `{"code":"\ufffd"}`, &Snippet{Runtime: Pyodide, Code: "\ufffd"}, "", ""},
		{"unknown runtime", `{"code":"x","runtime":"brython"}`, nil, Invalid, `unknown runtime "brython"`},
		{"empty runtime", `{"code":"x","runtime":""}`, nil, Invalid, `unknown runtime ""`},
		{"html without pyscript", `{"code":"x","html":"<p>"}`, nil, Invalid, "html is only allowed with runtime pyscript"},
		{"title newline", `{"code":"x","title":"a\nb"}`, nil, Invalid, "single line"},
		{"code too large", `{"code":"` + strings.Repeat("x", 70000) + `"}`, nil, TooLarge, "code is 70000 bytes; the limit is 65536 bytes"},
		{"body too large", `{"code":"` + strings.Repeat("x", 64<<10+64<<10+200+4096) + `"}`, nil, TooLarge, "request body is larger than 135368 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(strings.NewReader(tt.body), DefaultLimits)
			checkErr(t, err, tt.code, tt.msg)
			if tt.want == nil {
				if got != nil {
					t.Errorf("got a snippet %+v with an error", got)
				}
				return
			}
			want := *tt.want
			want.Seal()
			if *got != want {
				t.Errorf("Decode = %+v, want %+v", *got, want)
			}
		})
	}
}

func TestDecodeReadsAtMostTheBound(t *testing.T) {
	limits := Limits{MaxCode: 100, MaxTitle: 10, MaxHTML: 100}
	r := &countingReader{r: strings.NewReader(`{"code":"` + strings.Repeat("x", 1<<20) + `"}`)}
	_, err := Decode(r, limits)
	checkErr(t, err, TooLarge, "request body is larger than 4306 bytes")
	if r.n > 4306+1+32<<10 { // the bound plus one, plus io.ReadAll's buffer growth
		t.Errorf("read %d bytes; Decode must stop near its bound", r.n)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestDecodeCallerLimit(t *testing.T) {
	// The HTTP handler limits the body with http.MaxBytesReader; its error
	// means 413, not a malformed request.
	rec := httptest.NewRecorder()
	body := http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(`{"code":"`+strings.Repeat("x", 100)+`"}`)), 50)
	_, err := Decode(body, DefaultLimits)
	checkErr(t, err, TooLarge, "request body is larger than 50 bytes")
}

func TestDecodeReadError(t *testing.T) {
	_, err := Decode(iotest.ErrReader(errors.New("connection reset")), DefaultLimits)
	checkErr(t, err, Invalid, "could not read the request body: connection reset")
}

func TestDecodeCustomLimits(t *testing.T) {
	limits := Limits{MaxCode: 4}
	if _, err := Decode(strings.NewReader(`{"code":"12345"}`), limits); ErrorCode(err) != TooLarge {
		t.Errorf("5 bytes of code with MaxCode 4: err = %v, want TooLarge", err)
	}
	s, err := Decode(strings.NewReader(`{"code":"1234"}`), limits)
	if err != nil || s.Code != "1234" {
		t.Errorf("4 bytes of code with MaxCode 4: %v, %v", s, err)
	}
}

func TestPosition(t *testing.T) {
	body := []byte("ab\ncdé\nf")
	tests := []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {7, 2, 4}, {8, 3, 1}, {100, 3, 2}, {-1, 1, 1}}
	for _, tt := range tests {
		if line, col := position(body, tt.off); line != tt.line || col != tt.col {
			t.Errorf("position(%d) = %d:%d, want %d:%d", tt.off, line, col, tt.line, tt.col)
		}
	}
}
