package benchproto_test

import (
	"errors"
	"fmt"

	"github.com/pyplay/pyplay/server/bench/benchproto"
)

// The server's read loop for one connection: decode, check against the
// session, act, answer. Storing and publishing are stubbed out here.
func Example() {
	limits := benchproto.Limits{}
	session := benchproto.NewSession(limits)
	reply := func(m *benchproto.Message) {
		b, _ := benchproto.Encode(m)
		fmt.Println(string(b))
	}
	frames := []string{
		`{"v":1,"type":"hello","seq":1,"payload":{"role":"producer","client":"example/1"}}`,
		`{"v":1,"type":"run.start","seq":2,"payload":{"run":{"id":"r1","snippet":"abcDEF12345","runtime":"pyodide"}}}`,
		`{"v":1,"type":"samples","seq":3,"payload":{"run":"r1","batch":0,"samples":[{"seq":0,"warmup":false,"ns":null,"iters":1}]}}`,
		`{"v":1,"type":"samples","seq":4,"payload":{"run":"r1","batch":0,"samples":[{"seq":0,"warmup":false,"ns":1200,"iters":1}]}}`,
	}
	for _, f := range frames {
		m, err := benchproto.Decode([]byte(f), limits)
		if err == nil {
			err = session.Accept(m)
		}
		var pe *benchproto.ProtoError
		if errors.As(err, &pe) {
			reply(benchproto.ErrorMessage(pe))
			continue
		}
		switch p := m.Payload.(type) {
		case *benchproto.Hello:
			reply(benchproto.WelcomeMessage("pyplay/dev", limits))
		case *benchproto.RunStart:
			// store.CreateRun(ctx, p.Run.StoreRun()), then publish
			// RunStartedMessage to benchproto.Topic(p.Run.Snippet).
			reply(benchproto.AckMessage(m.Seq, p.Run.ID, -1, false))
		case *benchproto.SampleBatch:
			// stored, err := store.AppendBatch(ctx, p.StoreBatch()); if
			// stored, publish RunSamplesMessage(snippet, p) where snippet
			// comes from session.RunSnippet(p.Run).
			reply(benchproto.AckMessage(m.Seq, p.Run, p.Batch, false))
		}
	}
	// Output:
	// {"v":1,"type":"welcome","payload":{"server":"pyplay/dev","protocol":1,"limits":{"maxMessageBytes":65536,"maxSamplesPerBatch":500,"maxBatchesPerSecond":10,"maxSubscriptions":32,"maxSamplesPerRun":20000,"maxRunsPerSnippet":1000}}}
	// {"v":1,"type":"ack","payload":{"ack":2,"run":"r1","duplicate":false}}
	// {"v":1,"type":"error","payload":{"code":"bad_field","message":"payload.samples[0].ns is null, which is what JSON.stringify makes of NaN or Infinity; send a finite number ≥ 0","ref":3}}
	// {"v":1,"type":"ack","payload":{"ack":4,"run":"r1","batch":0,"duplicate":false}}
}
