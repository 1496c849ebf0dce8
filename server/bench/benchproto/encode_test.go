package benchproto

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/pyplay/pyplay/snippets"
)

func TestServerMessages(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 30, 0, 123000000, time.UTC)
	info := RunInfo{ID: "r1", Snippet: snip, Runtime: "micropython", Env: []byte(`{"cores":2}`)}
	batch := &SampleBatch{Run: "r1", Batch: 0, Samples: []snippets.Sample{{Seq: 0, NsPerIter: 1.5, Iterations: 2}, {Seq: 1, Warmup: true, NsPerIter: 3, Iterations: 1, Hidden: true}}}
	tests := []struct {
		m    *Message
		wire string
	}{
		{WelcomeMessage("pyplay/1.0.0", Limits{MaxSamplesPerBatch: 100}),
			`{"v":1,"type":"welcome","payload":{"server":"pyplay/1.0.0","protocol":1,"limits":{"maxMessageBytes":65536,"maxSamplesPerBatch":100,"maxBatchesPerSecond":10,"maxSubscriptions":32,"maxSamplesPerRun":20000,"maxRunsPerSnippet":1000}}}`},
		{RunStartAck(2, "r1", "tok-EN_1", false),
			`{"v":1,"type":"ack","payload":{"ack":2,"run":"r1","duplicate":false,"token":"tok-EN_1"}}`},
		{ErrorMessage(&ProtoError{Code: CodeUnavailable, Message: "disk low", Ref: 5, RetryAfter: 1500 * time.Millisecond}),
			`{"v":1,"type":"error","payload":{"code":"unavailable","message":"disk low","ref":5,"retryAfterMs":1500}}`},
		{AckMessage(3, "r1", 0, true),
			`{"v":1,"type":"ack","payload":{"ack":3,"run":"r1","batch":0,"duplicate":true}}`},
		{AckMessage(1, "", -1, false),
			`{"v":1,"type":"ack","payload":{"ack":1,"duplicate":false}}`},
		{ErrorMessage(&ProtoError{Code: CodeRateLimited, Message: "slow <down>", Ref: 4}),
			`{"v":1,"type":"error","payload":{"code":"rate_limited","message":"slow <down>","ref":4}}`},
		{ErrorMessage(&ProtoError{Code: CodeBadJSON, Message: "x"}),
			`{"v":1,"type":"error","payload":{"code":"bad_json","message":"x"}}`},
		{RunStartedMessage(info, at.In(time.FixedZone("CET", 3600))),
			`{"v":1,"type":"run.started","payload":{"run":{"id":"r1","snippet":"abcDEF12345","runtime":"micropython","env":{"cores":2}},"created":"2025-03-01T12:30:00.123Z"}}`},
		{RunSamplesMessage(snip, batch),
			`{"v":1,"type":"samples","payload":{"run":"r1","snippet":"abcDEF12345","batch":0,"samples":[{"seq":0,"warmup":false,"ns":1.5,"iters":2},{"seq":1,"warmup":true,"ns":3,"iters":1,"hidden":true}]}}`},
		{RunEndedMessage(snip, &RunEnd{Run: "r1", Status: "stopped"}, at),
			`{"v":1,"type":"run.ended","payload":{"run":"r1","snippet":"abcDEF12345","status":"stopped","finished":"2025-03-01T12:30:00.123Z"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.m.Type, func(t *testing.T) {
			b, err := Encode(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.wire {
				t.Fatalf("wire\n got %s\nwant %s", b, tt.wire)
			}
			back, err := DecodeServer(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tt.m) {
				t.Errorf("DecodeServer = %#v, want %#v", back.Payload, tt.m.Payload)
			}
		})
	}
}

func TestDecodeServerTolerant(t *testing.T) {
	m, err := DecodeServer([]byte(`{"v":1,"type":"ack","payload":{"ack":2,"duplicate":false,"newField":1},"trace":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if a := m.Payload.(*Ack); a.Ack != 2 || a.Batch != nil {
		t.Errorf("got %+v", a)
	}
	for in, code := range map[string]string{
		`{"v":1,"type":"gossip","payload":{}}`: CodeUnknownType,
		`{"v":2,"type":"ack","payload":{}}`:    CodeBadVersion,
		`[]`:                                   CodeBadJSON,
		`{"v":1,"type":"ack","payload":{"ack":"x"}}`: CodeBadField,
	} {
		if _, err := DecodeServer([]byte(in)); err == nil || err.(*ProtoError).Code != code {
			t.Errorf("%s: got %v, want %s", in, err, code)
		}
	}
}

func TestTopic(t *testing.T) {
	if Topic(snip) != "snippet:"+snip {
		t.Error(Topic(snip))
	}
}

func TestSplitFrame(t *testing.T) {
	a, b := `{"v":1,"type":"ack","payload":{"ack":1}}`, `{"v":1,"type":"error","payload":{"code":"x","message":"a]b,\"}{"}}`
	tests := []struct {
		name, frame string
		want        []string // nil: an error
	}{
		{"one message", a, []string{a}},
		{"array of one", "[" + a + "]", []string{a}},
		{"array", "[" + a + "," + b + "," + a + "]", []string{a, b, a}},
		{"spaces", " [ " + a + " ,\n" + b + " ] ", []string{a, b}},
		{"empty array", "[]", nil},
		{"not objects", `[1,2]`, nil},
		{"unclosed", "[" + a + "," + b, nil},
		{"no comma", "[" + a + b + "]", nil},
		{"trailing data", "[" + a + "]x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitFrame([]byte(tt.frame))
			if tt.want == nil {
				var pe *ProtoError
				if !errors.As(err, &pe) || pe.Code != CodeBadJSON {
					t.Fatalf("SplitFrame(%s) = %q, %v; want a bad_json error", tt.frame, got, err)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("SplitFrame(%s) = %q, %v; want %q", tt.frame, got, err, tt.want)
			}
			for i := range got {
				if string(got[i]) != tt.want[i] {
					t.Errorf("message %d: %s, want %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}
