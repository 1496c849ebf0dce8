package benchproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecode checks the decoder's two promises on arbitrary input: it never
// panics and fails only with a *ProtoError, and whatever it accepts
// re-encodes to bytes that decode to the same value. The seeds are the
// example messages of docs/protocol.md (testdata/good) plus the corpus in
// testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "good", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	limits := Limits{MaxMessageBytes: 8 << 10, MaxSamplesPerBatch: 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data, limits)
		if err != nil {
			var pe *ProtoError
			if !errors.As(err, &pe) || pe.Code == "" || pe.Message == "" {
				t.Fatalf("error %v is not a complete *ProtoError", err)
			}
			return
		}
		enc, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode after Decode: %v", err)
		}
		// Re-encoding may grow a message (U+2028 is always escaped), so the
		// size limit is lifted for the second decode.
		again, err := Decode(enc, Limits{MaxMessageBytes: 1 << 20, MaxSamplesPerBatch: limits.MaxSamplesPerBatch})
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip changed the message:\n%#v\n%#v", m.Payload, again.Payload)
		}
	})
}

// FuzzSplitFrame checks that SplitFrame never panics on what a server (or
// something pretending to be one) sends, and that an array of valid
// messages, however spaced, splits back into those messages.
func FuzzSplitFrame(f *testing.F) {
	f.Add([]byte(`{"v":1,"type":"ack","payload":{"ack":1}}`), 2, " ")
	f.Add([]byte(`{"v":1,"type":"error","payload":{"message":"]\"["}}`), 3, "\n")
	f.Fuzz(func(t *testing.T, msg []byte, n int, space string) {
		SplitFrame(msg) // must not panic
		if !json.Valid(msg) || len(msg) == 0 || msg[0] != '{' || strings.Trim(space, " \t\r\n") != "" || n < 1 || n > 20 {
			return
		}
		frame := []byte("[" + space)
		for i := range n {
			if i > 0 {
				frame = append(frame, space+","+space...)
			}
			frame = append(frame, msg...)
		}
		frame = append(frame, space+"]"...)
		got, err := SplitFrame(frame)
		if err != nil || len(got) != n {
			t.Fatalf("SplitFrame(%s) = %d messages, %v; want %d", frame, len(got), err, n)
		}
		for _, m := range got {
			if !bytes.Equal(m, msg) {
				t.Fatalf("got %s, want %s", m, msg)
			}
		}
	})
}
