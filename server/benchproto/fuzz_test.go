package benchproto

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
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
