package benchproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pyplay/pyplay/snippets/strictjson"
)

// Encode returns m as one JSON text without a trailing newline, ready to be
// one WebSocket frame. HTML characters are not escaped: the protocol is
// read by programs, and escaping would make re-encoded raw objects (env,
// config, phases) differ from the bytes that were decoded.
func Encode(m *Message) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("benchproto: encode %s: %w", m.Type, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func serverMessage(typ string, payload any) *Message {
	return &Message{V: Version, Type: typ, Payload: payload}
}

// WelcomeMessage answers hello, announcing the server's name and version
// (e.g. "pyplay/1.2.0") and the limits it enforces.
func WelcomeMessage(server string, l Limits) *Message {
	return serverMessage(TypeWelcome, &Welcome{Server: server, Protocol: Version, Limits: l.WithDefaults()})
}

// AckMessage acknowledges the client message with seq ref. Pass the run
// for run.start, run.end and samples, and the batch number for samples
// (batch < 0 leaves it out). duplicate reports that the store already had
// it.
func AckMessage(ref int64, run string, batch int, duplicate bool) *Message {
	a := &Ack{Ack: ref, Run: run, Duplicate: duplicate}
	if batch >= 0 {
		a.Batch = &batch
	}
	return serverMessage(TypeAck, a)
}

// ErrorMessage reports e to the client.
func ErrorMessage(e *ProtoError) *Message {
	info := &ErrorInfo{Code: e.Code, Message: e.Message, Ref: e.Ref}
	if e.RetryAfter > 0 {
		info.RetryAfterMs = max(1, e.RetryAfter.Milliseconds())
	}
	return serverMessage(TypeError, info)
}

// RunStartAck acknowledges the run.start with seq ref of run, handing its
// producer the run's token (see RunStart.Token).
func RunStartAck(ref int64, run, token string, duplicate bool) *Message {
	return serverMessage(TypeAck, &Ack{Ack: ref, Run: run, Token: token, Duplicate: duplicate})
}

// RunStartedMessage tells viewers about a new run; created is the store's
// creation time.
func RunStartedMessage(r RunInfo, created time.Time) *Message {
	return serverMessage(TypeRunStarted, &RunStarted{Run: r, Created: created.UTC()})
}

// RunSamplesMessage forwards a stored batch of a run of the given snippet
// to viewers.
func RunSamplesMessage(snippet string, b *SampleBatch) *Message {
	return serverMessage(TypeSamples, &RunSamples{Run: b.Run, Snippet: snippet, Batch: b.Batch, Samples: b.Samples})
}

// RunEndedMessage tells viewers that a run of the given snippet ended.
func RunEndedMessage(snippet string, e *RunEnd, finished time.Time) *Message {
	return serverMessage(TypeRunEnded, &RunEnded{Run: e.Run, Snippet: snippet, Status: e.Status, Error: e.Error, Finished: finished.UTC()})
}

// DecodeServer parses a message from the server, for Go clients such as
// `pyplay bench-native` and tests. Unlike Decode it ignores unknown fields:
// a server may add fields within protocol version 1, and clients must
// tolerate that. A type it does not know is an unknown_type error the
// client may skip.
func DecodeServer(data []byte) (*Message, error) {
	var env struct {
		V       int             `json:"v"`
		Type    string          `json:"type"`
		Seq     int64           `json:"seq"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, errorf(CodeBadJSON, "server message is not a JSON object: %v", err)
	}
	if env.V != Version {
		return nil, errorf(CodeBadVersion, "server speaks protocol version %d; this client speaks %d", env.V, Version)
	}
	var p any
	switch env.Type {
	case TypeWelcome:
		p = &Welcome{}
	case TypeAck:
		p = &Ack{}
	case TypeError:
		p = &ErrorInfo{}
	case TypeRunStarted:
		p = &RunStarted{}
	case TypeSamples:
		p = &RunSamples{}
	case TypeRunEnded:
		p = &RunEnded{}
	default:
		return nil, errorf(CodeUnknownType, "unknown server message type %q", shorten(env.Type))
	}
	if err := json.Unmarshal(env.Payload, p); err != nil {
		return nil, errorf(CodeBadField, "%s payload: %v", env.Type, err)
	}
	return &Message{V: env.V, Type: env.Type, Seq: env.Seq, Payload: p}, nil
}

// SplitFrame returns the messages of one frame from the server, for
// DecodeServer: the frame itself when it holds one message (a JSON
// object), or the elements of the JSON array of messages that the server
// sends to clients that asked for coalesced frames (Hello.Coalesce). The
// messages share data's memory. It checks the array's punctuation only;
// DecodeServer checks each message.
func SplitFrame(data []byte) ([][]byte, error) {
	sc := strictjson.Scanner{Data: data}
	sc.SkipSpace()
	if sc.Peek() != '[' {
		return [][]byte{data}, nil
	}
	sc.Pos++
	var msgs [][]byte
	for {
		sc.SkipSpace()
		if sc.Peek() != '{' {
			return nil, errorf(CodeBadJSON, "server frame: element %d of the array is not a JSON object", len(msgs))
		}
		msgs = append(msgs, sc.Value())
		sc.SkipSpace()
		switch sc.Peek() {
		case ',':
			sc.Pos++
			continue
		case ']':
			sc.Pos++
			sc.SkipSpace()
			if sc.Pos != len(data) {
				return nil, errorf(CodeBadJSON, "server frame: data after the array of messages")
			}
			return msgs, nil
		}
		return nil, errorf(CodeBadJSON, "server frame: the array of messages is not closed")
	}
}
