package benchproto

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestSession(t *testing.T) {
	const other = "Zz0-_9aaaaB"
	hello := func(seq int64, r Role, snippet string) *Message {
		return &Message{V: 1, Type: TypeHello, Seq: seq, Payload: &Hello{Role: r, Client: "test", Snippet: snippet}}
	}
	start := func(seq int64, run, snippet string) *Message {
		return &Message{V: 1, Type: TypeRunStart, Seq: seq, Payload: &RunStart{Run: RunInfo{ID: run, Snippet: snippet, Runtime: "pyodide"}}}
	}
	batch := func(seq int64, run string) *Message {
		return &Message{V: 1, Type: TypeSamples, Seq: seq, Payload: &SampleBatch{Run: run}}
	}
	end := func(seq int64, run string) *Message {
		return &Message{V: 1, Type: TypeRunEnd, Seq: seq, Payload: &RunEnd{Run: run, Status: "done"}}
	}
	sub := func(seq int64, typ, snippet string) *Message {
		return &Message{V: 1, Type: typ, Seq: seq, Payload: &Subscription{Snippet: snippet}}
	}
	type step struct {
		m    *Message
		code string // "" for accepted
		msg  string
	}
	tests := []struct {
		name  string
		steps []step
		subs  []string
	}{
		{"producer happy path", []step{
			{hello(1, Producer, ""), "", ""},
			{start(2, "r1", snip), "", ""},
			{batch(3, "r1"), "", ""},
			{batch(4, "r1"), "", ""},
			{end(5, "r1"), "", ""},
			{batch(6, "r1"), "", ""}, // flushing after run.end is allowed
		}, nil},
		{"hello first", []step{
			{start(1, "r1", snip), CodeNotAllowed, "send hello before run.start"},
			{hello(2, Producer, ""), "", ""},
		}, nil},
		{"hello once", []step{
			{hello(1, Viewer, ""), "", ""},
			{hello(2, Viewer, ""), CodeNotAllowed, "already"},
		}, nil},
		{"seq must increase", []step{
			{hello(5, Producer, ""), "", ""},
			{start(5, "r1", snip), CodeBadSeq, "seq 5 is not greater than the previous seq 5"},
			{start(4, "r1", snip), CodeBadSeq, "not greater"},
			{start(9, "r1", snip), "", ""}, // gaps are fine
		}, nil},
		{"rejected message still uses its seq", []step{
			{hello(1, Viewer, ""), "", ""},
			{start(2, "r1", snip), CodeNotAllowed, "run.start is for producers; this connection said hello as a viewer"},
			{start(2, "r1", snip), CodeBadSeq, ""},
		}, nil},
		{"samples need run.start", []step{
			{hello(1, Producer, ""), "", ""},
			{batch(2, "r1"), CodeNotAllowed, `run "r1" was not started on this connection`},
			{end(3, "r1"), CodeNotAllowed, "send run.start first"},
		}, nil},
		{"repeated run.start", []step{
			{hello(1, Producer, ""), "", ""},
			{start(2, "r1", snip), "", ""},
			{start(3, "r1", snip), "", ""},
			{start(4, "r1", other), CodeConflict, "a run belongs to one snippet"},
		}, nil},
		{"viewer subscriptions", []step{
			{hello(1, Viewer, snip), "", ""},
			{sub(2, TypeSubscribe, other), "", ""},
			{sub(3, TypeSubscribe, other), "", ""},
			{sub(4, TypeUnsubscribe, snip), "", ""},
			{sub(5, TypeUnsubscribe, snip), "", ""}, // not subscribed: a no-op
			{batch(6, "r1"), CodeNotAllowed, "samples is for producers"},
		}, []string{other}},
		{"producer cannot subscribe", []step{
			{hello(1, Producer, ""), "", ""},
			{sub(2, TypeSubscribe, snip), CodeNotAllowed, "subscribe is for viewers"},
		}, nil},
		{"server message", []step{
			{hello(1, Producer, ""), "", ""},
			{AckMessage(1, "", -1, false), CodeBadSeq, ""}, // seq 0
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSession(Limits{})
			for i, st := range tt.steps {
				err := s.Accept(st.m)
				if st.code == "" {
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					continue
				}
				var pe *ProtoError
				if !errors.As(err, &pe) || pe.Code != st.code || !strings.Contains(pe.Message, st.msg) || pe.Ref != st.m.Seq {
					t.Fatalf("step %d: got %v, want %s (ref %d) containing %q", i, err, st.code, st.m.Seq, st.msg)
				}
			}
			if got := s.Subscriptions(); tt.subs != nil && !reflect.DeepEqual(got, tt.subs) {
				t.Errorf("subscriptions %v, want %v", got, tt.subs)
			}
		})
	}
}

func TestSessionLimits(t *testing.T) {
	s := NewSession(Limits{MaxSubscriptions: 2})
	must := func(m *Message) {
		t.Helper()
		if err := s.Accept(m); err != nil {
			t.Fatal(err)
		}
	}
	must(&Message{Seq: 1, Type: TypeHello, Payload: &Hello{Role: Viewer, Client: "t", Snippet: "aaaaaaaaaaa"}})
	must(&Message{Seq: 2, Type: TypeSubscribe, Payload: &Subscription{Snippet: "bbbbbbbbbbb"}})
	must(&Message{Seq: 3, Type: TypeSubscribe, Payload: &Subscription{Snippet: "bbbbbbbbbbb"}}) // already counted
	err := s.Accept(&Message{Seq: 4, Type: TypeSubscribe, Payload: &Subscription{Snippet: "ccccccccccc"}})
	if pe, ok := err.(*ProtoError); !ok || pe.Code != CodeTooLarge {
		t.Fatalf("third subscription: got %v, want too_large", err)
	}
	must(&Message{Seq: 5, Type: TypeUnsubscribe, Payload: &Subscription{Snippet: "aaaaaaaaaaa"}})
	must(&Message{Seq: 6, Type: TypeSubscribe, Payload: &Subscription{Snippet: "ccccccccccc"}})

	p := NewSession(Limits{})
	seq := int64(1)
	next := func(payload any, typ string) error {
		seq++
		return p.Accept(&Message{Seq: seq, Type: typ, Payload: payload})
	}
	if err := next(&Hello{Role: Producer, Client: "t"}, TypeHello); err != nil {
		t.Fatal(err)
	}
	for i := range maxRunsPerSession {
		if err := next(&RunStart{Run: RunInfo{ID: "r" + strconv.Itoa(i), Snippet: snip}}, TypeRunStart); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if err := next(&RunStart{Run: RunInfo{ID: "one-more", Snippet: snip}}, TypeRunStart); err == nil || err.(*ProtoError).Code != CodeTooLarge {
		t.Fatalf("run %d: got %v, want too_large", maxRunsPerSession, err)
	}
	if got, ok := p.RunSnippet("r7"); !ok || got != snip {
		t.Errorf("RunSnippet(r7) = %q, %v", got, ok)
	}
	if p.Role() != Producer || p.Client() != "t" || !strings.Contains(p.String(), "256 runs") {
		t.Errorf("role %q client %q string %q", p.Role(), p.Client(), p)
	}
}
