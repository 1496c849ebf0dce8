package benchproto

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pyplay/pyplay/snippets"
)

const snip = "abcDEF12345"

func readGood(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "good", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeGood(t *testing.T) {
	run := "9b2f6c1e-5d1a-4c3e-8f00-2a1b3c4d5e6f"
	tests := []struct {
		file string
		want *Message
	}{
		{"hello-producer.json", &Message{V: 1, Type: TypeHello, Seq: 1,
			Payload: &Hello{Role: Producer, Client: "pyplay-web/1.0 (Chromium 156)"}}},
		{"hello-viewer.json", &Message{V: 1, Type: TypeHello, Seq: 1,
			Payload: &Hello{Role: Viewer, Client: "pyplay-dashboard/1.0", Snippet: snip}}},
		{"hello-coalesce.json", &Message{V: 1, Type: TypeHello, Seq: 1,
			Payload: &Hello{Role: Viewer, Client: "pyplay-dashboard/1.1", Snippet: snip, Coalesce: true}}},
		{"run-start.json", &Message{V: 1, Type: TypeRunStart, Seq: 2, Payload: &RunStart{Run: RunInfo{
			ID: run, Snippet: snip, Runtime: "pyodide", RuntimeVersion: "0.28.0",
			// Compacted, and "<" kept as is.
			Env:    json.RawMessage(`{"userAgent":"Mozilla/5.0 <x>","cores":2,"crossOriginIsolated":true,"timerResolutionNs":5000,"hidden":false}`),
			Config: json.RawMessage(`{"warmup":3,"samples":30,"minSampleMs":50}`),
			Phases: json.RawMessage(`{"fetch":120.5,"compile":800,"init":350,"firstRun":12}`),
		}}}},
		{"run-start-native.json", &Message{V: 1, Type: TypeRunStart, Seq: 2, Payload: &RunStart{Run: RunInfo{
			ID: "native_01", Snippet: snip, Runtime: "cpython-native", RuntimeVersion: "3.12.1"}}}},
		{"run-start-resume.json", &Message{V: 1, Type: TypeRunStart, Seq: 2, Payload: &RunStart{Run: RunInfo{
			ID: "native_01", Snippet: snip, Runtime: "cpython-native", RuntimeVersion: "3.12.1"},
			Token: "mV3q-ZzR8sQ1u_4nW0bYc2xHk9LpT7eJf6dGaA5oQEI"}}},
		{"run-start-pyscript.json", &Message{V: 1, Type: TypeRunStart, Seq: 2, Payload: &RunStart{Run: RunInfo{
			ID: "ps-1", Snippet: snip, Runtime: "pyscript", RuntimeVersion: "0.7.31",
			Env:    json.RawMessage(`{"interpreter":"micropython","interpreterVersion":"1.27.0","cores":2,"crossOriginIsolated":true,"timerResolutionNs":5000}`),
			Phases: json.RawMessage(`{"load":310.5,"pageRun":12.25,"firstRun":3.5}`),
		}}}},
		{"run-start-ab.json", &Message{V: 1, Type: TypeRunStart, Seq: 2, Payload: &RunStart{Run: RunInfo{
			ID: "ab-7f3c-b-0", Snippet: snip, Runtime: "pyodide", RuntimeVersion: "0.28.0",
			Config: json.RawMessage(`{"warmup":3,"rounds":60,"ab":true}`),
			AB:     &snippets.ABLink{ID: "Qm9vAB_cd-EfGhIj", Arm: "b", Interpreter: 0},
		}}}},
		{"samples.json", &Message{V: 1, Type: TypeSamples, Seq: 3, Payload: &SampleBatch{Run: run, Batch: 0, Samples: []snippets.Sample{
			{Seq: 0, Warmup: true, NsPerIter: 15200000, Iterations: 1},
			{Seq: 1, NsPerIter: 11950000.5, Iterations: 4},
			{Seq: 2, NsPerIter: 12000000, Iterations: 4, Hidden: true},
			{Seq: 5, NsPerIter: 0, Iterations: 1000},
		}}}},
		{"run-end.json", &Message{V: 1, Type: TypeRunEnd, Seq: 4, Payload: &RunEnd{Run: run, Status: "failed",
			Error: "Traceback (most recent call last):\n  ZeroDivisionError: division by zero"}}},
		{"subscribe.json", &Message{V: 1, Type: TypeSubscribe, Seq: 2, Payload: &Subscription{Snippet: "Zz0-_9aaaaB"}}},
		{"unsubscribe.json", &Message{V: 1, Type: TypeUnsubscribe, Seq: 3, Payload: &Subscription{Snippet: snip}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readGood(t, tt.file)
			got, err := Decode(data, Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %s\nwant %s", dump(got), dump(tt.want))
			}
			assertRoundTrip(t, got, Limits{})
		})
	}
}

func dump(m *Message) string {
	b, _ := Encode(m)
	return string(b)
}

// assertRoundTrip checks that m encodes and decodes back to itself.
func assertRoundTrip(t testing.TB, m *Message, l Limits) {
	t.Helper()
	enc, err := Encode(m)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	again, err := Decode(enc, l)
	if err != nil {
		t.Fatalf("re-decoding %s: %v", enc, err)
	}
	if !reflect.DeepEqual(again, m) {
		t.Fatalf("round trip changed the message:\n first %#v\nsecond %#v\n  wire %s", m.Payload, again.Payload, enc)
	}
}

// msg builds an envelope around a payload written as JSON text.
func msg(typ, payload string) string {
	return `{"v":1,"type":"` + typ + `","seq":7,"payload":` + payload + `}`
}

func samplesMsg(samples string) string {
	return msg("samples", `{"run":"r1","batch":3,"samples":[`+samples+`]}`)
}

func runStartMsg(fields string) string {
	return msg("run.start", `{"run":{"id":"r1","snippet":"`+snip+`","runtime":"pyodide"`+fields+`}}`)
}

func TestDecodeBad(t *testing.T) {
	const abID = "Qm9vAB_cd-EfGhIj"
	good := `{"seq":0,"warmup":false,"ns":1,"iters":1}`
	big := `{"k":"` + strings.Repeat("x", MaxObjectBytes) + `"}`
	tests := []struct {
		name string
		in   string
		code string
		ref  int64
		msg  string // substring of the message
	}{
		// Syntax and envelope.
		{"empty", ``, CodeBadJSON, 0, "not valid JSON"},
		{"truncated", `{"v":1,"type":"hello"`, CodeBadJSON, 0, "not valid JSON"},
		{"array", `[1,2]`, CodeBadJSON, 0, "must be a JSON object"},
		{"string", `"hello"`, CodeBadJSON, 0, "must be a JSON object"},
		{"not utf-8", "{\"v\":1,\"type\":\"h\xffllo\"}", CodeBadJSON, 0, "UTF-8"},
		{"trailing garbage", msg("subscribe", `{"snippet":"`+snip+`"}`) + `x`, CodeBadJSON, 0, "not valid JSON"},
		{"no version", `{"type":"hello","seq":1,"payload":{}}`, CodeBadVersion, 0, `"v" is missing`},
		{"version 2", `{"v":2,"type":"hello","seq":1,"payload":{},"future":true}`, CodeBadVersion, 0, "version 2 is not supported"},
		{"version string", `{"v":"1","type":"hello","seq":1,"payload":{}}`, CodeBadVersion, 0, `version "1"`},
		{"version 1.0", `{"v":1.0,"type":"hello","seq":1,"payload":{}}`, CodeBadVersion, 0, "1.0"},
		{"no seq", `{"v":1,"type":"hello","payload":{}}`, CodeBadField, 0, "seq is missing"},
		{"seq zero", `{"v":1,"type":"hello","seq":0,"payload":{}}`, CodeBadField, 0, "message.seq must be between 1 and"},
		{"seq float", `{"v":1,"type":"hello","seq":1.5,"payload":{}}`, CodeBadField, 0, "must be an integer"},
		{"seq exponent", `{"v":1,"type":"hello","seq":1e3,"payload":{}}`, CodeBadField, 0, "must be an integer"},
		{"seq beyond JS", `{"v":1,"type":"hello","seq":9007199254740992,"payload":{}}`, CodeBadField, 0, "between 1 and 9007199254740991"},
		{"seq beyond int64", `{"v":1,"type":"hello","seq":99999999999999999999,"payload":{}}`, CodeBadField, 0, "between"},
		{"unknown envelope field", `{"v":1,"type":"hello","seq":4,"payload":{},"extra":1}`, CodeBadField, 4, "unknown field message.extra"},
		{"key case", `{"v":1,"Type":"hello","seq":4,"payload":{}}`, CodeBadField, 4, "unknown field message.Type"},
		{"duplicate key", `{"v":1,"type":"hello","type":"samples","seq":4,"payload":{}}`, CodeBadField, 0, `"type" twice`},
		{"no type", `{"v":1,"seq":4,"payload":{}}`, CodeBadField, 4, "message.type is missing"},
		{"type not string", `{"v":1,"type":3,"seq":4,"payload":{}}`, CodeBadField, 4, "must be a string"},
		{"no payload", `{"v":1,"type":"hello","seq":4}`, CodeBadField, 4, "payload is missing"},
		{"payload null", `{"v":1,"type":"hello","seq":4,"payload":null}`, CodeBadField, 4, "payload must be a JSON object, got null"},
		{"unknown type", msg("hullo", `{}`), CodeUnknownType, 7, `unknown message type "hullo"`},
		{"server type", msg("welcome", `{}`), CodeUnknownType, 7, "sent by the server"},

		// hello
		{"hello bad role", msg("hello", `{"role":"admin","client":"x"}`), CodeBadField, 7, `"producer" or "viewer"`},
		{"hello no client", msg("hello", `{"role":"viewer"}`), CodeBadField, 7, "payload.client is missing"},
		{"hello empty client", msg("hello", `{"role":"viewer","client":""}`), CodeBadField, 7, "payload.client is empty"},
		{"hello client control", msg("hello", `{"role":"viewer","client":"a\u0007b"}`), CodeBadField, 7, "control characters"},
		{"hello client long", msg("hello", `{"role":"viewer","client":"`+strings.Repeat("é", 101)+`"}`), CodeTooLarge, 7, "202 bytes"},
		{"hello producer snippet", msg("hello", `{"role":"producer","client":"x","snippet":"`+snip+`"}`), CodeBadField, 7, "for viewers"},
		{"hello bad snippet", msg("hello", `{"role":"viewer","client":"x","snippet":"short"}`), CodeBadField, 7, "not a snippet ID"},
		{"hello snippet ends in dash", msg("hello", `{"role":"viewer","client":"x","snippet":"abcDEF1234-"}`), CodeBadField, 7, "not a snippet ID"},
		{"hello unknown field", msg("hello", `{"role":"viewer","client":"x","token":"y"}`), CodeBadField, 7, "unknown field payload.token (allowed: role, client, snippet, coalesce)"},
		{"hello coalesce string", msg("hello", `{"role":"viewer","client":"x","coalesce":"yes"}`), CodeBadField, 7, "payload.coalesce must be true or false"},

		// run.start
		{"run.start no run", msg("run.start", `{}`), CodeBadField, 7, "payload.run is missing"},
		{"run.start flat", msg("run.start", `{"id":"r1"}`), CodeBadField, 7, "unknown field payload.id"},
		{"run.start bad id", msg("run.start", `{"run":{"id":"a.b","snippet":"`+snip+`","runtime":"pyodide"}}`), CodeBadField, 7, "payload.run.id \"a.b\" must be 1 to 64"},
		{"run.start long id", msg("run.start", `{"run":{"id":"`+strings.Repeat("a", 65)+`","snippet":"`+snip+`","runtime":"pyodide"}}`), CodeBadField, 7, "1 to 64"},
		{"run.start empty id", msg("run.start", `{"run":{"id":"","snippet":"`+snip+`","runtime":"pyodide"}}`), CodeBadField, 7, "1 to 64"},
		{"run.start no snippet", msg("run.start", `{"run":{"id":"r1","runtime":"pyodide"}}`), CodeBadField, 7, "payload.run.snippet is missing"},
		{"run.start duplicate runtime", runStartMsg(`,"runtime":"cpython"`), CodeBadField, 7, "twice"},
		{"run.start unknown runtime", msg("run.start", `{"run":{"id":"r1","snippet":"`+snip+`","runtime":"brython"}}`), CodeBadField, 7, `runtime "brython" is unknown; use one of pyodide, micropython, pyscript, cpython-native`},
		{"run.start pyscript unknown interpreter", msg("run.start", `{"run":{"id":"r1","snippet":"`+snip+`","runtime":"pyscript","env":{"interpreter":"brython"}}}`), CodeBadField, 7, `payload.run.env.interpreter must be "pyodide" or "micropython" for runtime pyscript, got "brython"`},
		{"run.start pyscript interpreter not a string", msg("run.start", `{"run":{"id":"r1","snippet":"`+snip+`","runtime":"pyscript","env":{"interpreter":1}}}`), CodeBadField, 7, "payload.run.env.interpreter must be"},
		{"run.start env array", runStartMsg(`,"env":[1]`), CodeBadField, 7, "payload.run.env must be a JSON object"},
		{"run.start env null", runStartMsg(`,"env":null`), CodeBadField, 7, "omit it"},
		{"run.start config string", runStartMsg(`,"config":"{}"`), CodeBadField, 7, "payload.run.config must be a JSON object"},
		{"run.start phases too big", runStartMsg(`,"phases":` + big), CodeTooLarge, 7, "payload.run.phases is 4104 bytes compacted; the limit is 4096"},
		{"run.start env nested duplicate", runStartMsg(`,"env":{"a":{"b":1,"b":2}}`), CodeBadField, 7, `key "b" twice`},
		{"run.start env NUL", runStartMsg(`,"env":{"a":"\u0000"}`), CodeBadField, 7, `\u0000`},
		{"run.start version control", runStartMsg(`,"runtimeVersion":"1\n2"`), CodeBadField, 7, "control characters"},
		{"run.start token not a string", msg("run.start", `{"run":{"id":"r1","snippet":"`+snip+`","runtime":"pyodide"},"token":5}`), CodeBadField, 7, "payload.token must be a string"},
		{"run.start token empty", msg("run.start", `{"run":{"id":"r1","snippet":"`+snip+`","runtime":"pyodide"},"token":""}`), CodeBadField, 7, "payload.token must be 22 to 64"},
		{"run.start token long", msg("run.start", `{"run":{"id":"r1","snippet":"`+snip+`","runtime":"pyodide"},"token":"`+strings.Repeat("t", 65)+`"}`), CodeBadField, 7, "22 to 64"},
		{"run.start token short", msg("run.start", `{"run":{"id":"r1","snippet":"`+snip+`","runtime":"pyodide"},"token":"`+strings.Repeat("t", 21)+`"}`), CodeBadField, 7, "at least 128 random bits"},
		{"run.start token alphabet", msg("run.start", `{"run":{"id":"r1","snippet":"`+snip+`","runtime":"pyodide"},"token":"a b"}`), CodeBadField, 7, "payload.token"},
		{"run.start status", runStartMsg(`,"status":"done"`), CodeBadField, 7, "unknown field payload.run.status"},
		{"run.start ab not object", runStartMsg(`,"ab":"` + abID + `"`), CodeBadField, 7, "payload.run.ab must be a JSON object"},
		{"run.start ab null", runStartMsg(`,"ab":null`), CodeBadField, 7, "payload.run.ab must be a JSON object, got null"},
		{"run.start ab no id", runStartMsg(`,"ab":{"arm":"a","interpreter":0}`), CodeBadField, 7, "payload.run.ab.id is missing"},
		{"run.start ab bad id", runStartMsg(`,"ab":{"id":"short","arm":"a","interpreter":0}`), CodeBadField, 7, `payload.run.ab.id "short" is not an A/B benchmark ID`},
		{"run.start ab bad arm", runStartMsg(`,"ab":{"id":"` + abID + `","arm":"B","interpreter":0}`), CodeBadField, 7, `payload.run.ab.arm must be "a", "b" or "c", got "B"`},
		{"run.start ab no arm", runStartMsg(`,"ab":{"id":"` + abID + `","interpreter":0}`), CodeBadField, 7, "payload.run.ab.arm is missing"},
		{"run.start ab no interpreter", runStartMsg(`,"ab":{"id":"` + abID + `","arm":"a"}`), CodeBadField, 7, "payload.run.ab.interpreter is missing"},
		{"run.start ab negative interpreter", runStartMsg(`,"ab":{"id":"` + abID + `","arm":"a","interpreter":-1}`), CodeBadField, 7, "payload.run.ab.interpreter must be between 0 and 999"},
		{"run.start ab fractional interpreter", runStartMsg(`,"ab":{"id":"` + abID + `","arm":"a","interpreter":1.5}`), CodeBadField, 7, "must be an integer"},
		{"run.start ab unknown field", runStartMsg(`,"ab":{"id":"` + abID + `","arm":"a","interpreter":0,"round":1}`), CodeBadField, 7, "unknown field payload.run.ab.round (allowed: id, arm, interpreter)"},
		{"run.start ab duplicate key", runStartMsg(`,"ab":{"id":"` + abID + `","arm":"a","arm":"b","interpreter":0}`), CodeBadField, 7, `"arm" twice`},
		{"run.start ab pyscript", msg("run.start", `{"run":{"id":"r1","snippet":"`+snip+`","runtime":"pyscript","ab":{"id":"`+abID+`","arm":"a","interpreter":0}}}`), CodeBadField, 7, "runtime pyscript cannot take part in an A/B benchmark"},

		// samples
		{"samples empty", samplesMsg(``), CodeBadField, 7, "payload.samples is empty"},
		{"samples not array", msg("samples", `{"run":"r1","batch":0,"samples":{}}`), CodeBadField, 7, "must be an array"},
		{"samples no batch", msg("samples", `{"run":"r1","samples":[`+good+`]}`), CodeBadField, 7, "payload.batch is missing"},
		{"samples negative batch", msg("samples", `{"run":"r1","batch":-1,"samples":[`+good+`]}`), CodeBadField, 7, "payload.batch must be between 0"},
		{"samples bad run", msg("samples", `{"run":"r 1","batch":0,"samples":[`+good+`]}`), CodeBadField, 7, "payload.run"},
		{"sample not object", samplesMsg(`1`), CodeBadField, 7, "payload.samples[0] must be a JSON object"},
		{"sample negative ns", samplesMsg(`{"seq":0,"warmup":false,"ns":-1,"iters":1}`), CodeBadField, 7, "payload.samples[0].ns must be ≥ 0"},
		{"sample NaN", samplesMsg(good + `,{"seq":1,"warmup":false,"ns":null,"iters":1}`), CodeBadField, 7, "payload.samples[1].ns is null, which is what JSON.stringify makes of NaN"},
		{"sample NaN literal", samplesMsg(`{"seq":0,"warmup":false,"ns":NaN,"iters":1}`), CodeBadJSON, 0, "not valid JSON"},
		{"sample Inf overflow", samplesMsg(`{"seq":0,"warmup":false,"ns":1e400,"iters":1}`), CodeBadField, 7, "out of range"},
		{"sample ns too large", samplesMsg(`{"seq":0,"warmup":false,"ns":1e160,"iters":1}`), CodeBadField, 7, "payload.samples[0].ns is 1e+160 ns per iteration, more than 10¹⁵"},
		{"sample ns string", samplesMsg(`{"seq":0,"warmup":false,"ns":"5","iters":1}`), CodeBadField, 7, "must be a number"},
		{"sample iters zero", samplesMsg(`{"seq":0,"warmup":false,"ns":1,"iters":0}`), CodeBadField, 7, "payload.samples[0].iters must be between 1"},
		{"sample iters fraction", samplesMsg(`{"seq":0,"warmup":false,"ns":1,"iters":1.5}`), CodeBadField, 7, "must be an integer"},
		{"sample no warmup", samplesMsg(`{"seq":0,"ns":1,"iters":1}`), CodeBadField, 7, "payload.samples[0].warmup is missing"},
		{"sample warmup string", samplesMsg(`{"seq":0,"warmup":"no","ns":1,"iters":1}`), CodeBadField, 7, "true or false"},
		{"sample hidden null", samplesMsg(`{"seq":0,"warmup":false,"ns":1,"iters":1,"hidden":null}`), CodeBadField, 7, "true or false"},
		{"sample unknown field", samplesMsg(`{"seq":0,"warmup":false,"ns":1,"iters":1,"ms":2}`), CodeBadField, 7, "unknown field payload.samples[0].ms"},
		{"sample negative seq", samplesMsg(`{"seq":-1,"warmup":false,"ns":1,"iters":1}`), CodeBadField, 7, "payload.samples[0].seq must be between 0"},
		{"sample out of order", samplesMsg(`{"seq":2,"warmup":false,"ns":1,"iters":1},{"seq":1,"warmup":false,"ns":1,"iters":1}`), CodeBadField, 7, "payload.samples[1].seq is 1, not greater than the previous sample's 2"},
		{"sample duplicate seq", samplesMsg(good + `,` + good), CodeBadField, 7, "payload.samples[1].seq is 0, not greater"},
		{"sample duplicate key", samplesMsg(`{"seq":0,"warmup":false,"ns":1,"ns":2,"iters":1}`), CodeBadField, 7, `"ns" twice`},

		// run.end
		{"run.end bad status", msg("run.end", `{"run":"r1","status":"running"}`), CodeBadField, 7, `"running" cannot end a run; use one of done, failed, stopped`},
		{"run.end no status", msg("run.end", `{"run":"r1"}`), CodeBadField, 7, "payload.status is missing"},
		{"run.end error too long", msg("run.end", `{"run":"r1","status":"failed","error":"`+strings.Repeat("x", MaxErrorBytes+1)+`"}`), CodeTooLarge, 7, "payload.error is 4097 bytes"},
		{"run.end error NUL", msg("run.end", `{"run":"r1","status":"failed","error":"a\u0000"}`), CodeBadField, 7, "NUL"},

		// subscribe
		{"subscribe no snippet", msg("subscribe", `{}`), CodeBadField, 7, "payload.snippet is missing"},
		{"subscribe bad snippet", msg("unsubscribe", `{"snippet":"../../etc/passwd"}`), CodeBadField, 7, "not a snippet ID"},
		{"subscribe extra", msg("subscribe", `{"snippet":"`+snip+`","all":true}`), CodeBadField, 7, "unknown field payload.all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode([]byte(tt.in), Limits{})
			var pe *ProtoError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, %v; want a *ProtoError %s", m, err, tt.code)
			}
			if pe.Code != tt.code || pe.Ref != tt.ref || !strings.Contains(pe.Message, tt.msg) {
				t.Errorf("got %s ref %d %q\nwant %s ref %d containing %q", pe.Code, pe.Ref, pe.Message, tt.code, tt.ref, tt.msg)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	l := Limits{MaxMessageBytes: 2000, MaxSamplesPerBatch: 3}
	sample := func(seq int) string {
		return `{"seq":` + strconv.Itoa(seq) + `,"warmup":false,"ns":1,"iters":1}`
	}
	three := samplesMsg(sample(0) + "," + sample(1) + "," + sample(2))
	if _, err := Decode([]byte(three), l); err != nil {
		t.Fatalf("3 samples at a limit of 3: %v", err)
	}
	four := samplesMsg(sample(0) + "," + sample(1) + "," + sample(2) + "," + sample(3))
	assertCode(t, four, l, CodeTooLarge, "payload.samples has more than 3 elements")

	huge := samplesMsg(sample(0)) + strings.Repeat(" ", 2000)
	assertCode(t, huge, l, CodeTooLarge, "the limit is 2000")
	// Defaults apply to zero fields.
	assertCode(t, strings.Repeat(" ", DefaultLimits.MaxMessageBytes+1), Limits{}, CodeTooLarge, "the limit is 65536")

	// The default limits admit a full batch of the longest samples.
	var sb strings.Builder
	for i := range DefaultLimits.MaxSamplesPerBatch {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"seq":` + strconv.Itoa(9007199254740000+i) + `,"warmup":false,"ns":1.2345678901234567e+14,"iters":9007199254740991,"hidden":true}`)
	}
	full := msg("samples", `{"run":"`+strings.Repeat("r", 64)+`","batch":9007199254740991,"samples":[`+sb.String()+`]}`)
	if _, err := Decode([]byte(full), Limits{}); err != nil {
		t.Errorf("full default batch of %d bytes: %v", len(full), err)
	}
	// And a run.start with three full objects.
	obj := `{"k":"` + strings.Repeat("x", MaxObjectBytes-8) + `"}`
	rs := runStartMsg(`,"runtimeVersion":"` + strings.Repeat("v", MaxTextBytes) + `","env":` + obj + `,"config":` + obj + `,"phases":` + obj)
	if _, err := Decode([]byte(rs), Limits{}); err != nil {
		t.Errorf("full run.start: %v", err)
	}
}

func assertCode(t *testing.T, in string, l Limits, code, sub string) {
	t.Helper()
	_, err := Decode([]byte(in), l)
	var pe *ProtoError
	if !errors.As(err, &pe) || pe.Code != code || !strings.Contains(pe.Message, sub) {
		t.Errorf("got %v, want %s containing %q", err, code, sub)
	}
}

func TestNegativeZeroNormalised(t *testing.T) {
	m, err := Decode([]byte(samplesMsg(`{"seq":0,"warmup":false,"ns":-0,"iters":1}`)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := Encode(m)
	if !strings.Contains(string(enc), `"ns":0,`) {
		t.Errorf("-0 not normalised: %s", enc)
	}
}

// Whatever the decoder accepts, the store's own validation accepts too:
// the protocol is the stricter gate.
func TestConversionsPassStoreValidation(t *testing.T) {
	for _, f := range []string{"run-start.json", "run-start-native.json", "run-start-ab.json", "samples.json", "run-end.json"} {
		m, err := Decode(readGood(t, f), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		switch p := m.Payload.(type) {
		case *RunStart:
			r := p.Run.StoreRun()
			if err := r.Validate(); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			if back := RunInfoOf(r); !reflect.DeepEqual(back, p.Run) {
				t.Errorf("%s: RunInfoOf(StoreRun()) = %+v, want %+v", f, back, p.Run)
			}
		case *SampleBatch:
			b := p.StoreBatch()
			if err := b.Validate(); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			if b.RunID != p.Run || b.Seq != p.Batch || len(b.Samples) != 4 {
				t.Errorf("%s: got %+v", f, b)
			}
			if back := SampleBatchOf(b); !reflect.DeepEqual(back, p) {
				t.Errorf("%s: SampleBatchOf(StoreBatch()) = %+v", f, back)
			}
		case *RunEnd:
			if err := snippets.ValidateFinish(p.Status, p.Error); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
}

func TestFromStoreError(t *testing.T) {
	tests := []struct {
		err  error
		code string
		msg  string
	}{
		{snippets.Errorf(snippets.NotFound, "snippet x not found"), CodeNotFound, "snippet x not found"},
		{snippets.Errorf(snippets.Conflict, "run r belongs to another snippet"), CodeConflict, "another snippet"},
		{snippets.Errorf(snippets.Invalid, "bad"), CodeBadField, "bad"},
		{snippets.Errorf(snippets.TooLarge, "big"), CodeTooLarge, "big"},
		{snippets.Errorf(snippets.Unavailable, "dial tcp 10.0.0.5:5432: refused"), CodeUnavailable, "resend after a short delay"},
		{errors.New("pq: secret internals"), CodeInternal, "internal error"},
		{&ProtoError{Code: CodeRateLimited, Message: "slow down"}, CodeRateLimited, "slow down"},
	}
	for _, tt := range tests {
		pe := FromStoreError(fmtWrap(tt.err), 9)
		if pe.Code != tt.code || pe.Ref != 9 || !strings.Contains(pe.Message, tt.msg) {
			t.Errorf("%v: got %+v, want %s %q", tt.err, pe, tt.code, tt.msg)
		}
		if strings.Contains(pe.Message, "10.0.0.5") || strings.Contains(pe.Message, "pq:") {
			t.Errorf("internal detail leaked: %q", pe.Message)
		}
	}
}

func fmtWrap(err error) error { return errors.Join(err) }

// BenchmarkDecodeFullBatch measures the worst case the default limits
// admit: a samples message with 500 samples.
func BenchmarkDecodeFullBatch(b *testing.B) {
	var sb strings.Builder
	for i := range DefaultLimits.MaxSamplesPerBatch {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"seq":` + strconv.Itoa(i) + `,"warmup":false,"ns":12345678.9,"iters":16,"hidden":false}`)
	}
	data := []byte(samplesMsg(sb.String()))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
