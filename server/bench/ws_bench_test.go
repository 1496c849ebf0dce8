package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pyplay/pyplay/server/bench/benchproto"
)

// BenchmarkWSBatch measures the server's work per samples message: decode,
// check, store in SQLite (one transaction, fsync), acknowledge, and fan out
// to 20 viewers, each reading on its own goroutine. The producer waits for
// each ack, so this is the latency of one batch, not throughput.
func BenchmarkWSBatch(b *testing.B) {
	for _, n := range []int{25, 500} {
		b.Run(fmt.Sprintf("samples=%d", n), func(b *testing.B) {
			e := newBenchEnv(b, WSConfig{Limits: benchproto.Limits{MaxBatchesPerSecond: 1 << 20}})
			for range 20 {
				v := e.viewer(b)
				v.conn.SetReadDeadline(time.Time{}) // Next set one for welcome
				go func() {
					for {
						if _, _, err := v.conn.ReadMessage(); err != nil {
							return
						}
					}
				}()
			}
			conn, _, err := websocket.DefaultDialer.Dial(e.url, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			p := &rawClient{t: b, conn: conn}
			p.hello("producer")
			p.startRun("bench", e.snippet)
			conn.SetReadDeadline(time.Time{}) // rawClient set one for its reads
			frames := make([][]byte, b.N)
			for i := range frames {
				m := &benchproto.Message{V: 1, Type: "samples", Seq: int64(i + 3), Payload: samplesPayload("bench", i, i*n, n)}
				frames[i], _ = benchproto.Encode(m)
			}
			b.ResetTimer()
			for i := range b.N {
				if err := conn.WriteMessage(websocket.TextMessage, frames[i]); err != nil {
					b.Fatal(err)
				}
				if _, _, err := conn.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
